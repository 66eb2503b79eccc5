"""The ASGI routes of the three protocols: `POST /` (AWS JSON 1.1) and the rest-json paths."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reelrank.config import Settings
from reelrank.errors import (
    InternalFailure,
    InvalidInputException,
    ProtocolError,
    RequestEntityTooLargeException,
    SerializationException,
    ServiceError,
    UnknownOperationException,
)
from reelrank.protocol import sigv4
from reelrank.protocol.models import TARGET_PREFIX, Operation, control_plane_operations, rest_routes
from reelrank.protocol.serialize import encode
from reelrank.protocol.validation import validate

log = logging.getLogger(__name__)
JSON_11 = "application/x-amz-json-1.1"
REST_JSON = "application/json"
Handler = Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]
HandlerLookup = Callable[[str], Handler | None]
F = TypeVar("F", bound=Callable[..., Any])


def event_loop_handler(method: F) -> F:
    """Mark a handler to run on the event loop: short CPU-bound work that would spend more time being handed to
    a worker thread (and back) than running. Its rare slow paths (a model's first load) hold this process's loop."""
    method.__dict__["on_event_loop"] = True
    return method


async def invoke(handler: Handler, params: dict[str, Any]) -> dict[str, Any]:
    """Run a handler where it belongs: a coroutine on the event loop, an `event_loop_handler` directly, any other
    in the thread pool (it may wait on the database)."""
    if inspect.iscoroutinefunction(handler):
        answer: dict[str, Any] = await handler(params)
        return answer
    if getattr(handler, "on_event_loop", False):
        result = handler(params)
    else:
        result = await run_in_threadpool(handler, params)
    assert isinstance(result, dict)
    return result


class Dispatcher:
    def __init__(self, settings: Settings, handlers: HandlerLookup) -> None:
        self.settings = settings
        self.handlers = handlers

    async def control_plane(self, request: Request) -> Response:
        return await self._serve(request, JSON_11, self._control_plane_operation)

    async def rest(self, request: Request) -> Response:
        return await self._serve(request, REST_JSON, self._rest_operation)

    @staticmethod
    def _control_plane_operation(request: Request) -> Operation:
        target = request.headers.get("x-amz-target", "")
        operation = control_plane_operations().get(target.removeprefix(TARGET_PREFIX))
        if not target.startswith(TARGET_PREFIX) or operation is None:
            raise UnknownOperationException(f"Unknown operation {target or '(no X-Amz-Target header)'}.")
        return operation

    @staticmethod
    def _rest_operation(request: Request) -> Operation:
        operation = rest_routes().get(request.url.path)
        if operation is None:
            raise UnknownOperationException(f"Unknown operation POST {request.url.path}.")
        return operation

    async def _serve(self, request: Request, content_type: str,
                     find: Callable[[Request], Operation]) -> Response:
        request_id = str(uuid.uuid4())
        operation: Operation | None = None
        try:
            body = await self._read_body(request)
            self._authenticate(request, body)
            operation = find(request)
            params = validate(_decode(body), operation.model.input_shape)
            handler = self.handlers(operation.name)
            if handler is None:
                raise InvalidInputException(
                    f"{operation.name} is not supported by this reelrank server yet; see docs/compatibility.md.")
            result = await invoke(handler, params)
            payload = encode(result, operation.model.output_shape)
            return Response(payload, 200, {"x-amzn-RequestId": request_id}, content_type)
        except ServiceError as error:
            return _error_response(error, operation, content_type, request_id)
        except Exception:
            log.exception("internal failure in %s", operation.name if operation else request.url.path)
            return _error_response(InternalFailure("An internal error occurred; it has been logged."),
                                   operation, content_type, request_id)

    def extension(self, handler: Callable[[dict[str, str]], dict[str, Any]]) -> Callable[[Request], Any]:
        """A signed GET endpoint outside the AWS API (reelrank's own), answering JSON from query parameters."""

        async def endpoint(request: Request) -> Response:
            request_id = str(uuid.uuid4())
            try:
                self._authenticate(request, b"")
                result = await run_in_threadpool(handler, dict(request.query_params))
                return Response(orjson.dumps(result), 200, {"x-amzn-RequestId": request_id}, REST_JSON)
            except ServiceError as error:
                return _error_response(error, None, REST_JSON, request_id)

        return endpoint

    def _authenticate(self, request: Request, body: bytes) -> None:
        if self.settings.auth:
            headers = {key.decode().lower(): value.decode() for key, value in request.scope["headers"]}
            path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
            sigv4.verify(request.method, path, request.url.query, headers, body, self.settings.credentials)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestEntityTooLargeException(f"Request body of {declared} bytes exceeds the limit of {limit}.")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestEntityTooLargeException(f"Request body exceeds the limit of {limit} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)


def _decode(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from None


def _error_response(error: ServiceError, operation: Operation | None, content_type: str,
                    request_id: str) -> Response:
    if isinstance(error, ProtocolError) or operation is None:
        status = error.status
    else:
        status = operation.error_status(error.code, error.status)
    body = orjson.dumps({"__type": error.code, "message": error.message})
    headers = {"x-amzn-ErrorType": error.code, "x-amzn-RequestId": request_id}
    return Response(body, status, headers, content_type)
