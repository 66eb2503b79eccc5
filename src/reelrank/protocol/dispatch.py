"""The ASGI routes of the three protocols: `POST /` (AWS JSON 1.1) and the rest-json paths."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from reelrank import ids
from reelrank.balance import ConnectionBalance
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


async def invoke(handler: Handler, params: dict[str, Any]) -> dict[str, Any]:
    """Run a handler where it belongs: a coroutine on the event loop, any other in the thread pool (it may wait on
    the database)."""
    if inspect.iscoroutinefunction(handler):
        answer: dict[str, Any] = await handler(params)
        return answer
    result = await run_in_threadpool(handler, params)
    assert isinstance(result, dict)
    return result


class Dispatcher:
    """The AWS API's ASGI front door: `POST /` and the rest-json paths are answered here, at the ASGI level (no
    router, middleware or request objects on the hot path); every other request goes on to `fallback`. In a forked
    server, `balance` decides when an answer closes its connection to even out the processes' shares."""

    def __init__(self, settings: Settings, handlers: HandlerLookup, fallback: ASGIApp,
                 balance: ConnectionBalance | None = None) -> None:
        self.settings = settings
        self.handlers = handlers
        self.fallback = fallback
        self.balance = balance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path == "/":
                await self._serve(scope, receive, send, JSON_11, None)
                return
            operation = rest_routes().get(path)
            if operation is not None:
                await self._serve(scope, receive, send, REST_JSON, operation)
                return
        await self.fallback(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, content_type: str,
                     operation: Operation | None) -> None:
        """One AWS request; `operation` is None for the control plane, which names it in X-Amz-Target."""
        request_id = ids.request_id()
        headers = _headers(scope)
        status, extra = 200, list[tuple[bytes, bytes]]()
        try:
            body = await self._read_body(receive, headers)
            authenticate(self.settings, scope, headers, body)
            if operation is None:
                operation = _control_plane_operation(headers)
            params = validate(_decode(body), operation.model.input_shape)
            handler = self.handlers(operation.name)
            if handler is None:
                raise InvalidInputException(
                    f"{operation.name} is not supported by this reelrank server yet; see docs/compatibility.md.")
            result = await invoke(handler, params)
            payload = encode(result, operation.model.output_shape)
        except Exception as error:
            if not isinstance(error, ServiceError):
                log.exception("internal failure in %s", operation.name if operation else scope["path"])
                error = InternalFailure("An internal error occurred; it has been logged.")
            status, payload = _error(error, operation)
            extra = [(b"x-amzn-errortype", error.code.encode())]
        if self.balance is not None and self.balance.over_share():
            extra.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", content_type.encode()), (b"content-length", str(len(payload)).encode()),
            (b"x-amzn-requestid", request_id.encode()), *extra]})
        await send({"type": "http.response.body", "body": payload})

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestEntityTooLargeException(f"Request body of {declared} bytes exceeds the limit of {limit}.")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise RequestEntityTooLargeException(f"Request body exceeds the limit of {limit} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def signed_extension(settings: Settings,
                     handler: Callable[[dict[str, str]], dict[str, Any]]) -> Callable[[Request], Any]:
    """A signed GET endpoint outside the AWS API (reelrank's own), answering JSON from query parameters."""

    async def endpoint(request: Request) -> Response:
        request_id = ids.request_id()
        try:
            authenticate(settings, request.scope, _headers(request.scope), b"")
            result = await run_in_threadpool(handler, dict(request.query_params))
            return Response(orjson.dumps(result), 200, {"x-amzn-RequestId": request_id}, REST_JSON)
        except ServiceError as error:
            status, payload = _error(error, None)
            return Response(payload, status, {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code},
                            REST_JSON)

    return endpoint


def authenticate(settings: Settings, scope: Scope, headers: dict[str, str], body: bytes) -> None:
    """Check the request's SigV4 signature (unless auth is off); `headers` keyed by lower-case names."""
    if settings.auth:
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        sigv4.verify(scope["method"], path, scope["query_string"].decode("latin-1"), headers, body,
                     settings.credentials)


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}


def _control_plane_operation(headers: dict[str, str]) -> Operation:
    target = headers.get("x-amz-target", "")
    operation = control_plane_operations().get(target.removeprefix(TARGET_PREFIX))
    if not target.startswith(TARGET_PREFIX) or operation is None:
        raise UnknownOperationException(f"Unknown operation {target or '(no X-Amz-Target header)'}.")
    return operation


def _decode(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from None


def _error(error: ServiceError, operation: Operation | None) -> tuple[int, bytes]:
    """The status and body of an AWS error answer (its code goes in the x-amzn-ErrorType header too)."""
    if isinstance(error, ProtocolError) or operation is None:
        status = error.status
    else:
        status = operation.error_status(error.code, error.status)
    return status, orjson.dumps({"__type": error.code, "message": error.message})
