from django.apps import AppConfig


class AdmissionConfig(AppConfig):
    name = "admission"
    verbose_name = "Admission"

    def ready(self) -> None:
        from admission import audit_types, notification_types, scope  # noqa: F401
