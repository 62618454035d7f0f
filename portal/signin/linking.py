"""Which local account a verified national identity opens. Never a new one.

- Pro Santé Connect: the national identifier `SubjectNameID` (idNatPS = `8` + RPPS)
  designates the active `Professional` with that RPPS; the e-mail address plays no part.
  An identifier that is not an RPPS one, or an RPPS the portal does not know, is refused.
- FranceConnect+: the identity is first linked to an existing person's or carer's account
  whose e-mail address the portal itself verified (accepting an invitation verifies it):
  the address FranceConnect+ returns must be that one. When the account is the person's
  own, the birth date must also be the one in their record. Afterwards FranceConnect+'s
  `sub` alone finds the account. Professional and administrator accounts are not opened
  through FranceConnect+ (Pro Santé Connect, or password and second factor, for them).

Every refusal raises `SignInRefused` with a French message; nothing is written then.
"""

from __future__ import annotations

import logging

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.http import HttpRequest

from coordination.models import CarerLink, Person, Professional
from portal.signin.franceconnect.provider import FranceConnectPlusProvider
from portal.signin.oidc import SignInRefused
from portal.signin.psc.provider import ProSanteConnectProvider, rpps_from_national_id

logger = logging.getLogger("portal.signin")

UNKNOWN_PROFESSIONAL = (
    "Votre carte professionnelle est valide, mais aucun compte du portail ne correspond à votre numéro RPPS. "
    "Aucun compte n'a été ouvert ni modifié. Demandez au référent de votre structure d'enregistrer votre "
    "numéro RPPS sur votre compte."
)
NOT_AN_RPPS = (
    "Le portail reconnaît les professionnels par leur numéro RPPS, et votre identifiant n'en est pas un. "
    "Aucun compte n'a été ouvert ni modifié. Connectez-vous avec votre adresse e-mail et votre mot de passe."
)
OTHER_ACCOUNT = (
    "Cette identité est déjà reliée à un autre compte du portail. Aucun compte n'a été modifié. "
    "Contactez le référent de votre structure."
)
UNKNOWN_PERSON = (
    "Aucun compte du portail ne correspond à votre identité FranceConnect+. Aucun compte n'a été ouvert. "
    "Votre compte s'ouvre par l'invitation que vous envoie la structure qui vous accompagne ; une fois "
    "l'invitation acceptée, vous pourrez vous connecter avec FranceConnect+ (avec la même adresse e-mail)."
)
IDENTITY_MISMATCH = (
    "L'identité transmise par FranceConnect+ ne correspond pas à celle de votre dossier. "
    "Aucun compte n'a été ouvert ni modifié. Contactez la structure qui vous accompagne."
)
PROFESSIONAL_ACCOUNT = (
    "Ce compte est un compte professionnel : connectez-vous avec Pro Santé Connect, ou avec votre mot de passe "
    "et votre second facteur. Aucun compte n'a été modifié."
)


def account_for(request: HttpRequest, sociallogin: SocialLogin):
    """The local user this national sign-in may open, or SignInRefused."""
    provider = sociallogin.account.provider
    if provider == ProSanteConnectProvider.id:
        user = _professional_account(sociallogin)
    elif provider == FranceConnectPlusProvider.id:
        user = _person_or_carer_account(request, sociallogin)
    else:
        return None
    if sociallogin.is_existing and sociallogin.user.pk != user.pk:
        raise SignInRefused("other_account", OTHER_ACCOUNT)
    if sociallogin.state.get("process") == AuthProcess.CONNECT and request.user.pk != user.pk:
        raise SignInRefused("other_account", OTHER_ACCOUNT)
    return user


def _professional_account(sociallogin: SocialLogin):
    rpps = rpps_from_national_id(sociallogin.account.uid)
    if rpps is None:
        raise SignInRefused("not_rpps", NOT_AN_RPPS)
    professional = (
        Professional.objects.select_related("user").filter(rpps=rpps, is_active=True, user__is_active=True).first()
    )
    if professional is None:
        raise SignInRefused("unknown_rpps", UNKNOWN_PROFESSIONAL)
    return professional.user


def _is_person_or_carer(user) -> bool:
    return (
        Person.objects.filter(user=user).exists() or CarerLink.objects.filter(user=user, ended_on__isnull=True).exists()
    )


def _person_or_carer_account(request: HttpRequest, sociallogin: SocialLogin):
    if sociallogin.is_existing:
        user = sociallogin.user
    elif sociallogin.state.get("process") == AuthProcess.CONNECT and request.user.is_authenticated:
        # Signed in already (password): the person links FranceConnect+ to their account.
        user = request.user
    else:
        user = _user_by_verified_email(sociallogin.account.extra_data["userinfo"].get("email"))
    if not user.is_active:
        raise SignInRefused("inactive", UNKNOWN_PERSON)
    if user.is_staff or user.is_superuser or user.is_professional:
        raise SignInRefused("professional_account", PROFESSIONAL_ACCOUNT)
    if not _is_person_or_carer(user):
        raise SignInRefused("not_person_or_carer", UNKNOWN_PERSON)
    _check_birth_date(user, sociallogin.account.extra_data["userinfo"].get("birthdate"))
    return user


def _user_by_verified_email(email):
    if not isinstance(email, str) or not email.strip():
        raise SignInRefused("no_email", UNKNOWN_PERSON)
    addresses = list(EmailAddress.objects.select_related("user").filter(email__iexact=email.strip(), verified=True)[:2])
    if len(addresses) != 1:
        raise SignInRefused("unknown_email", UNKNOWN_PERSON)
    return addresses[0].user


def _check_birth_date(user, birthdate) -> None:
    person = Person.objects.filter(user=user).only("birth_date").first()
    if person is None:
        return
    if not isinstance(birthdate, str) or birthdate != person.birth_date.isoformat():
        raise SignInRefused("birth_date", IDENTITY_MISMATCH)
