from django import template

register = template.Library()


@register.filter
def count_books(count: int) -> str:
    """10000 -> "10,000 books", 1 -> "1 book"."""
    return f"{count:,} book{'' if count == 1 else 's'}"
