"""One error hierarchy for every channel."""


class DeliveryError(Exception):
    """A message could not be delivered."""


class TemporaryDeliveryError(DeliveryError):
    """Try again later (network trouble, provider overloaded)."""


class PermanentDeliveryError(DeliveryError):
    """Do not retry on this channel (number does not exist, subscription expired)."""
