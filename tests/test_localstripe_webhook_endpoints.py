"""The emulator's /v1/webhook_endpoints (tools/localstripe_webhook_endpoints.py) answers in Stripe's shapes.

Raw HTTP, as stripe-python sends it (form-encoded, Bearer key), so the
shapes are checked as Stripe documents them, not through a client library.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tools.emulator import EMULATOR_SECRET_KEY


@pytest.fixture
def api(localstripe):
    created = []

    def call(method: str, path: str, params: dict | None = None, *, key: str | None = EMULATOR_SECRET_KEY):
        body = urllib.parse.urlencode(params or {}, doseq=True).encode() if method == "POST" else None
        query = f"?{urllib.parse.urlencode(params)}" if params and method == "GET" else ""
        request = urllib.request.Request(f"{localstripe.url}{path}{query}", data=body, method=method)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status, answer = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.loads(error.read())
        if method == "POST" and path == "/v1/webhook_endpoints" and status == 200:
            created.append(answer["id"])
        return status, answer

    yield call
    for endpoint_id in created:
        call("DELETE", f"/v1/webhook_endpoints/{endpoint_id}")


def new_endpoint(api, **params) -> dict:
    params = {"url": "http://127.0.0.1:9/hook/", "enabled_events[0]": "charge.refunded", **params}
    status, endpoint = api("POST", "/v1/webhook_endpoints", params)
    assert status == 200, endpoint
    return endpoint


def test_create_answers_with_the_secret_and_retrieve_without(api):
    endpoint = new_endpoint(
        api,
        **{"enabled_events[1]": "payment_intent.succeeded", "api_version": "2026-10-28.endive"},
    )

    assert endpoint["id"].startswith("we_") and endpoint["secret"].startswith("whsec_")
    assert endpoint["object"] == "webhook_endpoint"
    assert endpoint["enabled_events"] == ["charge.refunded", "payment_intent.succeeded"]
    assert (endpoint["status"], endpoint["livemode"], endpoint["api_version"]) == (
        "enabled",
        False,
        "2026-10-28.endive",
    )
    assert isinstance(endpoint["created"], int)
    status, again = api("GET", f"/v1/webhook_endpoints/{endpoint['id']}")
    assert status == 200 and again == {k: v for k, v in endpoint.items() if k != "secret"}


def test_update_disables_and_changes_events(api):
    endpoint = new_endpoint(api)

    status, updated = api(
        "POST",
        f"/v1/webhook_endpoints/{endpoint['id']}",
        {"disabled": "true", "enabled_events[0]": "*"},
    )

    assert status == 200
    assert (updated["status"], updated["enabled_events"]) == ("disabled", ["*"])
    assert "secret" not in updated
    status, enabled = api("POST", f"/v1/webhook_endpoints/{endpoint['id']}", {"disabled": "false"})
    assert enabled["status"] == "enabled"


def test_list_pages_newest_first(api):
    ids = [new_endpoint(api)["id"] for _ in range(3)]

    status, page = api("GET", "/v1/webhook_endpoints", {"limit": 2})
    assert status == 200 and page["object"] == "list" and page["url"] == "/v1/webhook_endpoints"
    assert [e["id"] for e in page["data"]] == ids[:0:-1] and page["has_more"] is True
    _, rest = api("GET", "/v1/webhook_endpoints", {"limit": 2, "starting_after": ids[1]})
    assert ids[0] in [e["id"] for e in rest["data"]]
    assert all("secret" not in e for e in page["data"] + rest["data"])


def test_delete(api):
    endpoint = new_endpoint(api)

    status, deleted = api("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}")

    assert (status, deleted) == (200, {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True})
    status, missing = api("GET", f"/v1/webhook_endpoints/{endpoint['id']}")
    assert status == 404 and missing["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "params",
    [
        {"enabled_events[0]": "charge.refunded"},  # no url
        {"url": "ftp://x/", "enabled_events[0]": "charge.refunded"},
        {"url": "http://127.0.0.1:9/"},  # no events
        {"url": "http://127.0.0.1:9/", "enabled_events[0]": "Charge Refunded"},
        {"url": "http://127.0.0.1:9/", "enabled_events[0]": "charge.refunded", "colour": "red"},
    ],
)
def test_bad_requests_are_400_in_stripes_shape(api, params):
    status, answer = api("POST", "/v1/webhook_endpoints", params)

    assert status == 400 and answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["message"]


def test_a_refused_update_changes_nothing(api):
    endpoint = new_endpoint(api)

    status, _ = api(
        "POST", f"/v1/webhook_endpoints/{endpoint['id']}", {"enabled_events[0]": "x.y", "disabled": "maybe"}
    )

    assert status == 400
    _, after = api("GET", f"/v1/webhook_endpoints/{endpoint['id']}")
    assert (after["enabled_events"], after["status"]) == (["charge.refunded"], "enabled")


def test_the_secret_key_is_required(api):
    status, _ = api("GET", "/v1/webhook_endpoints", key=None)

    assert status == 401
