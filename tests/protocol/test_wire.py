"""The wire contract with hand-built requests: errors, limits and authentication, never a 500."""

from __future__ import annotations

import datetime as dt

import httpx
import orjson
import pytest

from tests.support.raw import control_plane, rest, signed
from tests.support.servers import ReelrankServer


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = orjson.loads(response.content)
    assert response.headers["x-amzn-ErrorType"] == body["__type"]
    return response.status_code, body["__type"], body["message"]


def test_health(server: ReelrankServer) -> None:
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"


def test_malformed_json_is_a_serialization_error(server: ReelrankServer) -> None:
    status, code, message = error(control_plane(server.url, "ListSchemas", b'{"maxResults": '))
    assert (status, code) == (400, "SerializationException")
    assert message.startswith("The request body is not valid JSON")


def test_a_ten_megabyte_body_is_refused_before_parsing(server: ReelrankServer) -> None:
    body = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    status, code, message = error(control_plane(server.url, "CreateDatasetGroup", body))
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert "exceeds the limit of 1048576" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": 5}, "Value '5' at 'name' failed to satisfy constraint: Member must be a string"),
        ({"maxResults": "ten"}, "Value 'ten' at 'maxResults' failed to satisfy constraint: Member must be an integer"),
        ({"maxResults": 0}, "Member must have value greater than or equal to 1"),
        ({"maxResults": 101}, "Member must have value less than or equal to 100"),
        ({"maxResults": True}, "Member must be an integer"),
        (
            {"name": "ok", "colour": "red"},
            "Unknown member 'colour' (expected one of: name, roleArn, kmsKeyArn, domain, tags)",
        ),
        ({}, "Value 'null' at 'name' failed to satisfy constraint: Member must not be null"),
        ({"name": "ok", "tags": [{"tagKey": ""}]}, "at 'tags.1.member.tagKey' failed to satisfy constraint"),
    ],
)
def test_invalid_members_name_the_member_and_constraint(
    server: ReelrankServer, body: dict[str, object], expected: str
) -> None:
    operation = "ListDatasetGroups" if "maxResults" in body else "CreateDatasetGroup"
    status, code, message = error(control_plane(server.url, operation, orjson.dumps(body)))
    assert (status, code) == (400, "InvalidInputException")
    assert expected in message


def test_two_errors_are_counted(server: ReelrankServer) -> None:
    _, _, message = error(control_plane(server.url, "CreateDatasetGroup", orjson.dumps({"name": "-x", "domain": "X"})))
    assert message.startswith("2 validation errors detected: ")


@pytest.mark.parametrize(
    "arn", ["not-an-arn", "arn:aws:s3:::bucket/key", "arn:aws:personalize:us-east-1:0:" + "x" * 300]
)
def test_invalid_arns_are_refused(server: ReelrankServer, arn: str) -> None:
    status, code, message = error(
        control_plane(server.url, "DescribeDatasetGroup", orjson.dumps({"datasetGroupArn": arn}))
    )
    assert (status, code) == (400, "InvalidInputException")
    assert "at 'datasetGroupArn' failed to satisfy constraint" in message


def test_an_unknown_target_is_an_unknown_operation(server: ReelrankServer) -> None:
    status, code, _ = error(control_plane(server.url, "LaunchRockets", b"{}"))
    assert (status, code) == (400, "UnknownOperationException")


def test_unknown_paths_get_a_json_error(server: ReelrankServer) -> None:
    response = httpx.get(f"{server.url}/nowhere")
    assert response.status_code == 404 and response.json()["__type"] == "UnknownOperationException"


def test_runtime_errors_use_the_runtime_status_codes(server: ReelrankServer) -> None:
    body = orjson.dumps({"campaignArn": "arn:aws:personalize:us-east-1:000000000000:campaign/none", "userId": "u1"})
    status, code, _ = error(rest(server.url, "/recommendations", body))
    assert (status, code) == (404, "ResourceNotFoundException")
    status, code, _ = error(rest(server.url, "/events", orjson.dumps({"trackingId": "t", "sessionId": "s"})))
    assert (status, code) == (400, "InvalidInputException")
    body = orjson.dumps({"trackingId": "t", "sessionId": "s", "eventList": [{"eventType": "x", "sentAt": 1}]})
    status, code, _ = error(rest(server.url, "/events", body))
    assert (status, code) == (404, "ResourceNotFoundException")
class TestAuthentication:
    def test_unsigned_requests_are_refused(self, server: ReelrankServer) -> None:
        response = httpx.post(
            f"{server.url}/", content=b"{}", headers={"X-Amz-Target": "AmazonPersonalize.ListSchemas"}
        )
        assert error(response) == (403, "MissingAuthenticationTokenException", "Missing Authentication Token")

    def test_a_malformed_authorization_header_is_incomplete(self, server: ReelrankServer) -> None:
        response = httpx.post(
            f"{server.url}/",
            content=b"{}",
            headers={
                "X-Amz-Target": "AmazonPersonalize.ListSchemas",
                "Authorization": "AWS4-HMAC-SHA256 Signature=abc",
            },
        )
        status, code, _ = error(response)
        assert (status, code) == (400, "IncompleteSignatureException")

    def test_a_tampered_body_fails_the_signature(self, server: ReelrankServer) -> None:
        url = f"{server.url}/"
        headers = {"X-Amz-Target": "AmazonPersonalize.ListSchemas", "Content-Type": "application/x-amz-json-1.1"}
        headers = signed(url, b'{"maxResults": 1}', headers)
        status, code, message = error(httpx.post(url, content=b'{"maxResults": 2}', headers=headers))
        assert (status, code) == (403, "InvalidSignatureException")
        assert message.startswith("The request signature we calculated does not match the signature you provided.")

    def test_an_unknown_access_key_is_unrecognized(self, server: ReelrankServer) -> None:
        response = control_plane(server.url, "ListSchemas", b"{}", key="AKIAUNKNOWN000000000")
        assert error(response) == (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )

    def test_a_wrong_secret_fails_the_signature(self, server: ReelrankServer) -> None:
        status, code, _ = error(control_plane(server.url, "ListSchemas", b"{}", secret="wrong"))
        assert (status, code) == (403, "InvalidSignatureException")

    def test_a_signature_older_than_five_minutes_has_expired(self, server: ReelrankServer) -> None:
        when = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=6)
        status, code, message = error(control_plane(server.url, "ListSchemas", b"{}", when=when))
        assert (status, code) == (403, "InvalidSignatureException")
        assert message.startswith("Signature expired: ")

    def test_a_signature_from_the_future_is_not_yet_current(self, server: ReelrankServer) -> None:
        when = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=6)
        status, code, message = error(control_plane(server.url, "ListSchemas", b"{}", when=when))
        assert (status, code) == (403, "InvalidSignatureException")
        assert message.startswith("Signature not yet current: ")

    def test_a_correct_signature_passes(self, server: ReelrankServer) -> None:
        response = control_plane(server.url, "ListSchemas", b"{}")
        assert response.status_code == 200 and "schemas" in response.json()
