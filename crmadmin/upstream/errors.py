"""Typed failures of a CRM call, each fit to show a staff user (``user_message``, ``str(e)``).

Every error carries the audit entry's ``request_id`` so a user can quote it and an
operator can find the entry. Messages hold the CRM's own words at most, never a token
or a password.
"""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext

# The audit log's FailureKind and Outcome values, as plain strings so this module can be
# imported before Django's app registry is ready (tests pin them to the model's choices).
FAILED = "failed"
REJECTED = "rejected"


class UpstreamError(Exception):
    failure_kind: str = "internal"
    outcome: str = FAILED

    def __init__(
        self,
        *,
        request_id: str = "",
        http_status: int | None = None,
        error_code: str = "",
        upstream_message: str = "",
        envelope: dict[str, Any] | None = None,
        detail: str = "",
    ) -> None:
        self.request_id = request_id
        self.http_status = http_status
        self.error_code = error_code
        self.upstream_message = upstream_message
        # The CRM's answer when it was an envelope, for the audit entry.
        self.envelope = envelope
        # What an operator needs in the audit entry (not shown to staff users).
        self.detail = detail
        super().__init__()

    @property
    def user_message(self) -> str:
        return self._describe()

    @property
    def may_have_acted(self) -> bool:
        """Whether the CRM may have made the change although no success came back (the
        outcome is unknown, as reconciliation reads it): such a call must not simply be
        sent again. An unexpected failure mid-call is taken to be such a one."""
        return True

    def _describe(self) -> str:
        return gettext("The call to the CRM failed.")

    def __str__(self) -> str:
        return self.user_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(request_id={self.request_id!r}, "
            f"http_status={self.http_status!r}, error_code={self.error_code!r})"
        )


class UpstreamRejected(UpstreamError):
    """The CRM answered the envelope with status 0: it refused the change."""

    failure_kind = REJECTED
    outcome = REJECTED

    @property
    def may_have_acted(self) -> bool:
        return False

    def _describe(self) -> str:
        message = self.upstream_message or gettext("no reason given")
        if self.error_code:
            return gettext("The CRM rejected the request: %(message)s (error %(code)s)") % {
                "message": message,
                "code": self.error_code,
            }
        return gettext("The CRM rejected the request: %(message)s") % {"message": message}


class UpstreamUnauthorized(UpstreamError):
    """The CRM refused the credentials or the token, even after one renewal."""

    failure_kind = "unauthorized"

    @property
    def may_have_acted(self) -> bool:
        return False

    def _describe(self) -> str:
        return gettext(
            "The CRM refused this dashboard's credentials. Nothing was changed; "
            "an administrator must check the CRM account settings."
        )


class UpstreamHTTPError(UpstreamError):
    """The CRM answered with an HTTP error status (5xx or another non-2xx)."""

    failure_kind = "http_error"

    def _describe(self) -> str:
        if self.may_have_acted:
            return gettext(
                "The CRM answered with an error (HTTP %(status)s). Nothing was changed "
                "here, but the CRM may have made the change: do not send it again before "
                "its outcome is settled under “Needs attention”."
            ) % {"status": self.http_status}
        return gettext("The CRM answered with an error (HTTP %(status)s). Nothing was changed.") % {
            "status": self.http_status
        }

    @property
    def may_have_acted(self) -> bool:
        # A 5xx may come after the change was made; a 4xx refused the request itself.
        return (self.http_status or 500) >= 500


class UpstreamTimeout(UpstreamError):
    """No answer in time: for a read timeout the CRM may or may not have made the change."""

    failure_kind = "timeout"

    def __init__(self, *, connect: bool = False, **kwargs: Any) -> None:
        self.connect = connect
        super().__init__(**kwargs)

    def _describe(self) -> str:
        if self.connect:
            return gettext(
                "The CRM could not be reached within %(seconds)s seconds. Nothing was "
                "changed here; try again in a moment."
            ) % {"seconds": _seconds(settings.CRM_CONNECT_TIMEOUT)}
        return gettext(
            "The CRM did not answer within %(seconds)s seconds. Nothing was changed "
            "here, but the CRM may have made the change: do not send it again before its "
            "outcome is settled under “Needs attention”."
        ) % {"seconds": _seconds(settings.CRM_READ_TIMEOUT)}

    @property
    def may_have_acted(self) -> bool:
        # A connect timeout (or a budget spent before sending) never reached the CRM.
        return not self.connect


class UpstreamConnectionError(UpstreamError):
    """The CRM could not be reached at all (refused, DNS, reset)."""

    failure_kind = "connection"

    @property
    def may_have_acted(self) -> bool:
        return False

    def _describe(self) -> str:
        return gettext(
            "The CRM could not be reached. Nothing was changed here; try again in a moment."
        )


class UpstreamMalformed(UpstreamError):
    """The CRM answered something that is not its JSON envelope."""

    failure_kind = "malformed"

    def _describe(self) -> str:
        return gettext(
            "The CRM gave an answer this dashboard does not understand. It may have made "
            "the change: do not send it again before its outcome is settled under “Needs "
            "attention”."
        )


def _seconds(value: float) -> str:
    return f"{value:g}"
