from django.apps import AppConfig


class LiaisonConfig(AppConfig):
    name = "liaison"
    verbose_name = "Cahier de liaison"

    def ready(self) -> None:
        from coordination import news
        from liaison.selectors import new_since_counter

        news.register("transmissions", new_since_counter)
