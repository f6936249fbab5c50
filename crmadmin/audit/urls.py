from django.contrib.auth.decorators import permission_required
from django.urls import path

from crmadmin.core.views import not_built

app_name = "audit"
urlpatterns = [
    path(
        "",
        permission_required("audit.view_auditentry", raise_exception=True)(not_built),
        name="list",
    ),
]
