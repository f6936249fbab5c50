from django.urls import path

from crmadmin.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("banner/", views.running_banner, name="banner"),
    path("bulk/customers/", views.bulk_customers, name="bulk_customers"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("<int:job_id>/retry/", views.job_retry, name="retry"),
    path("<int:job_id>/report.csv", views.job_report, name="report"),
]
