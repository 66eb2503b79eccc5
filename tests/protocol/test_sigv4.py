"""Unit tests for reelrank.protocol.sigv4.verify with requests signed by botocore's own SigV4Auth."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from urllib.parse import quote, urlencode, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from reelrank.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from reelrank.protocol.sigv4 import verify

KEY = "AKIATESTKEY000000001"
SECRET = "test-secret-key-0000000000000000000000001"
CREDENTIALS = {KEY: SECRET}
HOST = "localhost:8080"
BODY = b'{"name": "movies"}'
SIGNED_AT = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
NOW = SIGNED_AT.timestamp()
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


def sign(body: bytes = BODY, key: str = KEY, secret: str = SECRET, when: dt.datetime = SIGNED_AT,
         path: str = "/") -> dict[str, str]:
    """Lower-cased headers of a POST signed by botocore at `when`, as the server receives them."""
    headers = {"Host": HOST, "X-Amz-Target": "AmazonPersonalize.CreateDatasetGroup",
               "Content-Type": "application/x-amz-json-1.1"}
    request = AWSRequest(method="POST", url=f"http://{HOST}{path}", data=body, headers=headers)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        SigV4Auth(Credentials(key, secret), "personalize", "us-east-1").add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


def check(headers: dict[str, str], body: bytes = BODY, now: float = NOW, path: str = "/") -> str:
    return verify("POST", path, "", headers, body, CREDENTIALS, now=now)


def test_valid_signature_returns_the_access_key() -> None:
    assert check(sign()) == KEY


def test_signed_path_is_checked() -> None:
    assert check(sign(path="/events"), path="/events") == KEY
    with pytest.raises(InvalidSignatureException):
        check(sign(path="/events"), path="/users")


def test_missing_authorization_header() -> None:
    headers = sign()
    del headers["authorization"]
    with pytest.raises(MissingAuthenticationTokenException) as caught:
        check(headers)
    assert caught.value.message == "Missing Authentication Token"


def test_unsupported_algorithm() -> None:
    headers = sign()
    headers["authorization"] = headers["authorization"].replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1)
    with pytest.raises(IncompleteSignatureException) as caught:
        check(headers)
    assert caught.value.message == "Unsupported authorization algorithm; expected AWS4-HMAC-SHA256."


def test_authorization_without_signature() -> None:
    headers = sign()
    authorization = headers["authorization"].split(", Signature=")[0]
    headers["authorization"] = authorization
    with pytest.raises(IncompleteSignatureException) as caught:
        check(headers)
    assert caught.value.message == (
        f"Authorization header requires 'Signature' parameter. Authorization={authorization}")


def test_authorization_with_only_a_credential() -> None:
    headers = sign()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=abc"
    with pytest.raises(IncompleteSignatureException) as caught:
        check(headers)
    assert caught.value.message == (
        "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=abc")


def test_malformed_credential_scope() -> None:
    headers = sign()
    headers["authorization"] = headers["authorization"].replace("/aws4_request", "/aws5_request")
    with pytest.raises(IncompleteSignatureException) as caught:
        check(headers)
    assert caught.value.message == f"Credential is malformed: {KEY}/20240102/us-east-1/personalize/aws5_request"


def test_missing_amz_date() -> None:
    headers = sign()
    del headers["x-amz-date"]
    with pytest.raises(IncompleteSignatureException) as caught:
        check(headers)
    assert caught.value.message == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def test_unknown_access_key() -> None:
    with pytest.raises(UnrecognizedClientException) as caught:
        check(sign(key="AKIAUNKNOWN000000000"))
    assert caught.value.message == "The security token included in the request is invalid."


def test_wrong_secret() -> None:
    with pytest.raises(InvalidSignatureException) as caught:
        check(sign(secret="not-the-secret"))
    assert caught.value.message == MISMATCH


def test_tampered_body() -> None:
    with pytest.raises(InvalidSignatureException) as caught:
        check(sign(), body=b'{"name": "series"}')
    assert caught.value.message == MISMATCH


def test_tampered_signed_header() -> None:
    headers = sign()
    headers["x-amz-target"] = "AmazonPersonalize.DeleteDatasetGroup"
    with pytest.raises(InvalidSignatureException) as caught:
        check(headers)
    assert caught.value.message == MISMATCH


def test_signed_header_missing_from_the_request() -> None:
    headers = sign()
    del headers["content-type"]
    with pytest.raises(InvalidSignatureException) as caught:
        check(headers)
    assert caught.value.message == MISMATCH


def test_unsigned_header_may_change() -> None:
    headers = sign()
    headers["user-agent"] = "something-else"
    assert check(headers) == KEY


def test_expired_signature() -> None:
    with pytest.raises(InvalidSignatureException) as caught:
        check(sign(), now=NOW + 5 * 60 + 1)
    assert caught.value.message == (
        "Signature expired: 20240102T030405Z is now earlier than 20240102T030406Z (20240102T030906Z - 5 min.)")


def test_signature_not_yet_current() -> None:
    with pytest.raises(InvalidSignatureException) as caught:
        check(sign(), now=NOW - 5 * 60 - 1)
    assert caught.value.message == (
        "Signature not yet current: 20240102T030405Z is still later than 20240102T030404Z "
        "(20240102T025904Z + 5 min.)")


def test_five_minutes_minus_a_second_old_still_passes() -> None:
    assert check(sign(), now=NOW + 5 * 60 - 1) == KEY


def test_five_minutes_minus_a_second_early_still_passes() -> None:
    assert check(sign(), now=NOW - 5 * 60 + 1) == KEY


def test_credential_date_must_match_amz_date() -> None:
    headers = sign()
    headers["x-amz-date"] = "20240103T030405Z"
    with pytest.raises(InvalidSignatureException) as caught:
        check(headers, now=dt.datetime(2024, 1, 3, 3, 4, 5, tzinfo=dt.UTC).timestamp())
    assert caught.value.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        "'20240102' != '20240103'")


def test_malformed_amz_dates_are_incomplete_signatures() -> None:
    for value in ("2024-01-02T03:04:05Z", "20241302T030405Z", "20240230T030405Z", "20240102T250405Z", "garbage"):
        headers = sign()
        headers["x-amz-date"] = value
        with pytest.raises(IncompleteSignatureException):
            check(headers)


_PATH_SEGMENT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=12)
_QUERY_PART = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="&=#"), min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(segments=st.lists(_PATH_SEGMENT, max_size=3), query=st.dictionaries(_QUERY_PART, _QUERY_PART, max_size=3),
       body=st.binary(max_size=64), value=st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "Zs"]),
                                                  max_size=20))
def test_botocore_signatures_verify_and_any_change_is_caught(segments: list[str], query: dict[str, str],
                                                              body: bytes, value: str) -> None:
    """The lean verifier agrees with botocore's SigV4Auth on paths, queries, header values and bodies it signs."""
    url = f"http://{HOST}/" + "/".join(quote(segment, safe="") for segment in segments)
    if query:
        url += "?" + urlencode(query)
    headers = {"Host": HOST, "Content-Type": "application/json", "X-Custom": value}
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT.replace(tzinfo=None)):
        SigV4Auth(Credentials(KEY, SECRET), "personalize", "us-east-1").add_auth(request)
    signed = {name.lower(): str(content) for name, content in request.headers.items()}
    parts = urlsplit(request.url)
    assert verify("POST", parts.path, parts.query, signed, body, CREDENTIALS, now=NOW) == KEY
    with pytest.raises(InvalidSignatureException):
        verify("POST", parts.path, parts.query, signed, body + b"!", CREDENTIALS, now=NOW)
    with pytest.raises(InvalidSignatureException):
        verify("POST", parts.path + "x", parts.query, signed, body, CREDENTIALS, now=NOW)
