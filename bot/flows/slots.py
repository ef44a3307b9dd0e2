"""Names of the conversation slots the engine and the actions share."""

LANG = "lang"
# Consecutive turns the bot could not answer; the second one hands over to a person.
MISSES = "misses"
# What a plain "yes"/"no" answers, e.g. "handoff" after the bot offered a person.
PENDING_OFFER = "pending_offer"
# Set to True by an action to hand the conversation to a human agent.
HANDOFF = "handoff"
# The status of the conversation when the turn started (read-only for actions).
STATUS = "status"
