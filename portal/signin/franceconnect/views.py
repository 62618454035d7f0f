from django.http import Http404, HttpRequest, JsonResponse

from portal.signin.franceconnect.provider import FranceConnectPlusAdapter, encryption_key, public_jwks
from portal.signin.oidc import provider_views

oauth2_login, oauth2_callback = provider_views(FranceConnectPlusAdapter)


def jwks(request: HttpRequest) -> JsonResponse:
    """The public half of the portal's encryption key, for FranceConnect+ to encrypt to."""
    if encryption_key() is None:
        raise Http404
    return JsonResponse(public_jwks())
