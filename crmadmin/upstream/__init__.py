"""The upstream client: the only code that talks to the CRM.

``from crmadmin.upstream import call, UpstreamError, UpstreamRejected, ...``. The names
load lazily, so the operation table and the errors can be imported before Django's app
registry is ready (the client itself needs the audit models).
"""

from crmadmin.upstream.errors import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamHTTPError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnauthorized,
)
from crmadmin.upstream.operations import OPERATIONS, Operation

__all__ = [
    "OPERATIONS",
    "Operation",
    "RegisterNotUpdated",
    "UpstreamConnectionError",
    "UpstreamError",
    "UpstreamHTTPError",
    "UpstreamMalformed",
    "UpstreamRejected",
    "UpstreamResult",
    "UpstreamTimeout",
    "UpstreamUnauthorized",
    "call",
    "guarded",
]


def __getattr__(name: str):
    if name in ("call", "UpstreamResult", "RegisterNotUpdated", "guarded"):
        from crmadmin.upstream import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
