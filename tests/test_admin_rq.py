"""The Django-RQ link on the admin home: only when tasks go through RQ; its page never a traceback."""

import pytest
from django.urls import reverse

from tests.test_tasks_rq import RQ_TASKS

pytestmark = pytest.mark.django_db

DASHBOARD = "admin:django_rq_dashboard_changelist"


def test_without_rq_the_admin_home_has_no_django_rq_link(admin_client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Django-RQ" not in page
    assert reverse(DASHBOARD) not in page


def test_with_rq_the_admin_home_links_its_dashboard(admin_client, settings):
    settings.TASKS = RQ_TASKS
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse(DASHBOARD)}"' in page
