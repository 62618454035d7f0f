from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns
from django.urls import path

from portal.signin.franceconnect import views
from portal.signin.franceconnect.provider import FranceConnectPlusProvider

urlpatterns = [
    *default_urlpatterns(FranceConnectPlusProvider),
    path("franceconnect/jwks/", views.jwks, name="franceconnect_jwks"),
]
