"""Server-side AWS Signature Version 4 verification, recomputed with botocore's own signer."""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from reelrank.config import SIGNATURE_MAX_SKEW_SECONDS
from reelrank.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

_ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH_PARAMS = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]+)")
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


def verify(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, str],
    now: float | None = None,
) -> str:
    """Raise the AWS error for an unsigned, malformed, unknown-key, expired or tampered request.

    `headers` must be keyed by lower-case names. Returns the caller's access key id.
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    if not authorization.startswith(_ALGORITHM + " "):
        raise IncompleteSignatureException(f"Unsupported authorization algorithm; expected {_ALGORITHM}.")
    params = dict(_AUTH_PARAMS.findall(authorization))
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in params:
            raise IncompleteSignatureException(
                f"Authorization header requires '{required}' parameter. Authorization={authorization}"
            )
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignatureException(f"Credential is malformed: {params['Credential']}")
    access_key, scope_date, region, service, _ = scope
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise IncompleteSignatureException(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ) from None
    secret = credentials.get(access_key)
    if secret is None:
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    _check_clock(signed_at, amz_date, time.time() if now is None else now)
    if not amz_date.startswith(scope_date):
        raise InvalidSignatureException(f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                        f"version of date from HTTP: '{scope_date}' != '{amz_date[:8]}'")
    signed_names = params["SignedHeaders"].split(";")
    missing = [name for name in signed_names if name not in headers]
    if missing:
        raise InvalidSignatureException(_MISMATCH)
    request = AWSRequest(
        method=method,
        url=f"http://{headers.get('host', 'localhost')}{path}" + (f"?{query}" if query else ""),
        data=body,
        headers={name: headers[name] for name in signed_names},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret), service, region)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    expected: str = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, params["Signature"]):
        raise InvalidSignatureException(_MISMATCH)
    return str(access_key)


def _check_clock(signed_at: float, amz_date: str, now: float) -> None:
    now_text = datetime.fromtimestamp(now, UTC).strftime(_AMZ_DATE)
    if signed_at < now - SIGNATURE_MAX_SKEW_SECONDS:
        earliest = datetime.fromtimestamp(now - SIGNATURE_MAX_SKEW_SECONDS, UTC).strftime(_AMZ_DATE)
        raise InvalidSignatureException(
            f"Signature expired: {amz_date} is now earlier than {earliest} ({now_text} - 5 min.)"
        )
    if signed_at > now + SIGNATURE_MAX_SKEW_SECONDS:
        latest = datetime.fromtimestamp(now + SIGNATURE_MAX_SKEW_SECONDS, UTC).strftime(_AMZ_DATE)
        raise InvalidSignatureException(
            f"Signature not yet current: {amz_date} is still later than {latest} ({now_text} + 5 min.)"
        )
