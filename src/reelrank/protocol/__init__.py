"""The wire only: AWS JSON 1.1 and rest-json dispatch, validation against botocore's models, errors, SigV4."""
