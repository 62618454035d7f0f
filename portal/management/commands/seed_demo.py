"""Load the demo data set (idempotent) and print the demo logins.

Everything that carries rights is made through `coordination.services`, as the
application would: the circles, the access matrix and the guardian permissions are
exactly those of real use. Rows are found again by e-mail address (accounts),
FINESS (structures) and identity traits (persons), so a second run adds nothing.

The demo accounts share one password and, for the administrator and the
professionals (who must use a second factor), one fixed TOTP secret, printed at the
end with the current code and an otpauth:// URI for an authenticator app.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from coordination import services
from coordination.identifiers import ins_key
from coordination.models import (
    Accompaniment,
    CarerLink,
    Category,
    CircleMember,
    CircleRole,
    CollectionMethod,
    Consent,
    ConsentDecision,
    ConsentKind,
    JoinRequest,
    Level,
    Person,
    Profession,
    Professional,
    Relationship,
    Structure,
    StructureKind,
    TeamMembership,
    TeamRole,
)

# Demo credentials, printed by the command on purpose: never use them outside a demo.
DEMO_PASSWORD = "demo-portail-2026"  # noqa: S105
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
DOMAIN = "demo.portail.fr"

R, W, N = Level.READ, Level.WRITE, Level.NONE


def _ins(first13: str) -> str:
    return f"{first13}{ins_key(first13):02d}"


@dataclass(frozen=True)
class Login:
    role: str
    user: object
    totp_secret: str = ""


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les comptes de démonstration."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Run even with DEBUG off (the demo accounts have a published password).")

    def handle(self, *args, **options):
        if not (settings.DEBUG or getattr(settings, "TESTING", False) or options["force"]):
            raise CommandError(
                "seed_demo crée des comptes au mot de passe connu : lancez-le avec DEBUG=1 (ou --force). "
                "/ seed_demo creates accounts with a published password: run it with DEBUG=1 (or --force)."
            )
        self.created: list[str] = []
        with transaction.atomic():
            logins = self.seed()
        if self.created:
            self.stdout.write("Créé / created: " + ", ".join(self.created))
        else:
            self.stdout.write("Les données de démonstration sont déjà en place. / Demo data already present.")
        self.print_logins(logins)

    # --- Accounts -----------------------------------------------------------------------------

    def user(self, local: str, first_name: str, last_name: str, *, superuser: bool = False, totp: bool = False):
        User = get_user_model()
        email = f"{local}@{DOMAIN}"
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            create = User.objects.create_superuser if superuser else User.objects.create_user
            user = create(email=email, password=DEMO_PASSWORD, first_name=first_name, last_name=last_name)
            self.created.append(email)
        address, _ = EmailAddress.objects.get_or_create(user=user, email=user.email,
                                                        defaults={"verified": True, "primary": True})
        if not (address.verified and address.primary):
            address.verified = address.primary = True
            address.save(update_fields=["verified", "primary"])
        if totp and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
        return user

    def professional(self, admin, user, profession: str, rpps: str = "") -> Professional:
        professional = Professional.objects.filter(user=user).first()
        if professional is None:
            professional = services.professional_create(actor=admin, user=user, profession=profession, rpps=rpps)
        return professional

    # --- Structures and teams ----------------------------------------------------------------

    def structure(self, admin, finess: str, name: str, kind: str, **fields) -> Structure:
        structure = Structure.objects.filter(finess=finess).first()
        if structure is None:
            structure = services.structure_create(actor=admin, name=name, finess=finess, kind=kind, **fields)
            self.created.append(name)
        return structure

    def team_member(self, admin, structure: Structure, professional: Professional, role: str,
                    is_structure_admin: bool = False) -> None:
        if not TeamMembership.objects.filter(structure=structure, professional=professional,
                                             ended_on__isnull=True).exists():
            services.team_member_add(actor=admin, structure=structure, professional=professional, role=role,
                                     is_structure_admin=is_structure_admin)

    # --- Persons and circles -------------------------------------------------------------------

    def person(self, admin, *, structures: list[Structure], user=None, **traits) -> Person:
        keys = ("birth_name", "birth_first_names", "birth_date", "sex", "birth_place_insee")
        person = Person.objects.filter(**{key: traits[key] for key in keys}).first()
        if person is None:
            person = services.person_create(actor=admin, user=user, **traits)
            self.created.append(person.display_name)
        elif user is not None and person.user_id is None:
            services.person_link_account(actor=admin, person=person, user=user)
        for structure in structures:
            if not Accompaniment.objects.filter(person=person, structure=structure, ended_on__isnull=True).exists():
                services.accompaniment_start(actor=admin, person=person, structure=structure)
        return person

    def carer_link(self, admin, person: Person, user, relationship: str) -> CarerLink:
        link = CarerLink.objects.filter(person=person, user=user, ended_on__isnull=True).first()
        if link is None:
            link = services.carer_link_create(actor=admin, person=person, user=user, relationship=relationship)
        return link

    def levels(self, actor, member: CircleMember, levels: dict[str, int]) -> None:
        """Set the member's levels through the service, only when they differ (a re-run writes nothing)."""
        current = dict(member.grants.values_list("category", "level"))
        if any(current.get(category) != level for category, level in levels.items()):
            services.grants_set(actor=actor, member=member, levels=levels)

    # --- The data set --------------------------------------------------------------------------

    def seed(self) -> list[Login]:
        admin = self.user("admin", "Alice", "Administratrice", superuser=True, totp=True)

        ehpad = self.structure(
            admin, "750000001", "EHPAD Les Tilleuls", StructureKind.EHPAD,
            address="12 rue des Tilleuls\n75012 Paris", phone="0140000001",
            mssante_address="ehpad-les-tilleuls@demo.mssante.fr",
        )
        ssiad = self.structure(
            admin, "750000002", "SSIAD du Canal", StructureKind.SSIAD,
            address="5 quai de Valmy\n75010 Paris", phone="0140000002",
            mssante_address="ssiad-du-canal@demo.mssante.fr",
        )

        referente_user = self.user("referente", "Sophie", "Lambert", totp=True)
        nurse_user = self.user("infirmier", "Thomas", "Moreau", totp=True)
        care_user = self.user("aide-soignante", "Nadia", "Benali", totp=True)
        physio_user = self.user("kine", "Karim", "Haddad", totp=True)
        referente = self.professional(admin, referente_user, Profession.COORDINATOR)
        nurse = self.professional(admin, nurse_user, Profession.NURSE, rpps="10001234567")
        care = self.professional(admin, care_user, Profession.CARE_ASSISTANT)
        physio = self.professional(admin, physio_user, Profession.PHYSIOTHERAPIST, rpps="10007654321")
        self.team_member(admin, ehpad, referente, TeamRole.REFERENT, is_structure_admin=True)
        self.team_member(admin, ehpad, nurse, TeamRole.NURSE)
        self.team_member(admin, ssiad, care, TeamRole.CARE)

        jeanne_user = self.user("jeanne.martin", "Jeanne", "Martin")
        claire_user = self.user("claire.martin", "Claire", "Martin")
        guardian_user = self.user("tuteur", "Louis", "Garnier")

        jeanne = self.person(
            admin, structures=[ehpad], user=jeanne_user,
            birth_name="MARTIN", birth_first_names="Jeanne Marie", first_name="Jeanne",
            birth_date=datetime.date(1938, 4, 12), sex="F", birth_place_insee="75056",
            ins_matricule=_ins("2380475056123"), ins_oid="1.2.250.1.213.1.4.11", identity_status="QUAL",
            address="EHPAD Les Tilleuls, chambre 12\n12 rue des Tilleuls\n75012 Paris",
        )
        self.person(
            admin, structures=[ehpad, ssiad],
            birth_name="DURAND", birth_first_names="Marcel André", first_name="Marcel",
            birth_date=datetime.date(1942, 11, 3), sex="M", birth_place_insee="93066", identity_status="VALI",
        )
        self.person(
            admin, structures=[ssiad],
            birth_name="PETIT", birth_first_names="Lucas Adrien", first_name="Lucas",
            birth_date=datetime.date(1999, 6, 21), sex="M", birth_place_insee="94028", identity_status="PROV",
            phone="0600000003",
        )

        claire_link = self.carer_link(admin, jeanne, claire_user, Relationship.CARER)
        self.carer_link(admin, jeanne, guardian_user, Relationship.GUARDIAN)

        # Jeanne lets her daughter follow her agenda and read her record; the guardian
        # lets the EHPAD nurse add documents.
        self.levels(jeanne_user, CircleMember.objects.active().get(person=jeanne, carer_link=claire_link), {
            Category.RECORD: R, Category.AGENDA: W, Category.LIAISON: R, Category.PPA: R,
            Category.DOCUMENTS: N, Category.CIRCLE: N,
        })
        self.levels(guardian_user, CircleMember.objects.active().get(person=jeanne, user=nurse_user,
                                                                       structure=ehpad),
                    {Category.DOCUMENTS: W})

        if not JoinRequest.objects.filter(person=jeanne, professional=physio).exists():
            services.join_request_create(
                actor=physio_user, person=jeanne, role=CircleRole.THERAPIST,
                message="Rééducation à la marche après la chute de janvier, prescrite par le médecin traitant.",
            )
        if not Consent.objects.filter(person=jeanne, kind=ConsentKind.DMP_CONSULTATION).exists():
            services.consent_record(
                actor=referente_user, person=jeanne, kind=ConsentKind.DMP_CONSULTATION,
                decision=ConsentDecision.GRANTED, collected_via=CollectionMethod.ORAL,
                note="Recueilli lors de l'entretien d'admission, en présence de son tuteur.",
            )

        return [
            Login("administrateur / administrator", admin, self.totp_secret(admin)),
            Login("référente EHPAD (admin. structure) / EHPAD referent", referente_user,
                  self.totp_secret(referente_user)),
            Login("infirmier EHPAD / EHPAD nurse", nurse_user, self.totp_secret(nurse_user)),
            Login("aide-soignante SSIAD / SSIAD care assistant", care_user, self.totp_secret(care_user)),
            Login("kiné libéral (demande en attente) / liberal physio", physio_user, self.totp_secret(physio_user)),
            Login("personne accompagnée / person (Jeanne Martin)", jeanne_user),
            Login("aidante (fille) / carer (daughter)", claire_user),
            Login("tuteur / legal representative", guardian_user),
        ]

    @staticmethod
    def totp_secret(user) -> str:
        authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        return decrypt(authenticator.data["secret"]) if authenticator else ""

    # --- Output ----------------------------------------------------------------------------------

    def print_logins(self, logins: list[Login]) -> None:
        counter = int(time.time()) // mfa_settings.TOTP_PERIOD
        rows = [("Rôle / role", "E-mail", "Mot de passe / password", "Secret TOTP", "Code now")]
        for login in logins:
            code = format_hotp_value(hotp_value(login.totp_secret, counter)) if login.totp_secret else ""
            rows.append((login.role, login.user.email, DEMO_PASSWORD, login.totp_secret or "—", code or "—"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        line = "+".join("-" * (width + 2) for width in widths)
        self.stdout.write("")
        self.stdout.write("Comptes de démonstration / demo logins — http://127.0.0.1:8000/accounts/login/")
        self.stdout.write(line)
        for index, row in enumerate(rows):
            self.stdout.write(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write(line)
        self.stdout.write(line)
        self.stdout.write(
            "Le code TOTP change toutes les 30 s : ajoutez le secret à une application d'authentification "
            "(URI ci-dessous) ou relancez seed_demo pour lire le code du moment.\n"
            "The TOTP code changes every 30 s: add the secret to an authenticator app (URIs below) "
            "or run seed_demo again to read the current code."
        )
        adapter = get_mfa_adapter()
        for login in logins:
            if login.totp_secret:
                self.stdout.write(f"  {login.user.email}: {adapter.build_totp_url(login.user, login.totp_secret)}")
