from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = "Interopérabilité (API FHIR, logiciels connectés)"

    def ready(self) -> None:
        from interop import audit_types  # noqa: F401
        from interop.channels import RestHookChannel
        from notifications import channels

        channels.register(RestHookChannel())
