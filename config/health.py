"""`/healthz` for load balancers: 200 when the database answers, 503 JSON otherwise.

Within a few seconds either way: the connection gives up after
DB_CONNECT_TIMEOUT (set on every connection, config/settings.py) and, on
PostgreSQL, the query after HEALTHZ_TIMEOUT_SECONDS (statement_timeout), so a
database that accepts connections but never answers costs a probe seconds,
not a worker. Exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT):
probes come over plain HTTP.
"""

from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


def database_answers() -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # SET LOCAL: this transaction only, the pooled connection keeps its default.
                timeout_ms = int(settings.HEALTHZ_TIMEOUT_SECONDS * 1000)
                cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    if not database_answers():
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
