"""Stripe's webhook endpoint API (/v1/webhook_endpoints) for localstripe, which has none.

Installed by tools/localstripe_server.py. Create, list, retrieve, update and
delete, in Stripe's shapes: object "webhook_endpoint", id we_..., url,
enabled_events, status "enabled"/"disabled", api_version, livemode false,
created, and the signing secret in the answer to create only. Kept in memory,
like the rest of the patched emulator.

An enabled endpoint receives the emulator's events, signed with its secret,
through localstripe's own delivery (what its /_config/webhooks registers):
registered again on every change, and with no event types once disabled or
deleted (delivery has no removal).
"""

import re
import secrets
import time

from localstripe.errors import UserError
from localstripe.webhooks import register_webhook

PATH = "/v1/webhook_endpoints"
EVENT_TYPE = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)+)$")
CREATE_PARAMS = {"url", "enabled_events", "api_version", "description", "metadata", "connect"}
UPDATE_PARAMS = {"url", "enabled_events", "disabled", "description", "metadata"}

_endpoints: dict[str, dict] = {}  # by id, oldest first (insertion order)
_secrets: dict[str, str] = {}


def _checked_params(data, allowed: set[str]) -> dict:
    if not isinstance(data, dict):
        raise UserError(400, "Bad request")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise UserError(400, f"Received unknown parameter: {unknown[0]}", {"param": unknown[0]})
    return data


def _checked_url(url) -> str:
    if not (isinstance(url, str) and re.match(r"^https?://[^/\s]+", url) and len(url) <= 5000):
        raise UserError(400, "Invalid URL: must be an absolute http(s) URL.", {"param": "url"})
    return url


def _checked_events(events) -> list[str]:
    if not (isinstance(events, list) and events and all(isinstance(e, str) for e in events)):
        raise UserError(
            400, "enabled_events must be a non-empty list of event types.", {"param": "enabled_events"}
        )
    bad = [event for event in events if not EVENT_TYPE.match(event)]
    if bad:
        raise UserError(400, f"Invalid enabled_events: {bad[0]}", {"param": "enabled_events"})
    return list(dict.fromkeys(events))


def _checked_text(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UserError(400, f"Invalid {name}", {"param": name})
    return value


def _checked_bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise UserError(400, f"Invalid boolean: {value}", {"param": name})


def _endpoint(endpoint_id: str) -> dict:
    endpoint = _endpoints.get(endpoint_id)
    if endpoint is None:
        raise UserError(404, f"No such webhook endpoint: '{endpoint_id}'", {"param": "id"})
    return endpoint


def _deliver(endpoint: dict, *, deleted: bool = False) -> None:
    """Have localstripe send the endpoint its events (none when disabled or deleted)."""
    events = endpoint["enabled_events"]
    if deleted or endpoint["status"] == "disabled":
        events = []
    elif "*" in events:
        events = None  # localstripe's "every type"
    register_webhook(endpoint["id"], endpoint["url"], _secrets[endpoint["id"]], events)


async def create(request, server):
    data = _checked_params(await server.get_post_data(request) or {}, CREATE_PARAMS)
    endpoint = {
        "id": "we_" + secrets.token_hex(12),
        "object": "webhook_endpoint",
        "api_version": _checked_text(data, "api_version"),
        "application": None,
        "created": int(time.time()),
        "description": _checked_text(data, "description"),
        "enabled_events": _checked_events(data.get("enabled_events")),
        "livemode": False,
        "metadata": data.get("metadata") or {},
        "status": "enabled",
        "url": _checked_url(data.get("url")),
    }
    _endpoints[endpoint["id"]] = endpoint
    _secrets[endpoint["id"]] = "whsec_" + secrets.token_urlsafe(24)
    _deliver(endpoint)
    return server.json_response({**endpoint, "secret": _secrets[endpoint["id"]]})


def list_all(request, server):
    query = server.unflatten_data(request.query) or {}
    try:
        limit = int(query.get("limit", 10))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise UserError(400, "Invalid limit: must be between 1 and 100", {"param": "limit"})
    newest_first = list(reversed(_endpoints.values()))
    after = query.get("starting_after")
    if after:
        ids = [endpoint["id"] for endpoint in newest_first]
        if after not in ids:
            raise UserError(400, f"No such webhook endpoint: '{after}'", {"param": "starting_after"})
        newest_first = newest_first[ids.index(after) + 1 :]
    page = newest_first[:limit]
    return server.json_response(
        {"object": "list", "data": page, "has_more": len(newest_first) > limit, "url": PATH}
    )


def retrieve(request, server):
    return server.json_response(_endpoint(request.match_info["id"]))


async def update(request, server):
    endpoint = _endpoint(request.match_info["id"])
    data = _checked_params(await server.get_post_data(request) or {}, UPDATE_PARAMS)
    changes = {}
    if "url" in data:
        changes["url"] = _checked_url(data["url"])
    if "enabled_events" in data:
        changes["enabled_events"] = _checked_events(data["enabled_events"])
    if "disabled" in data:
        changes["status"] = "disabled" if _checked_bool(data["disabled"], "disabled") else "enabled"
    if "description" in data:
        changes["description"] = _checked_text(data, "description")
    if "metadata" in data:
        changes["metadata"] = data["metadata"] or {}
    endpoint.update(changes)  # checked in full first: a refused update changes nothing
    _deliver(endpoint)
    return server.json_response(endpoint)


def delete(request, server):
    endpoint = _endpoint(request.match_info["id"])
    _deliver(endpoint, deleted=True)
    del _endpoints[endpoint["id"]], _secrets[endpoint["id"]]
    return server.json_response({"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True})


def install(server) -> None:
    """Add the routes to localstripe's app (before it starts)."""
    router = server.app.router

    def bound(handler):
        async def handle(request):
            answer = handler(request, server)
            return await answer if hasattr(answer, "__await__") else answer

        return handle

    router.add_route("POST", PATH, bound(create))
    router.add_route("GET", PATH, bound(list_all))
    router.add_route("GET", PATH + "/{id}", bound(retrieve))
    router.add_route("POST", PATH + "/{id}", bound(update))
    router.add_route("DELETE", PATH + "/{id}", bound(delete))
