"""Registered with allauth's provider registry, which imports `<app>.provider`."""

from portal.signin.franceconnect.provider import FranceConnectPlusProvider
from portal.signin.psc.provider import ProSanteConnectProvider

provider_classes = [ProSanteConnectProvider, FranceConnectPlusProvider]
