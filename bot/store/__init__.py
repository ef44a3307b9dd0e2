"""Persistence: customers, conversations and messages (SQLite or PostgreSQL).

Use :class:`Store`; it speaks only in the records of :mod:`bot.store.records`.
"""

from bot.store.db import Store, utc_now
from bot.store.engines import DEFAULT_URL
from bot.store.records import (
    ConversationChanges,
    ConversationRecord,
    CustomerRecord,
    NewMessage,
    StoredMessage,
    TurnRecord,
)
from bot.store.writer import WriterClosed
from bot.store.turns import ConversationNotFound
from bot.store.writes import CustomerNotFound

__all__ = [
    "DEFAULT_URL",
    "ConversationChanges",
    "ConversationNotFound",
    "ConversationRecord",
    "CustomerNotFound",
    "CustomerRecord",
    "NewMessage",
    "Store",
    "StoredMessage",
    "TurnRecord",
    "WriterClosed",
    "utc_now",
]
