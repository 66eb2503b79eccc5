"""Progress of a resource's background job (reelrank's own extension, used by the CLI's progress bars)."""

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
        return {"arn": arn, "status": resource.status, "stage": stage, "percent": percent,
                "failureReason": resource.body.get("failureReason")}
