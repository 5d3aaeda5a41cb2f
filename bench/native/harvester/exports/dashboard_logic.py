"""WIT interface ``dashboard-logic``: declares no types."""

__all__: list[str] = []
