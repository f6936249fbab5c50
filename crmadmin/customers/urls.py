from django.contrib.auth.decorators import permission_required
from django.urls import path

from crmadmin.core.views import not_built

app_name = "customers"
urlpatterns = [
    path(
        "",
        permission_required("customers.view_customer", raise_exception=True)(not_built),
        name="list",
    ),
]
