from django.apps import AppConfig


class PpaConfig(AppConfig):
    name = "ppa"
    verbose_name = "Projet personnalisé d'accompagnement"

    def ready(self) -> None:
        from ppa import audit_types, notification_types, retention  # noqa: F401
