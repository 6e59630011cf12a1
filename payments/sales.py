"""Payments' figures on the admin home (shop/orders/sales.py): failed webhook events, open disputes."""

from django.urls import reverse
from django.utils import dateformat, timezone

from payments.selectors import disputes_open_summary, webhook_events_failed
from shop.orders.sales import Figure


def failed_webhook_events_figure() -> Figure:
    url = reverse("admin:payments_webhookevent_changelist") + "?outcome__exact=failed"
    return Figure(label="Failed webhook events", value=webhook_events_failed().count(), url=url)


def open_disputes_figure() -> Figure:
    """Open disputes, and the nearest evidence deadline among them (past: overdue)."""
    summary = disputes_open_summary()
    url = reverse("admin:payments_dispute_changelist") + "?state=open"
    due = summary.next_evidence_due_by
    detail = ""
    if due is not None:
        when = dateformat.format(timezone.localtime(due), "j M Y, H:i")
        detail = f"evidence overdue since {when}" if due < timezone.now() else f"next evidence due by {when}"
    return Figure(label="Open disputes", value=summary.count, url=url, detail=detail)
