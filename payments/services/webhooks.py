"""Stripe webhooks: verify, store once and answer at once; a task applies the event to its order.

Stripe delivers at least once, maybe twice at the same time, maybe out of
order, and asks for a quick 2xx with the work done afterwards. So the request
(`stripe_event_receive`) does only what a redelivery must be able to rely on:

1. verify the signature over the raw body and parse it (`stripe_event_verify`);
2. store the event once: insert-or-get on its unique Stripe id, one
   statement, committed on its own. Already processed or ignored: a
   duplicate, acknowledged, and that statement was its whole cost;
3. otherwise (new, still RECEIVED, or FAILED) see that a task applies it,
   and answer 200.

On PostgreSQL with the database tasks backend (production) the stored
events are their own queue: 2 and 3 are one round trip
(`_event_store_and_enqueue`), and the task it may queue is
`webhook_events_apply_received`, which applies every RECEIVED event, oldest
first, until none is left. The statement queues one only when none is
waiting for a worker already, so a burst of events costs one task row, not
one per event, and the worker claims and records one task for all of them.
Elsewhere (SQLite; the immediate backend of the tests; RQ, whose queue is
not in the database) each event gets its own task, `webhook_event_apply`,
enqueued after the store as a second step (`task_enqueue`).

No event is left behind by "a task is waiting already": the task a
request found waiting may be claimed and find nothing left before that
request commits its event. Two things close that window:
- "waiting" is asked of a unique index (one READY row of the task at most,
  payments/migrations/0005), not of the statement's snapshot: the insert
  of the task's row sees the latest committed rows, and waits for a
  worker's claim in flight. A snapshot taken before the claim would still
  show the task waiting after it has run;
- a PostgreSQL advisory lock: each request takes it shared before it looks
  (in its statement, as a row of the task insert's source) and holds it
  until it commits; a task about to stop because nothing is left waits
  until it could take it exclusive, then looks again
  (`_no_received_event_left`). So that task sees the events of every
  request that found it waiting; a request that looks later finds it
  RUNNING, not waiting, and queues another. The task only ever tries the
  lock, within one statement: a task worker short of CPU (it runs at a
  lower priority) never holds webhooks up.

The task (`stripe_event_apply`), in one transaction: locks the event's row,
skips it if it was handled meanwhile, applies it to its order (the handlers
in webhook_handlers.py; the order services lock the order row) and records
the outcome. If applying fails, the transaction rolls back (the order is
untouched) and the event is recorded FAILED with the traceback, attempts + 1.

Crash windows, and what closes each:
- The process dies before the event is stored, or (two steps only)
  between storing it and enqueueing its task: Stripe got no 2xx and
  redelivers; the redelivery finds the event still RECEIVED and enqueues
  it. In one statement the event and its task commit together: there is
  no "stored but not enqueued".
- The task is lost after the 200 (an RQ push lost after the commit; a worker
  killed mid-task, whose transaction rolls back and leaves the event
  RECEIVED): `sync_payments` enqueues events still RECEIVED after
  REQUEUE_RECEIVED_AFTER (`webhook_events_requeue`). With the events'
  queue, a worker killed mid-task leaves its task "running" and every event
  after it RECEIVED: the next webhook queues a new task (none is waiting),
  and so does a worker as it starts (`webhook_events_resume`).
- PostgreSQL itself stops (a crash, the host's power) within a moment of
  acknowledging a payment_intent event: the event may be lost. Its
  statement commits without waiting for PostgreSQL's log to reach the disk
  (`RECONCILED_EVENT_TYPES`: `synchronous_commit` off for that one
  transaction). PostgreSQL writes it out within 3 x `wal_writer_delay`
  (0.6 s by default), and a crash never leaves half of it. A flush costs
  ~0.6 ms here and stalls for 100 ms and more at times, every delivery in
  flight held up behind it (benchmarks/README.md): the answer no longer
  waits for it. What such a loss would take, `sync_payments` gives back:
  it reads the PaymentIntent of every unsettled order from Stripe and
  applies it as the event would have (the success page does so at once
  for a shopper who comes back). Refund events, and types the shop does
  not handle, wait for the disk as before: a refund made in Stripe's
  Dashboard is known through its event alone. The worker's applies wait
  for the disk too, and so carry every event before them to it.
- The apply fails: Stripe had its 200 and will not retry, so `sync_payments`
  enqueues FAILED events again, up to MAX_ATTEMPTS attempts; beyond that
  they wait for staff (the admin's Replay button, `--replay-failed-events`).
- Two tasks for one event (concurrent deliveries before it was applied, a
  re-queue of a task that was only late): the second waits for the first's
  row lock, then finds the event handled and changes nothing.
"""

