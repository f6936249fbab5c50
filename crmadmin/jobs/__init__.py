"""Background jobs: long work (bulk actions, imports) as many audited CRM calls, run by
workers on Django's Tasks framework (``django.tasks``; backend chosen by ``JOBS_BACKEND``).

The API, for an app that wants to run work in the background:

1. Declare a kind once (at import of your app's module, e.g. from ``AppConfig.ready``)::

       from crmadmin.jobs.kinds import JobKind, RowFailed, register

       def import_row(*, actor, parameters, row) -> str:
           # row.key (str) and row.data (dict) are what you froze at creation;
           # parameters is the job's dict. Make at most ONE CRM call, through a service,
           # as ``actor`` (the job's owner). Return a message for the report ("" is fine);
           # raise RowFailed("why") for a row you refuse without calling; an
           # UpstreamError from the service marks the row failed with its message.
           ...

       register(JobKind("import.customers", _("Import customers"),
                        "customers.add_customer", import_row,
                        row_url=("customers:detail", "code")))

2. Create a job with its frozen rows (``(key, data)`` pairs, in order): it is created in
   one transaction and enqueued when that commits::

       from crmadmin.jobs.services import job_create
       job = job_create(owner=request.user, kind="import.customers",
                        rows=((r["code"], r) for r in parsed), parameters={...},
                        description=_("Import of file.xlsx"))
       return redirect("jobs:detail", job_id=job.pk)

3. ``/jobs/<id>/`` shows its live progress, counts, ETA, Cancel, "Retry failed rows" and
   the CSV report; every audit entry it made links back to it.

Guarantees (``runner``): at most ``CRM_MAX_CONCURRENCY`` calls in flight per job, the
shared ``CRM_RATE_LIMIT``, each row sent at most once even when a worker dies
(``kill -9``): the next worker resumes the job, and a row that was in flight is settled
from its audit entry or reported "outcome unknown".

Modules: ``models`` (Job, JobRow), ``kinds`` (the registry), ``services`` (create, cancel,
retry), ``runner`` (the engine), ``tasks`` (the django.tasks task), ``customer_kinds``
(the bulk actions on customers), ``worker`` and ``management/commands/jobs_worker``.
"""
