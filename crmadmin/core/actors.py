"""Who acts: the user a change is recorded under."""


def actor_or_none(actor):
    """The acting user, or ``None`` for no one or an anonymous user (never stored as one)."""
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None
