from django.apps import AppConfig


class SixthKindConfig(AppConfig):
    name = "tests.sixth_kind"
    default_auto_field = "django.db.models.BigAutoField"
