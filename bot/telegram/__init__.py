"""The Telegram channel: python-telegram-bot on the server's own event loop.

- :mod:`bot.telegram.render` turns the engine's messages into Telegram sends
  (plain text split at Telegram's limit, inline keyboards, the share-contact button);
- :mod:`bot.telegram.db` keeps chats, the outbox, broadcasts and the sender lease;
- :mod:`bot.telegram.channel` receives updates (long polling or webhook), runs
  turns through the engine and sends the outbox;
- :mod:`bot.telegram.broadcasts` records announcements and reports on them
  (``sapa telegram broadcast``).

Like every channel it knows no flows: a button press is its payload sent as text.
"""

CHANNEL = "telegram"
