from django.urls import path

from crmadmin.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list, name="list"),
    path("<int:entry_id>/", views.audit_detail, name="detail"),
    path("export.csv", views.audit_export, name="export"),
    path("dashboard/", views.audit_dashboard, name="dashboard"),
]
