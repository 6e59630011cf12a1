from django import template

from shop.orders.addresses import address_lines as order_address_lines

register = template.Library()


@register.filter
def address_lines(order) -> list[str]:
    """{% for line in order|address_lines %}: the shipping address as the country writes it."""
    return order_address_lines(order)
