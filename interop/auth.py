"""Who calls the FHIR API: a connected software with an OAuth 2.0 bearer token (client
credentials), acting as its service account, or a signed-in portal user (reads only).
Either way, what they may see is decided afterwards by the one access gate."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import get_oauthlib_core

from interop.fhir.common import FhirError
from interop.models import ConnectedSoftware
from interop.scopes import scope


@dataclass(frozen=True)
class Caller:
    user: object
    software: ConnectedSoftware | None = None
    token: object | None = None

    def require(self, resource_type: str, action: str) -> None:
        """The token must carry the scope of this resource and action."""
        if self.software is None:
            if action != "read":
                raise FhirError(
                    403,
                    "Seul un logiciel connecté (jeton OAuth de sa structure) peut écrire par l'API FHIR.",
                    code="forbidden",
                )
            return
        wanted = scope(resource_type, action)
        if not self.token.allow_scopes([wanted]):
            raise FhirError(403, f"Le jeton d'accès ne donne pas le périmètre {wanted}.", code="forbidden")


def resolve(request: HttpRequest) -> Caller:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
        token = getattr(oauth_request, "access_token", None) if valid else None
        software = (
            ConnectedSoftware.objects.select_related("user", "structure")
            .filter(application_id=token.application_id)
            .first()
            if token is not None
            else None
        )
        if software is None or not software.is_active or not software.user.is_active:
            raise FhirError(401, "Jeton d'accès invalide, expiré ou révoqué.", code="login")
        return Caller(software.user, software, token)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Caller(user)
    raise FhirError(
        401,
        "Authentification requise : un jeton OAuth 2.0 (client credentials) dans l'en-tête Authorization.",
        code="login",
    )
