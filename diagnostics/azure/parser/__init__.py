"""Reading Azure's log rows into events."""
