"""Names of the built-in intents (DESIGN.md) and how the engine groups them."""

GREET = "greet"
GOODBYE = "goodbye"
THANKS = "thanks"
AFFIRM = "affirm"
DENY = "deny"
CANCEL = "cancel"
HELP = "help"
HUMAN_HANDOFF = "human_handoff"
COMPLAINT = "complaint"
ORDER_STATUS = "order_status"
PLACE_ORDER = "place_order"
PAYMENT_CONFIRMATION = "payment_confirmation"
PRODUCT_SEARCH = "product_search"
FEEDBACK = "feedback"
OUT_OF_SCOPE = "out_of_scope"

BUILTIN = (
    GREET, GOODBYE, THANKS, AFFIRM, DENY, CANCEL, HELP, HUMAN_HANDOFF, COMPLAINT,
    ORDER_STATUS, PLACE_ORDER, PAYMENT_CONFIRMATION, PRODUCT_SEARCH, FEEDBACK, OUT_OF_SCOPE,
)

FAQ_PREFIX = "faq/"
# A button that picks one value in a flow: "/choose:BTK-KMJ-001-L-BIRU".
CHOICE_PREFIX = "/choose:"


def is_faq(intent: str) -> bool:
    return intent.startswith(FAQ_PREFIX)
