from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "crmadmin.jobs"
    verbose_name = _("Jobs")

    def ready(self) -> None:
        # The kinds of this app register themselves on import (see crmadmin.jobs.kinds).
        # The task is made once, with the configured backend's Task class.
        from crmadmin.jobs import customer_kinds, tasks  # noqa: F401
