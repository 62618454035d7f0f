from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Échanges"

    def ready(self) -> None:
        from exchanges import audit_types, notification_types, retention  # noqa: F401
