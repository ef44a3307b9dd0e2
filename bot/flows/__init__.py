"""The actions behind intents, written as rasa-sdk Actions.

The engine runs them in-process; ``python -m rasa_sdk --actions bot.flows``
serves the same actions to an existing Rasa assistant.
"""

from bot.flows.conversation import (
    ActionFallback,
    ActionHandoff,
    ActionNotYetAvailable,
    ActionPhotoReceived,
    ActionSmallTalk,
)
from bot.flows.catalog import ActionProductSearch
from bot.flows.faq import ActionAnswerFaq, ActionClarify, ActionShippingQuote
from bot.flows.asking import ActionAskFlowSlot
from bot.flows.forms import ValidateOrderStatusForm, ValidatePaymentConfirmationForm, ValidatePlaceOrderForm
from bot.flows.support import ActionCreateTicket, ActionHandoffTicket
from bot.flows.ordering import ActionConfirmPayment, ActionHandoffDetails, ActionOrderStatus, ActionPlaceOrder

__all__ = [
    "ActionCreateTicket",
    "ActionHandoffTicket",
    "ActionAskFlowSlot",
    "ActionConfirmPayment",
    "ActionHandoffDetails",
    "ActionOrderStatus",
    "ActionPlaceOrder",
    "ValidateOrderStatusForm",
    "ValidatePaymentConfirmationForm",
    "ValidatePlaceOrderForm",
    "ActionAnswerFaq",
    "ActionClarify",
    "ActionShippingQuote",
    "ActionFallback",
    "ActionHandoff",
    "ActionNotYetAvailable",
    "ActionPhotoReceived",
    "ActionProductSearch",
    "ActionSmallTalk",
]
