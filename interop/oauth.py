"""django-oauth-toolkit's validator, with one more rule: only an active connected
software authenticates (a revoked one gets no new token, whatever its secret)."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class ConnectedSoftwareValidator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs) -> bool:
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        software = getattr(request.client, "connected_software", None)
        return software is not None and software.is_active
