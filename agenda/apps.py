from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Agenda"

    def ready(self) -> None:
        # Register the booking block's Celery tasks (agenda/tasks.py belongs to the agenda block).
        from agenda import booking_tasks  # noqa: F401
