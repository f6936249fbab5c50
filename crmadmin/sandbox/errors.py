"""The sandbox's error codes: what a CRM call answers with ``status`` 0.

The vendor publishes no table of error codes, so these are the sandbox's own; the
README lists them. 10xx: the request itself is unusable; 11xx: it contradicts the data.
Messages are in Vietnamese, as the real service's often are: they are the emulated
upstream's words, shown to staff as the CRM's answer, not texts of the dashboard.
"""

from enum import IntEnum


class ErrorCode(IntEnum):
    INVALID_JSON = 1001
    TENANT_MISMATCH = 1002
    MISSING_KEY = 1003
    WRONG_TYPE = 1004
    TOO_LONG = 1005
    NO_PHONE = 1006
    DUPLICATE_CODE = 1101
    UNKNOWN_CODE = 1102
    UNKNOWN_STATUS = 1103
    UNKNOWN_TYPE = 1104
    UNKNOWN_GROUP = 1105
    UNKNOWN_FIELD = 1106
    IN_USE = 1107
    DUPLICATE_GROUP_NAME = 1108


class Rejection(Exception):
    """A CRM call the sandbox refuses: answered HTTP 200 with status 0, this code and message."""

    def __init__(self, error: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
