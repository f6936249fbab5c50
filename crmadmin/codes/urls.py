from django.urls import path

from crmadmin.core.views import not_built

app_name = "codes"
urlpatterns = [
    path("<slug:kind>/", not_built, name="list"),
]
