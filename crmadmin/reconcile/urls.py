from django.urls import path

from crmadmin.reconcile import views

app_name = "reconcile"
urlpatterns = [
    path("", views.attention_list, name="list"),
    path("count/", views.attention_count, name="count"),
    path("<int:entry_id>/", views.attention_item, name="item"),
    path("<int:entry_id>/restore/", views.restore, name="restore"),
]
