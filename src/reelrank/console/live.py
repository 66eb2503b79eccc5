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
USER_SCAN = 20_000
"""A user's live events are looked for among this many of the group's newest events."""
COUNT_CAP = 10_000
"""Events are counted up to this many (an index range of this size takes a few milliseconds)."""


def _row(row: Any) -> dict[str, Any]:
    return {"id": int(row.id), "userId": row.user_id, "sessionId": row.session_id, "itemId": row.item_id,
            "eventType": row.event_type, "eventValue": row.event_value,
            "when": datetime.fromtimestamp(float(row.sent_at), UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "recommendationId": row.recommendation_id}


def latest_events(ctx: Context, group_arn: str, limit: int = FEED_ROWS, user_id: str | None = None) -> list[
        dict[str, Any]]:
    """The group's newest item events, newest first; with `user_id`, that user's among the group's newest
    `USER_SCAN` events (the table has no index by user, and a user without live events must not cost a scan of
    every event the group ever had)."""
    query = (select(events.c.id, events.c.user_id, events.c.session_id, events.c.item_id, events.c.event_type,
                    events.c.event_value, events.c.sent_at, events.c.recommendation_id)
             .where(events.c.dataset_group_arn == group_arn, events.c.kind == "item")
             .order_by(events.c.id.desc()))
    if user_id is None:
        query = query.limit(limit)
    else:
        recent = query.limit(USER_SCAN).subquery()
        query = select(recent).where(recent.c.user_id == user_id).order_by(recent.c.id.desc()).limit(limit)
    with ctx.store.reading() as tx:
        rows = tx.connection.execute(query).all()
    return [_row(row) for row in rows]


def event_count(ctx: Context, group_arn: str, cap: int = COUNT_CAP) -> int:
    """How many item events the group has, counting no further than `cap` + 1 (a count over millions of events
    would take longer than the page: the stream then says "more than `cap`")."""
    some = (select(events.c.id).where(events.c.dataset_group_arn == group_arn, events.c.kind == "item")
            .limit(cap + 1).subquery())
    with ctx.store.reading() as tx:
        return int(tx.connection.execute(select(func.count()).select_from(some)).scalar_one())
