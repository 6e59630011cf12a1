"""What staff see of disputes: one email per new dispute, the admin pages, the admin home's figure."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from payments.dispute_emails import dispute_staff_email_deliver
from payments.models import Dispute
from payments.tests.events import dispute_event, dispute_object
from shop.orders.models import DisputeStatus, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 3600


def staff(username: str, *codenames: str, email: str | None = None, **extra):
    user = get_user_model().objects.create_user(
        username, email=f"{username}@stripe-press.test" if email is None else email, password="x", **extra
    )
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def paid_order():
    return OrderFactory(status=OrderStatus.PAID, total_amount=2300, amount_received=2300)


def open_dispute(post_webhook, order, *, dispute_id: str = "dp_test_1", due_by: int | None = None) -> Dispute:
    dispute = dispute_object(order.payment_intent_id, dispute_id=dispute_id, due_by=due_by, created=T0)
    post_webhook(dispute_event("created", dispute, created=T0))
    return Dispute.objects.get(stripe_dispute_id=dispute_id)


# --- the email ---------------------------------------------------------------------------------


def test_staff_who_asked_get_one_email_per_new_dispute(post_webhook, paid_order, mailoutbox):
    staff("ann", "receive_dispute_emails", is_staff=True)
    group = Group.objects.create(name="Disputes")
    group.permissions.add(Permission.objects.get(codename="receive_dispute_emails"))
    staff("bob", is_staff=True).groups.add(group)
    staff("carl", "view_order", is_staff=True)  # did not ask
    staff("root", is_staff=True, is_superuser=True)  # every permission, but no subscription
    staff("gone", "receive_dispute_emails", is_staff=True, is_active=False)
    staff("shopper", "receive_dispute_emails")  # not staff
    staff("nomail", "receive_dispute_emails", is_staff=True, email="")
    intent = paid_order.payment_intent_id
    created = dispute_event("created", dispute_object(intent, created=T0), created=T0)

    post_webhook(created)
    post_webhook(created)  # redelivered
    post_webhook(dispute_event("funds_withdrawn", dispute_object(intent, created=T0), created=T0))
    post_webhook(dispute_event("updated", dispute_object(intent, status="under_review"), created=T0 + 9))

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert sorted(message.to) == ["ann@stripe-press.test", "bob@stripe-press.test"]
    assert message.subject == f"Dispute opened: $23.00 on order {paid_order.number}"
    dispute = Dispute.objects.get()
    assert f"https://shop.stripe-press.test/admin/payments/dispute/{dispute.pk}/change/" in message.body
    assert "https://dashboard.stripe.com/test/disputes/dp_test_1" in message.body
    assert "product_not_received" in message.body and paid_order.email in message.body
    assert dispute.staff_emailed_at is not None


def test_each_new_dispute_has_its_own_email(post_webhook, paid_order, mailoutbox):
    staff("ann", "receive_dispute_emails", is_staff=True)

    open_dispute(post_webhook, paid_order, dispute_id="dp_test_a")
    post_webhook(dispute_event("created", dispute_object("pi_not_ours", dispute_id="dp_test_b"), created=T0))

    assert [m.subject for m in mailoutbox] == [
        f"Dispute opened: $23.00 on order {paid_order.number}",
        "Dispute opened: $23.00 on a payment matching no order",
    ]
    assert "none of ours has PaymentIntent pi_not_ours" in mailoutbox[1].body


class MailServerDown:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_a_failed_send_is_sent_by_the_retry_and_only_once(post_webhook, paid_order, mailoutbox, settings):
    staff("ann", "receive_dispute_emails", is_staff=True)
    settings.EMAIL_BACKEND = f"{__name__}.MailServerDown"

    dispute = open_dispute(post_webhook, paid_order)  # the task fails; the event is recorded all the same

    dispute.refresh_from_db()
    assert dispute.staff_emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert dispute_staff_email_deliver(dispute_id=dispute.pk) == 1
    assert dispute_staff_email_deliver(dispute_id=dispute.pk) == 0
    assert len(mailoutbox) == 1


def test_with_no_one_to_tell_nothing_is_sent(post_webhook, paid_order, mailoutbox):
    dispute = open_dispute(post_webhook, paid_order)

    assert mailoutbox == []
    assert dispute_staff_email_deliver(dispute_id=dispute.pk) == 0


# --- the admin ---------------------------------------------------------------------------------


@pytest.fixture
def clerk(client):
    client.force_login(staff("clerk", "view_order", "view_dispute", "view_sales", is_staff=True))
    return client


def test_a_dispute_page_links_to_stripe_dashboard(post_webhook, paid_order, clerk):
    dispute = open_dispute(post_webhook, paid_order)

    page = clerk.get(reverse("admin:payments_dispute_change", args=[dispute.pk])).content.decode()

    assert 'href="https://dashboard.stripe.com/test/disputes/dp_test_1"' in page
    assert reverse("admin:orders_order_change", args=[paid_order.pk]) in page


def test_offline_mode_shows_no_dead_dashboard_link(post_webhook, paid_order, clerk, settings):
    dispute = open_dispute(post_webhook, paid_order)
    settings.STRIPE_OFFLINE_MODE = True

    page = clerk.get(reverse("admin:payments_dispute_change", args=[dispute.pk])).content.decode()

    assert "dp_test_1" in page
    assert "dashboard.stripe.com" not in page


def test_disputes_are_read_only(post_webhook, paid_order, clerk, admin_client):
    dispute = open_dispute(post_webhook, paid_order)

    page = admin_client.get(reverse("admin:payments_dispute_change", args=[dispute.pk])).content.decode()

    assert 'name="status"' not in page and "deletelink" not in page
    assert admin_client.get(reverse("admin:payments_dispute_add")).status_code == 403


def test_a_dispute_matching_no_order_is_listed(post_webhook, clerk):
    post_webhook(dispute_event("created", dispute_object("pi_not_ours", dispute_id="dp_orphan"), created=T0))

    page = clerk.get(reverse("admin:payments_dispute_changelist") + "?state=open").content.decode()

    assert "dp_orphan" in page and "None of ours (PaymentIntent pi_not_ours)" in page


def test_the_order_page_says_disputed_and_lists_its_disputes(post_webhook, paid_order, clerk):
    dispute = open_dispute(post_webhook, paid_order)

    page = clerk.get(reverse("admin:orders_order_change", args=[paid_order.pk])).content.decode()

    assert re.search(r'class="dispute-banner"[^>]*><strong>Disputed\.</strong>', page)
    assert reverse("admin:payments_dispute_change", args=[dispute.pk]) in page


def test_an_undisputed_order_page_has_no_banner(paid_order, clerk):
    page = clerk.get(reverse("admin:orders_order_change", args=[paid_order.pk])).content.decode()

    assert "dispute-banner" not in page


def test_the_order_list_filters_disputed_orders(post_webhook, paid_order, clerk):
    open_dispute(post_webhook, paid_order)
    won = OrderFactory(status=OrderStatus.PAID, dispute_status=DisputeStatus.WON)
    calm = OrderFactory(status=OrderStatus.PAID)
    changelist = reverse("admin:orders_order_changelist")

    def listed(query: str) -> set[str]:
        page = clerk.get(f"{changelist}?{query}").content.decode()
        return {order.number for order in (paid_order, won, calm) if order.number in page}

    assert listed("disputed=open") == {paid_order.number}
    assert listed("disputed=won") == {won.number}
    assert listed("disputed=any") == {paid_order.number, won.number}
    assert listed("") == {paid_order.number, won.number, calm.number}


def test_the_admin_home_counts_open_disputes_with_the_nearest_deadline(post_webhook, clerk, settings):
    settings.TIME_ZONE = "UTC"
    first, second = OrderFactory(status=OrderStatus.PAID), OrderFactory(status=OrderStatus.PAID)
    soon = int(time.time()) + 3 * 86400
    open_dispute(post_webhook, first, dispute_id="dp_soon", due_by=soon)
    open_dispute(post_webhook, second, dispute_id="dp_later", due_by=soon + 5 * 86400)
    closed = dispute_object("pi_other", dispute_id="dp_closed", status="won", due_by=soon - 86400)
    post_webhook(dispute_event("closed", closed, created=T0))

    page = clerk.get(reverse("admin:index")).content.decode()

    expected = time.strftime("%-d %b %Y, %H:%M", time.gmtime(soon))
    assert f"Open disputes: 2</a> (next evidence due by {expected})" in page
    assert reverse("admin:payments_dispute_changelist") + "?state=open" in page


def test_an_overdue_deadline_says_so(post_webhook, paid_order, clerk):
    open_dispute(post_webhook, paid_order, due_by=T0 + 60)

    page = clerk.get(reverse("admin:index")).content.decode()

    assert "Open disputes: 1</a> (evidence overdue since" in page
