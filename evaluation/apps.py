from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Évaluation"

    def ready(self) -> None:
        from evaluation import audit_types, notification_types  # noqa: F401
