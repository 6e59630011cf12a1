"""`{% page_hole "<template>" %}`: a per-visitor part of a page kept in memory (shop/pagecache.py)."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from shop.pagecache import RECORDING, hole_marker

register = template.Library()


@register.simple_tag(takes_context=True)
def page_hole(context: template.Context, template_name: str) -> SafeString:
    """The template rendered with this context; while a shared page is recorded, a marker for it."""
    if context.get(RECORDING):
        return mark_safe(hole_marker(template_name))
    hole = context.template.engine.get_template(template_name)
    with context.push():
        return hole.render(context)
