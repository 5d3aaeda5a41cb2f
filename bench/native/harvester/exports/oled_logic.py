"""WIT interface ``oled-logic``: declares no types."""

__all__: list[str] = []
