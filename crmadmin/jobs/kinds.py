"""The kinds of job: one registry, filled by the apps that define work.

A kind names the permission needed to start it and the function that does one row::

    from crmadmin.jobs.kinds import JobKind, RowFailed, register

    def set_status_row(*, actor, parameters, row) -> str:
        customer = ...                       # from row.data, frozen when the job was made
        if customer is None:
            raise RowFailed(_("No longer in the register."))
        services.customer_update(actor=actor, ...)   # one audited call, as the owner
        return ""                            # a message for the report, may be empty

    register(JobKind("customer.set_status", _("Set status"), "customers.change_customer",
                     set_status_row))

The runner calls ``run_row`` once per row, in a worker thread, under the job owner's
name, with every audit entry it begins tagged with the job. A row's outcome:
- it returns: succeeded (its return value is the row's message);
- it raises ``RowFailed`` or an ``UpstreamError``: failed, with that message;
- its worker dies during the call: settled from the audit entry on resume, or
  "outcome unknown"; never sent again.
A handler makes at most one CRM call; a row it should not touch raises ``RowFailed``
before calling.
"""

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


class RowFailed(Exception):
    """A row that cannot be done; its message goes to the job's report."""


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str | Promise
    # Needed to start (or retry) a job of this kind.
    permission: str
    # run_row(*, actor, parameters, row) -> message
    run_row: Callable[..., str]
    # Where a row's key leads, e.g. a customer's page: (url name, kwarg), or None.
    row_url: tuple[str, str] | None = None
    # prepare(rows): called by the runner with each chunk of pending rows it reads, before
    # they are handed to the threads; may attach to them what ``run_row`` needs, read in
    # bulk (a few queries per chunk instead of a few per row). Optional.
    prepare: Callable[[list[Any]], None] | None = None
    # Keeping a record of the caller's own in step with its jobs (an import), so that no
    # page has to bring it up to date when it is read. Optional; each takes the Job.
    # on_created: inside the transaction that creates the job (a retry too).
    # on_ended: once the job has ended (finished, cancelled or failed), after commit;
    # an exception is logged, never raised into the runner.
    on_created: Callable[[Any], None] | None = None
    on_ended: Callable[[Any], None] | None = None


_KINDS: dict[str, JobKind] = {}
logger = logging.getLogger(__name__)


def register(kind: JobKind) -> JobKind:
    if kind.name in _KINDS and _KINDS[kind.name] != kind:
        raise ValueError(f"job kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r} is registered") from None


def job_ended(job_id: int) -> None:
    """Tell the job's kind that it has ended (``JobKind.on_ended``)."""
    from crmadmin.jobs.models import Job

    job = Job.objects.filter(pk=job_id).first()
    kind = _KINDS.get(job.kind) if job is not None else None
    if kind is None or kind.on_ended is None:
        return
    try:
        kind.on_ended(job)
    except Exception:
        logger.exception("the end of job %s could not be passed on to its kind", job_id)


def kind_label(name: str) -> Any:
    kind = _KINDS.get(name)
    return kind.label if kind else name


# Small lookups a handler would otherwise repeat on every row (a job's target status):
# kept for a few seconds, and emptied whenever a runner starts a job, so a job never
# sees another job's (or a previous run's) values.
_remembered: dict[Hashable, tuple[float, Any]] = {}


def remembered(key: Hashable, load: Callable[[], Any], *, seconds: float) -> Any:
    """``load()``'s value, read again only once it is ``seconds`` old (thread-safe enough:
    at worst two threads both load it)."""
    now = time.monotonic()
    cached = _remembered.get(key)
    if cached is not None and now - cached[0] < seconds:
        return cached[1]
    value = load()
    _remembered[key] = (now, value)
    return value


def forget_remembered() -> None:
    _remembered.clear()
