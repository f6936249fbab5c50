from django.urls import re_path

from crmadmin.sandbox import views

app_name = "sandbox"
# One catch-all: the view matches paths case-insensitively, as the real service does.
urlpatterns = [
    re_path(r"^(?P<path>.*)$", views.endpoint, name="endpoint"),
]
