"""What the rules share: the context every rule sees, and helpers that are not rules themselves."""