import json
import logging
import re
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import stripe
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import TaskResultStatus

from core.tasks import task_enqueue
from payments.json_body import MAX_DEPTH, JsonBodyRejected, json_body_parse
from payments.models import WebhookEvent
from payments.selectors import (
    webhook_event_received_oldest_unlocked,
    webhook_events_handled_before,
    webhook_events_to_requeue,
)
from payments.services.webhook_handlers import (
    EVENT_HANDLERS,
    RECONCILED_EVENT_TYPES,
    HandlerResult,
    payment_intent_id_of,
    stored_event_id,
)
from payments.tasks import webhook_event_apply, webhook_events_apply_received
from shop.task_rows import TaskRow, task_row_insert_sql, task_rows_in_database

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome
HANDLED_OUTCOMES = (Outcome.PROCESSED, Outcome.IGNORED)
DUPLICATE = "duplicate"  # an event handled already: acknowledged, not applied again
QUEUED = "queued"  # stored, its task enqueued; a worker applies it
MISSING = "missing"  # the task's event is no longer stored (deleted by staff)

REQUEUE_RECEIVED_AFTER = timedelta(minutes=5)  # far beyond a healthy queue's delay
MAX_ATTEMPTS = 5  # failed applies sync_payments retries; then staff replay it
# Events one webhook_events_apply_received task applies before it hands over to a
# successor it queues: no task runs for long, and its result says how many it did.
APPLY_RECEIVED_PER_TASK = 1000
# The advisory lock between webhooks storing events (held shared) and the task that applies
# them deciding it is done (tried exclusive). One number for the whole database.
RECEIVED_EVENTS_LOCK = 7_301_964_213
# Seconds between two looks of a task that found nothing left while webhooks were storing events.
WEBHOOKS_IN_FLIGHT_PAUSE = 0.002

PAYMENT_INTENT_ID_MAX = WebhookEvent._meta.get_field("payment_intent_id").max_length
TYPE_MAX = WebhookEvent._meta.get_field("type").max_length
# A PaymentIntent's client secret (pi_..._secret_...): it lets anyone confirm the
# payment or read it back, so stored payloads (read by every staff user) never hold
# it. Matched in the body's JSON text, so no word boundary: an escape such as \n
# may stand right before it there.
CLIENT_SECRET = re.compile(r"(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+")
MASKED_CLIENT_SECRET = r"\1_secret_[masked]"
# The JSON escape of NUL (not preceded by an odd run of backslashes, which would
# make it the text "\u0000" already). PostgreSQL cannot store NUL in text or jsonb.
ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
NUL_WRITTEN_OUT = r"\1\\\\u0000"


class WebhookRejected(Exception):
    """Not a genuine Stripe event (bad signature, stale, malformed): answer 400."""


@dataclass(frozen=True)
class VerifiedEvent:
    """A genuine event: parsed, and its JSON text as stored (client secrets masked)."""

    event: dict
    stored_json: str


