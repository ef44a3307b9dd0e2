"""Names of the conversation slots the engine and the actions share."""

LANG = "lang"
# Consecutive turns the bot could not answer; the second one hands over to a person.
MISSES = "misses"
# What a plain "yes"/"no" answers, e.g. "handoff" after the bot offered a person.
PENDING_OFFER = "pending_offer"
# A photo sent on its own outside a flow (its attachment dict): the flow the customer
# then picks (payment confirmation, complaint) takes it as its photo.
PENDING_PHOTO = "pending_photo"
# Set to True by an action to hand the conversation to a human agent.
HANDOFF = "handoff"
# The status of the conversation when the turn started (read-only for actions).
STATUS = "status"
# Whether the conversation already had messages before this turn (read-only for actions):
# the bot has said hello, so an FAQ answer does not open with "Halo Kak!" again.
ALREADY_TALKING = "already_talking"

# --- flows (see bot/dialogue.py) ---
# The running flow's name and the slot it is asking for (Rasa's ``requested_slot``).
FLOW = "flow"
REQUESTED_SLOT = "requested_slot"
# Set by a validation to stop the flow (e.g. too many failed verifications).
FLOW_ABORT = "flow_abort"
# The order flow's cart: a list of line dicts (sku, product_sku, name, options,
# quantity, unit_price, weight_grams); the chosen courier's name and cost.
CART = "cart"
COURIER_NAME = "courier_name"
SHIPPING_COST = "shipping_cost"
# Order numbers this conversation proved are theirs, failed proofs in a row, and
# until when lookups are locked after too many (ISO time).
VERIFIED_ORDERS = "verified_orders"
LOOKUP_FAILURES = "lookup_failures"
LOOKUP_LOCKED_UNTIL = "lookup_locked_until"
# The conversation's ids, for actions that record something (read-only).
CONVERSATION_ID = "conversation_id"
CUSTOMER_ID = "customer_id"
# One id per run of a flow; the order flow's idempotency key (a double-clicked
# "confirm" places one order).
FLOW_RUN_ID = "flow_run_id"
# The customer's name as the shop already knows it (widget pre-chat form), offered as a button.
CUSTOMER_DISPLAY_NAME = "customer_display_name"
# The conversation's ticket number, once a complaint or handoff opened one.
TICKET_ID = "ticket_id"
