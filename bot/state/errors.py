"""The state store's error, raised by either engine and by the store's operations."""


class StoreUnavailable(RuntimeError):
    """The state store failed and kept failing for as long as the caller could wait; the message says why."""
