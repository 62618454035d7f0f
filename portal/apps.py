from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portail et comptes"

    def ready(self) -> None:
        from django.conf import settings

        from admission import invitations as admission_invitations
        from portal import invitations

        # The admission page invites carers and representatives through the portal's own service.
        admission_invitations.set_sender(
            lambda **kwargs: invitations.invitation_create(base_url=settings.SITE_URL, **kwargs)
        )
