"""Admin sign-in brute force (django-axes): lockout per client address, logged, in the admin."""

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return get_user_model().objects.create_superuser("ada", "ada@stripe-press.test", PASSWORD)


def sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


def test_an_address_is_locked_after_a_few_failures_even_with_the_right_password(staff, caplog):
    client = Client()
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(3):
            assert sign_in(client, "ada", "wrong").status_code in (200, 429)
    failures = [r.getMessage() for r in caplog.records if "login failure by" in r.getMessage()]
    assert len(failures) == 3
    assert all('username: "ada"' in line and "203.0.113.7" in line for line in failures)

    locked = sign_in(Client(), "ada", PASSWORD)  # the right password, from the same address

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in temporarily locked" in page and "Try again in" in page
    assert "_auth_user_id" not in Client().session
    logged = list(AccessFailureLog.objects.filter(username="ada").order_by("attempt_time"))
    assert [(row.ip_address, row.locked_out) for row in logged] == [
        ("203.0.113.7", False),
        ("203.0.113.7", False),
        ("203.0.113.7", True),  # the failure that locks
        ("203.0.113.7", True),  # refused while locked
    ]


def test_failures_for_a_username_from_one_address_do_not_lock_it_out_elsewhere(staff):
    for _ in range(5):
        sign_in(Client(), "ada", "wrong", ip="198.51.100.66")
    assert sign_in(Client(), "ada", PASSWORD, ip="198.51.100.66").status_code == 429

    staff_elsewhere = Client()
    assert sign_in(staff_elsewhere, "ada", PASSWORD, ip="203.0.113.7").status_code == 302
    assert staff_elsewhere.get(reverse("admin:index")).status_code == 200


def test_failures_for_a_username_spread_over_addresses_lock_none_of_them_out(staff):
    for n in range(2):  # under the limit (3) at each of several addresses
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            sign_in(Client(), "ada", f"wrong-{n}", ip=ip)
    assert sign_in(Client(), "ada", PASSWORD, ip="198.51.100.1").status_code == 302


def test_an_address_is_locked_whatever_username_it_tries(staff):
    client = Client()
    for name in ("root", "admin", "staff"):
        sign_in(client, name, "guess", ip="203.0.113.9")

    assert sign_in(client, "ada", PASSWORD, ip="203.0.113.9").status_code == 429
    assert sign_in(Client(), "ada", PASSWORD, ip="203.0.113.10").status_code == 302  # others unaffected


def test_the_lockout_ends_after_the_cool_down(staff, settings):
    for _ in range(3):
        sign_in(Client(), "ada", "wrong")
    assert sign_in(Client(), "ada", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME
    )

    assert sign_in(Client(), "ada", PASSWORD).status_code == 302


def test_staff_see_the_attempts_in_the_admin(staff, admin_client):
    for _ in range(2):
        sign_in(Client(), "ada", "wrong")
    response = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 200
    assert "203.0.113.7" in response.content.decode()
    failures = admin_client.get(reverse("admin:axes_accessfailurelog_changelist"))
    assert failures.status_code == 200
