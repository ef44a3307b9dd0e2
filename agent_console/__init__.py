"""The agent console: Jinja2 pages and a little plain JavaScript under ``/console/``.

Agents log in, see the inbox of conversations that need a person (live over one
WebSocket per tab), take a conversation over, reply on the customer's channel,
use canned responses, keep private notes, transfer, hand back to the bot and
resolve; admins also manage agents, canned responses and orders and read the
numbers. See :mod:`agent_console.routes` for the routes and the README's
"Agent console" section for what it does and how it is secured.
"""

from agent_console.routes import add_routes, install, setup

__all__ = ["add_routes", "install", "setup"]
