"""Read-only views of the events that PutEvents recorded (the `events` table), for the console's live stream and the
try-it panel's history. Nothing here writes: events are only ever recorded by the events API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from reelrank.service.context import Context
from reelrank.store.tables import events

FEED_ROWS = 50
"""Events the live stream shows (the newest ones)."""


def _row(row: Any) -> dict[str, Any]:
    return {"id": int(row.id), "userId": row.user_id, "sessionId": row.session_id, "itemId": row.item_id,
            "eventType": row.event_type, "eventValue": row.event_value,
            "when": datetime.fromtimestamp(float(row.sent_at), UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "recommendationId": row.recommendation_id}


def latest_events(ctx: Context, group_arn: str, limit: int = FEED_ROWS, user_id: str | None = None) -> list[
        dict[str, Any]]:
    """The group's newest item events (of one user when given), newest first."""
    query = (select(events.c.id, events.c.user_id, events.c.session_id, events.c.item_id, events.c.event_type,
                    events.c.event_value, events.c.sent_at, events.c.recommendation_id)
             .where(events.c.dataset_group_arn == group_arn, events.c.kind == "item"))
    if user_id is not None:
        query = query.where(events.c.user_id == user_id)
    with ctx.store.reading() as tx:
        rows = tx.connection.execute(query.order_by(events.c.id.desc()).limit(limit)).all()
    return [_row(row) for row in rows]


def event_count(ctx: Context, group_arn: str) -> int:
    query = select(func.count()).select_from(events).where(events.c.dataset_group_arn == group_arn,
                                                           events.c.kind == "item")
    with ctx.store.reading() as tx:
        return int(tx.connection.execute(query).scalar_one())
