from portal.signin.oidc import provider_views
from portal.signin.psc.provider import ProSanteConnectAdapter

oauth2_login, oauth2_callback = provider_views(ProSanteConnectAdapter)
