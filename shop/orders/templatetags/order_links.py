from django import template

from shop.orders.access import order_page_path

register = template.Library()


@register.simple_tag
def order_page_link(order) -> str:
    """{% order_page_link order %} -> the order page's path with its access key.

    Only for pages shown to the order's owner (the success page checks that first).
    """
    return order_page_path(number=order.number)
