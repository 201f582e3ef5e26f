"""The fleet status: every tunnel's state now, and what dropped in a period (docs/asking.md#status)."""
