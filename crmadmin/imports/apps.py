from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "crmadmin.imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        # The import's CRM calls run as jobs: their kinds register on import.
        from crmadmin.imports import job_kinds  # noqa: F401
