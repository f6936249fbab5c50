from django.urls import path

from crmadmin.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_start, name="start"),
    path("<int:import_id>/", views.import_detail, name="detail"),
    path("<int:import_id>/columns/", views.import_columns, name="columns"),
    path("<int:import_id>/run/", views.import_run, name="run"),
    path("<int:import_id>/cancel/", views.import_cancel, name="cancel"),
    path("<int:import_id>/resume/", views.import_resume, name="resume"),
    path("<int:import_id>/errors.csv", views.import_errors, name="errors"),
]
