"""Replaying a failed webhook event from the admin, by staff with `payments.replay_webhookevent`.

The replay itself is the one `sync_payments --replay-failed-events` uses
(`webhook_event_replay`): the webhook's apply task run at once, in the
request, on the stored event, so an event applied meanwhile is not applied
twice and a new failure is recorded on the event again.
"""

import logging
from dataclasses import dataclass

from payments.models import WebhookEvent
from payments.services.reconciliation import webhook_event_replay

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayResult:
    succeeded: bool
    text: str


def webhook_event_replay_by_staff(*, event: WebhookEvent, user) -> ReplayResult:
    """Replay one stored event; what staff should be told."""
    try:
        step = webhook_event_replay(event=event)
    except Exception as exc:  # recorded on the event by the apply
        logger.warning(
            "webhook_replay_failed",
            extra={
                "event_id": event.stripe_event_id,
                "user": user.get_username(),
                "error": type(exc).__name__,
            },
        )
        return ReplayResult(False, f"replay failed again ({type(exc).__name__}); see the error below")
    logger.info(
        "webhook_replayed",
        extra={"event_id": event.stripe_event_id, "user": user.get_username(), "outcome": step.text},
    )
    return ReplayResult(True, step.text)
