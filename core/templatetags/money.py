from django import template

from core.money import format_money

register = template.Library()


@register.simple_tag
def money(amount: int | None, currency: str) -> str:
    """{% money order.total_amount order.currency %} -> "$23.00"."""
    if amount is None:
        return "—"
    return format_money(amount, currency)
