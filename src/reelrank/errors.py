"""AWS error codes as exceptions.

Each class is named after the AWS error code it serialises to (`__type` on the wire). The service layer
raises them; the protocol layer turns them into HTTP responses, taking the status code from the botocore
model of the service that answers (the same code is 400 on the control plane and 404 on the runtime).

    ServiceError
    ├── InvalidInputException
    ├── ResourceNotFoundException
    ├── ResourceAlreadyExistsException
    ├── ResourceInUseException
    ├── LimitExceededException
    ├── InvalidNextTokenException
    ├── TooManyTagsException
    ├── TooManyTagKeysException
    └── ProtocolError  (not modelled by Personalize: common AWS errors with a fixed status)
        ├── SerializationException, UnknownOperationException, RequestEntityTooLargeException
        ├── MissingAuthenticationTokenException, IncompleteSignatureException,
        │   InvalidSignatureException, UnrecognizedClientException
        └── InternalFailure
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error with an AWS error code; `status` is used when the model gives none."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__


class InvalidInputException(ServiceError):
    pass


class ResourceNotFoundException(ServiceError):
    pass


class ResourceAlreadyExistsException(ServiceError):
    pass


class ResourceInUseException(ServiceError):
    pass


class LimitExceededException(ServiceError):
    pass


class InvalidNextTokenException(ServiceError):
    pass


class TooManyTagsException(ServiceError):
    pass


class TooManyTagKeysException(ServiceError):
    pass


class ProtocolError(ServiceError):
    """Common AWS errors that are not in Personalize's model; their status is fixed."""


class SerializationException(ProtocolError):
    pass


class UnknownOperationException(ProtocolError):
    pass


class RequestEntityTooLargeException(ProtocolError):
    status = 413


class MissingAuthenticationTokenException(ProtocolError):
    status = 403


class IncompleteSignatureException(ProtocolError):
    status = 400


class InvalidSignatureException(ProtocolError):
    status = 403


class UnrecognizedClientException(ProtocolError):
    status = 403


class InternalFailure(ProtocolError):
    status = 500


def not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Could not find resource with ARN {arn}.")
