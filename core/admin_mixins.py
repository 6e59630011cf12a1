"""Admin for records the shop keeps as they were written (webhook events, refunds, background tasks)."""

from django.http import HttpRequest


class RecordAdminMixin:
    """Staff read these records; nobody adds, edits or deletes them in the admin.

    Old webhook events are pruned by `sync_payments --prune-events`, never by hand.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
