"""The test settings plus the throw-away app that holds the sixth kind's model."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.sixth_kind"]  # noqa: F405
