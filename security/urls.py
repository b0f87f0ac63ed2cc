from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("security/two-factor/enrol/", views.enrol, name="enrol"),
    path("security/two-factor/enrol/qr.svg", views.enrol_qr, name="enrol_qr"),
    path("security/two-factor/verify/", views.verify, name="verify"),
    path("security/two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
]
