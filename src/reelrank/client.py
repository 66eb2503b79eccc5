"""Small client helpers for the CLI: boto3 clients for a reelrank endpoint and its own signed extension calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session


@dataclass(frozen=True)
class Endpoint:
    url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self, service: str = "personalize") -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=self.region,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)

    def progress(self, arn: str) -> dict[str, Any]:
        """GET /reelrank/progress, signed like any other call."""
        request = AWSRequest(method="GET", url=f"{self.url}/reelrank/progress?{urlencode({'arn': arn})}")
        SigV4Auth(Credentials(self.access_key, self.secret_key), "personalize", self.region).add_auth(request)
        response = URLLib3Session().send(request.prepare())
        body: dict[str, Any] = orjson.loads(response.content)
        if response.status_code != 200:
            raise RuntimeError(f"{body.get('__type')}: {body.get('message')}")
        return body
