"""Invitations to the user portal: a structure professional invites the person or a carer.

The e-mail carries a random token; only its SHA-256 hash is stored. The link works once
and expires after `PORTAL_INVITATION_DAYS`. Accepting it creates (or links) the account
through the circle's own services (`person_link_account`, `carer_link_create`), so the
circle, the matrix and the audit trail are exactly as for any other account.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common import outbox
from common.handoff import last_error_recorder, queue_after_commit
from coordination import access, services
from coordination.models import CarerLink, Category, Person, Relationship
from portal.models import InvitationEmail, PortalInvitation

logger = logging.getLogger(__name__)

INVALID_LINK = (
    "Ce lien d'invitation ne fonctionne pas. Il a peut-être déjà servi ou il a expiré. "
    "Demandez une nouvelle invitation à la structure qui vous accompagne."
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str, base_url: str = "") -> str:

    return f"{base_url}{reverse('portal_invitation_accept', args=[token])}"


@transaction.atomic
def invitation_create(
    *, actor, person: Person, email: str, relationship: str = "", base_url: str = ""
) -> tuple[PortalInvitation, str]:
    """A professional with `circle` write on the person invites them (empty relationship)
    or a carer. Returns the invitation and the clear token (to put in the e-mail only).

    Guarantees: the gate allowed it (404/403 otherwise); the token is never stored; the
    e-mail leaves after commit; the person already having an account is refused.
    """
    access.require(actor, person, Category.CIRCLE, "write")
    if not actor.is_professional:
        raise access.AccessDenied("Seul un professionnel de la structure peut envoyer une invitation.")
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": "Indiquez l'adresse e-mail de la personne à inviter."})
    if relationship:
        if relationship not in Relationship.values:
            raise ValidationError({"relationship": "Choisissez le lien avec la personne."})
        if CarerLink.objects.filter(person=person, user__email__iexact=email, ended_on__isnull=True).exists():
            raise ValidationError({"email": "Ce compte est déjà lié à la personne."})
    elif person.user_id:
        raise ValidationError({"email": "Cette personne a déjà un compte sur le portail."})
    token = secrets.token_urlsafe(32)
    invitation = PortalInvitation.objects.create(
        person=person,
        email=email,
        relationship=relationship,
        token_hash=hash_token(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.PORTAL_INVITATION_DAYS),
    )
    email_row = InvitationEmail.objects.create(invitation=invitation, link=invitation_url(token, base_url))
    from portal.tasks import send_invitation_email

    queue_after_commit(send_invitation_email, [email_row.pk], record=last_error_recorder(InvitationEmail))
    return invitation, token


def invitation_email_send(email_id: int) -> str:
    """Send one invitation e-mail (the worker's task): claimed with a lease, retried with
    backoff, the same Message-ID on every attempt; the link is blanked once it has left."""
    if not outbox.claim(InvitationEmail, email_id):
        return "skipped"
    row = InvitationEmail.objects.select_related("invitation__person").get(pk=email_id)
    invitation = row.invitation
    context = {"invitation": invitation, "link": row.link, "days": settings.PORTAL_INVITATION_DAYS}
    message = EmailMessage(
        subject="Invitation à votre espace sur le portail",
        body=render_to_string("portal/user/email/invitation.txt", context),
        to=[invitation.email],
        headers={"Message-ID": row.message_id},
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        return _email_failed(row, f"adresse refusée : {list(error.recipients)}", permanent=True)
    except smtplib.SMTPResponseException as error:
        return _email_failed(row, f"SMTP {error.smtp_code}", permanent=error.smtp_code >= 500)
    except Exception as error:  # noqa: BLE001 — relay unreachable, timeout…: try again later
        return _email_failed(row, f"{error.__class__.__name__}: {error}", permanent=False)
    outbox.mark_sent(InvitationEmail, email_id, link="")
    return "sent"


def _email_failed(row: InvitationEmail, reason: str, *, permanent: bool) -> str:
    status = outbox.record_failure(InvitationEmail, row.pk, attempts=row.attempts, error=reason, permanent=permanent)
    if status == "failed":
        logger.warning("invitation e-mail %s failed: %s", row.pk, reason)
    return status


def invitation_for_token(token: str) -> PortalInvitation:
    """The pending invitation of a link, or a ValidationError with a clear message."""
    invitation = (
        PortalInvitation.objects.select_related("person", "created_by")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        raise ValidationError(INVALID_LINK)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, first_name: str = "", last_name: str = ""):
    """Use the link once: create the account (or take the existing one with that
    address), set its password, verify its address, and link it to the person through
    the circle services. Returns the user. A used or expired link changes nothing."""
    invitation = invitation_for_token(token)
    invitation = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(INVALID_LINK)
    User = get_user_model()
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User(email=invitation.email, first_name=first_name.strip(), last_name=last_name.strip())
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password1": error.messages}) from None
    user.set_password(password)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    person = invitation.person
    if invitation.is_for_person:
        services.person_link_account(actor=invitation.created_by, person=person, user=user)
    else:
        services.carer_link_create(
            actor=invitation.created_by, person=person, user=user, relationship=invitation.relationship
        )
    invitation.used_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["used_at", "user"])
    return user
