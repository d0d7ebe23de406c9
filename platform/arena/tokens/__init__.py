"""Personal API tokens: created in the web profile, shown once, stored hashed, revocable."""
