from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Dossier complet (export, transmission, conservation)"

    def ready(self) -> None:
        from records import audit_types, notification_types, retention  # noqa: F401