def stripe_event_verify(*, payload: bytes, signature: str) -> VerifiedEvent:
    """The event in `payload` if Stripe signed it for our endpoint, else WebhookRejected.

    NUL characters, which PostgreSQL cannot store, are written out as the six
    characters \\u0000 in the event and its stored text alike: a signed event
    holding one is still Stripe's and is stored, with everything else as it came.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error(
            "webhook_rejected", extra={"reason": "missing_setting", "setting": "STRIPE_WEBHOOK_SECRET"}
        )
        raise WebhookRejected("Webhook secret not configured.")
    if not signature:
        raise WebhookRejected("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Signature verification failed: {exc.user_message or exc}") from exc
    except UnicodeDecodeError as exc:
        raise WebhookRejected("Body is not JSON.") from exc
    if "\\u0000" in text:
        text = ESCAPED_NUL.sub(NUL_WRITTEN_OUT, text)
    event = _event_parsed(text)
    if not _looks_like_event(event):
        raise WebhookRejected("Body is not a Stripe event.")
    return VerifiedEvent(event, CLIENT_SECRET.sub(MASKED_CLIENT_SECRET, text))


def _event_parsed(text: str):
    # A body with no more brackets than the depth limit cannot nest deeper:
    # decode it directly. Anything else goes through the shared parser's checks.
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        try:
            return json.loads(text)
        except ValueError:
            pass  # the shared parser says why
    try:
        return json_body_parse(text, max_bytes=len(text))
    except JsonBodyRejected as exc:
        raise WebhookRejected(f"Body is not JSON: {exc}") from exc


def _looks_like_event(event) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


def stripe_event_receive(*, verified: VerifiedEvent) -> str:
    """Store a verified event once and enqueue its apply task unless it was handled; what became of it.

    DUPLICATE (handled before: one statement), QUEUED (a worker applies it),
    or, with a backend that runs the task at once (the tests' immediate
    one), the outcome of applying it. A database error propagates: nothing
    is acknowledged, Stripe redelivers.
    """
    if _received_events_are_a_queue():
        outcome = _event_store_and_enqueue(verified)
        return DUPLICATE if outcome in HANDLED_OUTCOMES else QUEUED
    event_pk, outcome = _event_store(verified)
    if outcome in HANDLED_OUTCOMES:
        return DUPLICATE
    result = task_enqueue(webhook_event_apply, event_pk)
    if result is None or not result.is_finished:
        return QUEUED
    return result.return_value if result.status == TaskResultStatus.SUCCESSFUL else Outcome.FAILED


def _received_events_are_a_queue() -> bool:
    """Whether the stored events are their own queue: PostgreSQL with the database tasks backend."""
    return connection.vendor == "postgresql" and task_rows_in_database(webhook_events_apply_received)


def _event_store(verified: VerifiedEvent) -> tuple[int, str]:
    """Insert the event's row (RECEIVED, received now), or get the stored one: (its id, its outcome).

    One statement, INSERT ... ON CONFLICT DO UPDATE ... RETURNING (PostgreSQL
    and SQLite): the update is what makes an existing row come back, and it
    waits for a transaction that holds the row locked (an apply task at
    work), so a duplicate sees the outcome it commits. It changes nothing but
    a FAILED event's outcome, back to RECEIVED: a redelivery (Stripe's resend)
    queues it again, like a new one. The payload goes in as the body's own
    JSON text: nothing is encoded again.
    """
    with connection.cursor() as cursor:
        cursor.execute(_store_sql(connection.vendor), _store_params(verified))
        event_pk, outcome = cursor.fetchone()
    return event_pk, outcome


def _store_params(verified: VerifiedEvent) -> list:
    event = verified.event
    return [
        stored_event_id(event["id"]),
        event["type"][:TYPE_MAX],
        bool(event.get("livemode")),
        verified.stored_json,
        payment_intent_id_of(event)[:PAYMENT_INTENT_ID_MAX],
        Outcome.RECEIVED,
        timezone.now(),
    ]


@cache
def _store_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    meta = WebhookEvent._meta
    names = ["stripe_event_id", "type", "livemode", "payload", "payment_intent_id", "outcome", "received_at"]
    placeholders = ["%s::jsonb" if name == "payload" and vendor == "postgresql" else "%s" for name in names]
    # Columns left out have no value yet (order, processed_at: NULL) or are set as empty here.
    names += ["note", "error", "attempts"]
    placeholders += ["''", "''", "0"]
    key = quote(meta.get_field("stripe_event_id").column)
    outcome = quote(meta.get_field("outcome").column)
    stored_outcome = f"{quote(meta.db_table)}.{outcome}"
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(meta.get_field(n).column) for n in names)}) "
        f"VALUES ({', '.join(placeholders)}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {outcome} = CASE WHEN {stored_outcome} = '{Outcome.FAILED}' "
        f"THEN '{Outcome.RECEIVED}' ELSE {stored_outcome} END "
        f"RETURNING {quote(meta.pk.column)}, {outcome}"
    )


def _event_store_and_enqueue(verified: VerifiedEvent) -> str:
    """`_event_store` and, unless the event was handled or a task is waiting already, the task's row.

    Returns the event's outcome as stored. For PostgreSQL with the database
    tasks backend: one statement, a data-modifying CTE that runs
    `_event_store`'s insert-or-get (the same wait for an apply task at work)
    and, if the outcome it got is not handled yet, takes the shared advisory
    lock and inserts the row `webhook_events_apply_received.enqueue()` would
    write (shop/task_rows.py), unless the index that allows one such row
    READY at a time refuses it (payments/migrations/0005). In autocommit it
    is one transaction with one commit: the event and its task are stored
    together or not at all. For a payment_intent event that commit does not
    wait for the disk (module docstring, "Crash windows"). Sent the same every
    time, it is prepared: the server plans it once per connection
    (config/postgresql).
    """
    task_row = TaskRow(webhook_events_apply_received)
    with connection.cursor() as cursor:
        cursor.execute(_store_and_enqueue_sql(), _store_and_enqueue_params(verified, task_row))
        outcome, queued = cursor.fetchone()
    if queued:
        task_row.enqueued()
    return outcome


def _store_and_enqueue_params(verified: VerifiedEvent, task_row: TaskRow) -> list:
    return [
        RECEIVED_EVENTS_LOCK,
        verified.event["type"] in RECONCILED_EVENT_TYPES,  # commit without waiting for the disk
        *_store_params(verified),
        *task_row.params,
        *HANDLED_OUTCOMES,
    ]


@cache
def _store_and_enqueue_sql() -> str:
    quote = connection.ops.quote_name
    outcome = f"stored_event.{quote(WebhookEvent._meta.get_field('outcome').column)}"
    # The lock is a row of the task insert's source: taken before the insert looks for a
    # waiting row (a duplicate, which inserts none, needs none).
    task_insert = task_row_insert_sql(
        webhook_events_apply_received,
        source=f"stored_event, received_events_lock WHERE {outcome} NOT IN (%s, %s)",
    )
    return (
        "WITH received_events_lock AS (SELECT pg_advisory_xact_lock_shared(%s::bigint)), "
        "commit_mode AS (SELECT CASE WHEN %s THEN set_config('synchronous_commit', 'off', true) END), "
        f"stored_event AS ({_store_sql('postgresql')}), queued_task AS ({task_insert}) "
        f"SELECT {outcome}, EXISTS (SELECT FROM queued_task) FROM stored_event, commit_mode"
    )


def _apply_received_enqueue() -> bool:
    """Queue `webhook_events_apply_received` unless one is waiting already; whether it did."""
    task_row = TaskRow(webhook_events_apply_received)
    insert = task_row_insert_sql(webhook_events_apply_received, source="(SELECT) AS one_row")
    with connection.cursor() as cursor:
        cursor.execute(insert, task_row.params)
        queued = cursor.fetchone() is not None
    if queued:
        task_row.enqueued()
    return queued


def stripe_events_apply_received(*, limit: int = APPLY_RECEIVED_PER_TASK) -> int:
    """Apply the events still RECEIVED, oldest first, until none is left; how many.

    Each in its own transaction, as `stripe_event_apply`: a failure is
    recorded on its event (FAILED, for sync_payments to retry) and the next
    one goes on. Events another transaction holds (a task applying one, a
    redelivery storing one) are skipped, and looked at again before
    stopping. After `limit` events a successor task takes over.
    """
    applied = 0
    while applied < limit:
        if _event_received_apply_oldest() is None:
            if _no_received_event_left():
                return applied
            continue
        applied += 1
    _apply_received_enqueue()  # a successor, unless a webhook queued one meanwhile
    return applied


def _event_received_apply_oldest() -> str | None:
    """Apply the oldest RECEIVED event no one holds; its outcome (FAILED recorded), None if there is none."""
    event_pk = None
    try:
        with transaction.atomic():
            record = webhook_event_received_oldest_unlocked()
            if record is None:
                return None
            event_pk = record.pk
            result = _event_apply(record.payload)
            _event_record(record, result)
    except Exception as exc:
        if event_pk is None or not _event_record_failure(event_pk, exc):
            raise  # the database failed: the task fails, sync_payments re-queues what is left
        return Outcome.FAILED
    return result.outcome


def _no_received_event_left() -> bool:
    """Whether no event is RECEIVED and unheld, once no webhook that may have found this task waiting is left.

    Called between events, outside a transaction. The webhooks hold the
    advisory lock shared from before they look for a waiting task until
    they commit; this asks, in one statement of its own transaction,
    whether it could take it exclusive, and lets it go at the statement's
    end. So it never holds the lock while the worker waits for a CPU, and
    never queues for it: a webhook never waits for it. While a webhook
    holds it, it looks for events again after a pause; once none does,
    every such webhook has committed, and one more look decides.
    """
    while True:
        # PostgreSQL is where webhooks queue this task (module docstring); asked before the look.
        quiet = connection.vendor != "postgresql" or _no_webhook_storing_events()
        with transaction.atomic():
            if webhook_event_received_oldest_unlocked() is not None:
                return False
        if quiet:
            return True
        time.sleep(WEBHOOKS_IN_FLIGHT_PAUSE)


def _no_webhook_storing_events() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s::bigint)", [RECEIVED_EVENTS_LOCK])
        return cursor.fetchone()[0]


def stripe_event_apply(*, event_pk: int) -> str:
    """Apply a stored event to its order once and record the outcome; returns it (or DUPLICATE, MISSING).

    What the `webhook_event_apply` task and staff's replay run. On failure
    the transaction rolls back, FAILED is recorded with the traceback
    (attempts + 1) and the error is raised again (the task fails).
    """
    try:
        with transaction.atomic():
            try:
                record = WebhookEvent.objects.select_for_update().get(pk=event_pk)
            except WebhookEvent.DoesNotExist:
                return MISSING
            if record.outcome in HANDLED_OUTCOMES:  # applied by another task meanwhile
                return DUPLICATE
            result = _event_apply(record.payload)
            _event_record(record, result)
    except Exception as exc:
        _event_record_failure(event_pk, exc)
        raise
    return result.outcome


def _event_apply(event: dict) -> HandlerResult:
    handler = EVENT_HANDLERS.get(event["type"])
    if handler is None:
        return HandlerResult(Outcome.IGNORED, note=f"Event type {event['type']} is not used by this shop.")
    return handler(event, event["data"]["object"])


def _event_record(record: WebhookEvent, result: HandlerResult) -> None:
    record.outcome, record.order, record.note = result.outcome, result.order, result.note
    record.error, record.processed_at = "", timezone.now()
    record.attempts += 1
    record.save(update_fields=["outcome", "order", "note", "error", "processed_at", "attempts"])
    logger.info(
        "webhook_processed",
        extra={
            "event_id": record.stripe_event_id,
            "event_type": record.type,
            "payment_intent": record.payment_intent_id or None,
            "order": result.order.number if result.order else None,
            "outcome": result.outcome,
        },
    )


def _event_record_failure(event_pk: int, exc: Exception) -> bool:
    """Record a failed attempt, outside the rolled-back transaction; whether it could be."""
    error = "".join(traceback.format_exception(exc))[-10000:].replace("\x00", "\\u0000")
    logger.error("webhook_failed", extra={"event_pk": event_pk, "error": type(exc).__name__})
    try:
        WebhookEvent.objects.filter(pk=event_pk).update(
            outcome=Outcome.FAILED, error=error, attempts=F("attempts") + 1
        )
    except DatabaseError:
        logger.exception("webhook_failure_not_recorded", extra={"event_pk": event_pk})
        return False
    return True


def webhook_events_resume(**signal_kwargs) -> bool:
    """As a worker starts: queue `webhook_events_apply_received` if events wait and none is; whether it did.

    The events' queue has one task for many events: a worker killed while
    running it leaves that task "running" for good and the rest of the
    events RECEIVED, and a webhook queues a new task only when one arrives.
    So a worker that starts (systemd restarts a dead one) resumes them.
    """
    if not _received_events_are_a_queue():
        return False  # SQLite, RQ: one task per event, each still queued
    if not WebhookEvent.objects.filter(outcome=Outcome.RECEIVED).exists():
        return False
    queued = _apply_received_enqueue()  # none if one is waiting already
    if queued:
        logger.info("webhook_events_resumed")
    return queued


def webhook_events_requeue() -> int:
    """Enqueue again the events whose task was lost or whose apply failed; how many.

    Run periodically (sync_payments): events still RECEIVED after
    REQUEUE_RECEIVED_AFTER, and FAILED events with fewer than MAX_ATTEMPTS
    attempts (Stripe no longer retries an event we answered 200). An event
    whose earlier task is only late is applied once all the same.
    """
    events = list(
        webhook_events_to_requeue(
            received_before=timezone.now() - REQUEUE_RECEIVED_AFTER, max_attempts=MAX_ATTEMPTS
        )
    )
    for event in events:
        task_enqueue(webhook_event_apply, event.pk)
        logger.info(
            "webhook_requeued",
            extra={"event_id": event.stripe_event_id, "outcome": event.outcome, "attempts": event.attempts},
        )
    return len(events)


def webhook_events_prune(*, older_than: timedelta, dry_run: bool = False) -> int:
    """Delete processed and ignored events received more than `older_than` ago; how many.

    Failed (and never finished) events are kept: staff read them, and
    sync_payments and the admin's Replay apply them again.
    """
    old = webhook_events_handled_before(received_before=timezone.now() - older_than)
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    logger.info("webhook_events_pruned", extra={"deleted": deleted, "older_than_days": older_than.days})
    return deleted
