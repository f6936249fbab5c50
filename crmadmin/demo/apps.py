from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data and ``bootstrap``: the top of the house, it may use every app and no app
    uses it (the import-linter contract in pyproject.toml says so)."""

    name = "crmadmin.demo"
    verbose_name = _("Demo data")
