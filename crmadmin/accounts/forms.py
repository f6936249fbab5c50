"""The sign-in form."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class SignInForm(AuthenticationForm):
    """Django's form, with the username's length enforced: Django only sets ``max_length``
    on the field (too late for its validator), so an overlong name reached
    ``authenticate()`` and django-axes' 255-character column (a 500 on PostgreSQL)."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        if username.max_length:
            username.validators.append(MaxLengthValidator(username.max_length))
