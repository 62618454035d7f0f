from django.apps import AppConfig


class LiaisonConfig(AppConfig):
    name = "liaison"
    verbose_name = "Cahier de liaison"

    def ready(self) -> None:
        from coordination import news
        from liaison import audit_types, notification_types, retention  # noqa: F401
        from liaison.selectors import new_since_counter

        news.register("transmissions", new_since_counter)
