from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Agenda"

    def ready(self) -> None:
        # The booking block's Celery tasks live beside the agenda's own.
        from agenda import audit_types, notification_types, retention  # noqa: F401
        from agenda.booking import tasks  # noqa: F401
