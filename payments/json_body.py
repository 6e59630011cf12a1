"""The one way the shop reads a JSON request body (create-intent, Stripe webhooks).

Anything but a sane JSON document is refused with a reason a client can
read, so the views answer 400 JSON: not UTF-8, not JSON, too large, or
nested deeper than any real request (1,000 nested arrays would otherwise
reach Python's recursion limit while decoding, or later while saving).
"""

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

MAX_DEPTH = 32  # Stripe's events nest about 6 deep; our own bodies 1


class JsonBodyRejected(Exception):
    """The body is not a JSON document we accept; the message says why (safe to show)."""


def request_body_read(request: HttpRequest, *, max_bytes: int) -> bytes:
    """The raw body, refused before reading when it says (or turns out) to be over `max_bytes`."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise JsonBodyRejected(f"The request body is larger than {max_bytes} bytes.")
    try:
        body = request.body
    except RequestDataTooBig as exc:  # over DATA_UPLOAD_MAX_MEMORY_SIZE
        raise JsonBodyRejected(f"The request body is larger than {max_bytes} bytes.") from exc
    if len(body) > max_bytes:
        raise JsonBodyRejected(f"The request body is larger than {max_bytes} bytes.")
    return body


def json_body_parse(body: bytes | str, *, max_bytes: int):
    """The JSON value in `body`, or JsonBodyRejected (too large, not UTF-8, not JSON, too deep)."""
    if len(body) > max_bytes:
        raise JsonBodyRejected(f"The request body is larger than {max_bytes} bytes.")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonBodyRejected("The request body must be JSON.") from exc
    except RecursionError as exc:
        raise JsonBodyRejected("The request body is nested too deeply.") from exc
    if _depth_exceeds(value, MAX_DEPTH):
        raise JsonBodyRejected("The request body is nested too deeply.")
    return value


def _depth_exceeds(value, limit: int) -> bool:
    """Whether `value` nests lists/objects more than `limit` deep (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
