"""Domain errors of the API layer.

Service code raises these (never HTTP exceptions); :mod:`courtroom_api.error_handlers` maps them to
HTTP status codes in one place.
"""

from __future__ import annotations


class CourtroomApiError(Exception):
    """Root of every error raised by the API's own services."""


class NotFoundError(CourtroomApiError):
    """The object does not exist (or the caller may not know that it exists)."""


class PermissionDeniedError(CourtroomApiError):
    """The caller is authenticated but may not do this."""


class AuthenticationError(CourtroomApiError):
    """Missing, expired or forged credentials."""


class ConflictError(CourtroomApiError):
    """The request clashes with the object's state (e.g. a signed, locked record)."""


class ValidationFailedError(CourtroomApiError):
    """The request is well-formed but its content is not acceptable."""


class UploadTooLargeError(CourtroomApiError):
    """An upload exceeded the configured size limit; nothing was stored."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"upload exceeds the limit of {limit_bytes} bytes; nothing was stored")
        self.limit_bytes = limit_bytes


class StorageFullError(CourtroomApiError):
    """The server's disk is full; the request stored nothing."""


class EvidenceRejectedError(CourtroomApiError):
    """An uploaded file is not what it claims to be, or is corrupt; nothing was stored."""


class RangeNotSatisfiableError(CourtroomApiError):
    """A Range header asks for bytes outside the file."""

    def __init__(self, size: int) -> None:
        super().__init__(f"requested range not satisfiable (size {size} bytes)")
        self.size = size


class PreconditionFailedError(CourtroomApiError):
    """A conditional request's validator (If-Match) no longer names the current file."""


class TooManyAttemptsError(CourtroomApiError):
    """Too many failed logins for this name or from this address: try again after ``retry_after`` s."""

    def __init__(self, retry_after: float, *, from_address: bool = False) -> None:
        minutes = max(1, round(retry_after / 60))
        # an administrator lifts a login's lock (unlock, a new password); an address's lock only ends
        super().__init__(f"too many failed logins from this address: try again in {minutes} minute(s)" if from_address
                         else f"too many failed logins: try again in {minutes} minute(s), or ask an administrator")
        self.retry_after = retry_after


class ExportError(CourtroomApiError):
    """An export could not be produced (e.g. no CJK font installed)."""


class HubError(CourtroomApiError):
    """Root of live event hub errors."""


class SubscriberClosedError(HubError):
    """The subscriber was closed (by the client, the hearing's end, or because it fell behind)."""

    def __init__(self, reason: str, last_seq: int) -> None:
        super().__init__(f"{reason} (resume with after={last_seq})")
        self.reason = reason
        self.last_seq = last_seq
