"""Botocore's service models for the three Personalize clients: the wire contract, loaded at run time."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

CONTROL_PLANE = "personalize"
RUNTIME = "personalize-runtime"
EVENTS = "personalize-events"
SERVICES = (CONTROL_PLANE, RUNTIME, EVENTS)
TARGET_PREFIX = "AmazonPersonalize."


@dataclass(frozen=True)
class Operation:
    service: str
    model: OperationModel

    @property
    def name(self) -> str:
        return str(self.model.name)

    def error_status(self, code: str, default: int) -> int:
        """HTTP status of a modelled error for this operation's service (the model says 404 on the runtime)."""
        for shape in self.model.service_model.error_shapes:
            if shape.name == code:
                return int(shape.metadata.get("error", {}).get("httpStatusCode", default))
        return default


@cache
def service_model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


@cache
def control_plane_operations() -> dict[str, Operation]:
    model = service_model(CONTROL_PLANE)
    return {name: Operation(CONTROL_PLANE, model.operation_model(name)) for name in model.operation_names}


@cache
def rest_routes() -> dict[str, Operation]:
    """Request path → operation for the rest-json services (runtime and events)."""
    routes: dict[str, Operation] = {}
    for service in (RUNTIME, EVENTS):
        model = service_model(service)
        for name in model.operation_names:
            operation = model.operation_model(name)
            routes[operation.http["requestUri"]] = Operation(service, operation)
    return routes


def all_operations() -> list[Operation]:
    return [*control_plane_operations().values(), *rest_routes().values()]
