"""A simulated caller that drives ICE → PIE… → DiCE through the runtime (``simulate.caller``)."""

#: Put in ``press`` to hang up at that point of the call.
HANGUP = "hangup"
