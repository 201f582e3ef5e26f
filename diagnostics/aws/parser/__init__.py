"""Reading AWS tunnel log events into events."""
