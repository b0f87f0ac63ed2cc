from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.index, name="index"),
    path("access/", views.access_explorer, name="access"),
    path("access/export.csv", views.access_export, name="access_export"),
    path("customers/<int:customer_id>/", views.customer_dossier, name="dossier"),
    path("customers/<int:customer_id>/reveal/", views.change_reveal_view, name="reveal"),
    path("reports/", views.report_view, name="reports"),
    path("integrity/", views.integrity, name="integrity"),
    path("activity/", views.activity, name="activity"),
]
