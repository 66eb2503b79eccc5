"""Event trackers and PutEvents: events are stored durably (once per eventId) and join the live histories."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from reelrank.errors import InvalidInputException, ResourceAlreadyExistsException, ResourceNotFoundException
from reelrank.jobs.kinds import ACTIVATE
from reelrank.service.arns import short_id
from reelrank.service.context import Context, require
from reelrank.service.datasets import DATASET, DATASET_GROUP, require_active
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import ACTIVE, CREATE_PENDING

EVENT_TRACKER = "event-tracker"
TRACKER_CACHE_SECONDS = 1.0
RESERVED_PROPERTIES = {"userId", "sessionId", "eventType", "timestamp", "recommendationId", "impression"}


class Events:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._trackers: dict[str, tuple[float, str]] = {}
        self._looking_up: dict[str, asyncio.Future[str]] = {}

    def create_event_tracker(self, params: dict[str, Any]) -> dict[str, Any]:
        group_arn = params["datasetGroupArn"]
        arn = self.ctx.arn(f"event-tracker/{short_id()}")
        tracking_id = str(uuid.uuid4())
        with self.ctx.transaction() as tx:
            require_active(tx, group_arn, DATASET_GROUP)
            if tx.count_resources(EVENT_TRACKER, group_arn):
                raise ResourceAlreadyExistsException(
                    f"Dataset group {group_arn} already has an event tracker; a group can have only one.")
            body = {"name": params["name"], "eventTrackerArn": arn, "accountId": self.ctx.settings.account,
                    "trackingId": tracking_id, "datasetGroupArn": group_arn}
            tx.insert_resource(EVENT_TRACKER, arn, params["name"], group_arn, CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, ACTIVATE, {})
        self.ctx.wake_jobs()
        return {"eventTrackerArn": arn, "trackingId": tracking_id}

    def describe_event_tracker(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(EVENT_TRACKER, params["eventTrackerArn"], "eventTracker")

    def list_event_trackers(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(EVENT_TRACKER, params, "eventTrackers", "datasetGroupArn")

    def delete_event_tracker(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            require(tx, params["eventTrackerArn"], EVENT_TRACKER)
            tx.delete_resource(params["eventTrackerArn"])
        return {}

    async def _group_of(self, tracking_id: str, kind: str = EVENT_TRACKER) -> str:
        """The dataset group of an event tracker's (or an action interactions dataset's) tracking id. Requests that
        find the cached answer expired wait for one look-up together: one each made the thread pool start workers
        on a busy process, which held its event loop for 30 ms and more at a time."""
        cached = self._trackers.get(tracking_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        pending = self._looking_up.get(tracking_id)
        if pending is None:
            pending = asyncio.ensure_future(run_in_threadpool(self._look_up_group, tracking_id, kind))
            self._looking_up[tracking_id] = pending
            pending.add_done_callback(lambda _: self._looking_up.pop(tracking_id, None))
        return await asyncio.shield(pending)

    def _look_up_group(self, tracking_id: str, kind: str) -> str:
        with self.ctx.store.reading() as tx:
            tracker = next((t for t in tx.list_resources(kind) if t.body.get("trackingId") == tracking_id), None)
        if tracker is None or tracker.status != ACTIVE:
            raise ResourceNotFoundException(f"No ACTIVE {kind} has the tracking id {tracking_id}.")
        group_arn: str = tracker.body["datasetGroupArn"]
        self._trackers[tracking_id] = (time.monotonic() + TRACKER_CACHE_SECONDS, group_arn)
        return group_arn

    async def put_events(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answered once the events are committed: a coroutine, so every concurrent request joins the writer's next
        batch instead of waiting for a thread."""
        group_arn = await self._group_of(params["trackingId"])
        rows = [_event_row(group_arn, params, event, number) for number, event in enumerate(params["eventList"], 1)]
        await self.ctx.event_writer.write(rows)
        return {}

    async def put_action_interactions(self, params: dict[str, Any]) -> dict[str, Any]:
        group_arn = await self._group_of(params["trackingId"], DATASET)
        rows = []
        for number, interaction in enumerate(params["actionInteractions"], 1):
            row = _event_row(group_arn, {"sessionId": interaction["sessionId"], "userId": interaction.get("userId")},
                             {"itemId": interaction["actionId"], "eventType": interaction["eventType"],
                              "sentAt": interaction["timestamp"], "eventId": interaction.get("eventId"),
                              "recommendationId": interaction.get("recommendationId"),
                              "impression": interaction.get("impression"), "properties": interaction.get("properties")},
                             number)
            rows.append(dict(row, kind="action"))
        await self.ctx.event_writer.write(rows)
        return {}


def _event_row(group_arn: str, params: dict[str, Any], event: dict[str, Any], number: int) -> dict[str, Any]:
    properties = event.get("properties")
    if properties is not None:
        decoded = orjson.loads(properties)
        if not isinstance(decoded, dict):
            raise InvalidInputException(f"eventList.{number}.member.properties must be a JSON object.")
        reserved = sorted(RESERVED_PROPERTIES & set(decoded))
        if reserved:
            raise InvalidInputException(
                f"eventList.{number}.member.properties uses reserved keys {reserved}; send them as event members.")
    row = {
        "dataset_group_arn": group_arn, "session_id": params["sessionId"], "user_id": params.get("userId"),
        "item_id": event.get("itemId"), "event_type": event["eventType"], "event_value": event.get("eventValue"),
        "sent_at": event["sentAt"], "properties": properties, "recommendation_id": event.get("recommendationId"),
        "impression": "|".join(event["impression"]) if event.get("impression") else None,
    }
    # Without an eventId, identical events (an SDK retry) get the same id and are stored once.
    row["event_id"] = event.get("eventId") or hashlib.sha256(orjson.dumps(row, option=orjson.OPT_SORT_KEYS)).hexdigest()
    row["kind"] = "item"
    return row
