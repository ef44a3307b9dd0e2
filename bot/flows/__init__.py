"""The actions behind intents, written as rasa-sdk Actions.

The engine runs them in-process; ``python -m rasa_sdk --actions bot.flows``
serves the same actions to an existing Rasa assistant.
"""

from bot.flows.conversation import (
    ActionFallback,
    ActionHandoff,
    ActionNotYetAvailable,
    ActionSmallTalk,
)
from bot.flows.catalog import ActionProductSearch
from bot.flows.faq import ActionAnswerFaq, ActionClarify

__all__ = [
    "ActionAnswerFaq",
    "ActionClarify",
    "ActionFallback",
    "ActionHandoff",
    "ActionNotYetAvailable",
    "ActionProductSearch",
    "ActionSmallTalk",
]
