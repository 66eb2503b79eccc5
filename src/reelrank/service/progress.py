"""Progress of a resource's background job (reelrank's own extension, used by the CLI's progress bars).

Batch jobs also count rows: `rowsDone`, `rowsPerSecond` and `etaSeconds` (estimated seconds left); each is None
when the job counts no rows or the figure is not known yet."""

from __future__ import annotations

from typing import Any

from reelrank.errors import InvalidInputException, ResourceNotFoundException
from reelrank.service.context import Context


class Progress:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def job_progress(self, params: dict[str, str]) -> dict[str, Any]:
        arn = params.get("arn")
        if not arn:
            raise InvalidInputException("The query parameter arn is required.")
        with self.ctx.transaction() as tx:
            resource = tx.get_resource(arn)
            if resource is None:
                raise ResourceNotFoundException(f"Could not find resource with ARN {arn}.")
            stage, percent = tx.job_progress(arn)
            rows = tx.job_rows(arn)
        return {"arn": arn, "status": resource.status, "stage": stage, "percent": percent,
                "rowsDone": rows.done if rows else None, "rowsPerSecond": rows.per_second if rows else None,
                "etaSeconds": rows.eta_seconds if rows else None, "failureReason": resource.body.get("failureReason")}
