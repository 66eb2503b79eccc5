"""reelrank: a self-hosted, boto3-compatible Amazon Personalize."""

__version__ = "0.1.0"
