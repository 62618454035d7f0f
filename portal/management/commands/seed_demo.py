"""Load the demo data set (idempotent) and print the demo logins.

Everything that carries rights is made through `coordination.services`, as the
application would: the circles, the access matrix and the guardian permissions are
exactly those of real use. Rows are found again by e-mail address (accounts),
FINESS (structures) and identity traits (persons), so a second run adds nothing. The
liaison notebooks (two weeks of transmissions, written through `liaison.services`) are
seeded once: their first transmission marks them as present.

The demo accounts share one password and, for the administrator and the
professionals (who must use a second factor), one fixed TOTP secret, printed at the
end with the current code and an otpauth:// URI for an authenticator app.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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
from django.utils import timezone

from agenda import services as agenda
from agenda.models import Event, EventType, Visibility
from common.pdf import PdfDocument
from coordination import access, matrix, services
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
from liaison import services as liaison
from liaison.models import Addressee, RemarkableEvent, Scope, Transmission, TransmissionCategory, TransmissionKind
from ppa import services as ppa
from ppa.models import Plan, SignOffRole
from reference.models import SerafinCode

# Demo credentials, printed by the command on purpose: never use them outside a demo.
DEMO_PASSWORD = "demo-portail-2026"  # noqa: S105
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
# The EHPAD's connected software (its DUI) on the FHIR API: a published demo client.
DEMO_CLIENT_ID = "dui-ehpad-demo"
DEMO_CLIENT_SECRET = "demo-dui-secret-2026"  # noqa: S105
DOMAIN = "demo.portail.fr"

R, W, N = Level.READ, Level.WRITE, Level.NONE

# The oldest transmission of Jeanne's notebook: once it is there, the notebooks are seeded.
NOTEBOOK_MARKER = "Arrivée dans la chambre 12 : installation avec sa fille, affaires personnelles rangées."


def _ins(first13: str) -> str:
    return f"{first13}{ins_key(first13):02d}"


def demo_pdf(title: str) -> bytes:
    """A one-page PDF showing `title`, by the portal's own writer."""
    doc = PdfDocument(title)
    doc.heading(title)
    doc.paragraph("Document de démonstration : il ne contient aucune donnée réelle.")
    return doc.render()


def demo_png() -> bytes:
    """A small PNG (a scanned card, for the demo)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (235, 242, 250))
    ImageDraw.Draw(image).rectangle((16, 16, 304, 184), outline=(30, 80, 160), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Login:
    role: str
    user: object
    totp_secret: str = ""


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les comptes de démonstration."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo accounts have a published password).",
        )

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
        self.print_software()

    # --- Accounts -----------------------------------------------------------------------------

    def user(self, local: str, first_name: str, last_name: str, *, superuser: bool = False, totp: bool = False):
        User = get_user_model()
        email = f"{local}@{DOMAIN}"
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            create = User.objects.create_superuser if superuser else User.objects.create_user
            user = create(email=email, password=DEMO_PASSWORD, first_name=first_name, last_name=last_name)
            self.created.append(email)
        address, _ = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
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

    def team_member(
        self, admin, structure: Structure, professional: Professional, role: str, is_structure_admin: bool = False
    ) -> None:
        if not TeamMembership.objects.filter(
            structure=structure, professional=professional, ended_on__isnull=True
        ).exists():
            services.team_member_add(
                actor=admin,
                structure=structure,
                professional=professional,
                role=role,
                is_structure_admin=is_structure_admin,
            )

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
        current = matrix.levels_of(member.person_id, member.user_id)
        if any(current.get(category) != level for category, level in levels.items()):
            services.grants_set(actor=actor, member=member, levels=levels)

    # --- The data set --------------------------------------------------------------------------

    def seed(self) -> list[Login]:
        admin = self.user("admin", "Alice", "Administratrice", superuser=True, totp=True)

        ehpad = self.structure(
            admin,
            "750000001",
            "EHPAD Les Tilleuls",
            StructureKind.EHPAD,
            address="12 rue des Tilleuls\n75012 Paris",
            phone="0140000001",
            mssante_address="ehpad-les-tilleuls@demo.mssante.fr",
        )
        ssiad = self.structure(
            admin,
            "750000002",
            "SSIAD du Canal",
            StructureKind.SSIAD,
            address="5 quai de Valmy\n75010 Paris",
            phone="0140000002",
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
            admin,
            structures=[ehpad],
            user=jeanne_user,
            birth_name="MARTIN",
            birth_first_names="Jeanne Marie",
            first_name="Jeanne",
            birth_date=datetime.date(1938, 4, 12),
            sex="F",
            birth_place_insee="75056",
            ins_matricule=_ins("2380475056123"),
            ins_oid="1.2.250.1.213.1.4.11",
            identity_status="QUAL",
            address="EHPAD Les Tilleuls, chambre 12\n12 rue des Tilleuls\n75012 Paris",
        )
        marcel = self.person(
            admin,
            structures=[ehpad, ssiad],
            birth_name="DURAND",
            birth_first_names="Marcel André",
            first_name="Marcel",
            birth_date=datetime.date(1942, 11, 3),
            sex="M",
            birth_place_insee="93066",
            identity_status="VALI",
        )
        lucas = self.person(
            admin,
            structures=[ssiad],
            birth_name="PETIT",
            birth_first_names="Lucas Adrien",
            first_name="Lucas",
            birth_date=datetime.date(1999, 6, 21),
            sex="M",
            birth_place_insee="94028",
            identity_status="PROV",
            phone="+33600000003",
        )

        claire_link = self.carer_link(admin, jeanne, claire_user, Relationship.CARER)
        self.carer_link(admin, jeanne, guardian_user, Relationship.GUARDIAN)

        # Jeanne lets her daughter follow her agenda, read her record and write in the
        # liaison notebook; the guardian lets the EHPAD nurse add documents.
        self.levels(
            jeanne_user,
            CircleMember.objects.active().get(person=jeanne, carer_link=claire_link),
            {
                Category.RECORD: R,
                Category.AGENDA: W,
                Category.LIAISON: W,
                Category.PPA: R,
                Category.DOCUMENTS: N,
                Category.CIRCLE: N,
            },
        )
        self.levels(
            guardian_user,
            CircleMember.objects.active().get(person=jeanne, user=nurse_user, structure=ehpad),
            {Category.DOCUMENTS: W},
        )

        if not JoinRequest.objects.filter(person=jeanne, professional=physio).exists():
            services.join_request_create(
                actor=physio_user,
                person=jeanne,
                role=CircleRole.THERAPIST,
                message="Rééducation à la marche après la chute de janvier, prescrite par le médecin traitant.",
            )
        if not Consent.objects.filter(person=jeanne, kind=ConsentKind.DMP_CONSULTATION).exists():
            services.consent_record(
                actor=referente_user,
                person=jeanne,
                kind=ConsentKind.DMP_CONSULTATION,
                decision=ConsentDecision.GRANTED,
                collected_via=CollectionMethod.ORAL,
                note="Recueilli lors de l'entretien d'admission, en présence de son tuteur.",
            )

        if not Transmission.objects.filter(person=jeanne, text=NOTEBOOK_MARKER).exists():
            self.notebooks(
                jeanne=jeanne,
                marcel=marcel,
                lucas=lucas,
                referente=referente_user,
                nurse=nurse_user,
                care=care_user,
                claire=claire_user,
            )
            self.created.append("cahiers de liaison / liaison notebooks")

        secretary_user = self.seed_documents(
            admin,
            jeanne=jeanne,
            marcel=marcel,
            lucas=lucas,
            ssiad=ssiad,
            referente=referente_user,
            jeanne_user=jeanne_user,
        )
        self.seed_portal(referente=referente_user, marcel=marcel)
        if not Plan.objects.filter(person=jeanne).exists():
            self.ppa(jeanne=jeanne, referente=referente_user, nurse=nurse, jeanne_user=jeanne_user)
            self.created.append("projet personnalisé validé et avenant en cours / validated PPA and draft amendment")
        if seed_evaluations(jeanne=jeanne, nurse=nurse_user, claire=claire_user):
            self.created.append("échelles de Zarit de Claire (aidante de Jeanne) / Zarit scales")
        self.booking(referente=referente_user, others=[nurse_user, care_user])
        if not Event.objects.filter(uid__startswith="demo-agenda-").exists():
            seed_agenda(jeanne=jeanne, marcel=marcel, referente=referente_user, nurse=nurse_user, care=care_user)
            self.created.append("agendas")
        if seed_portal_proposal(jeanne=jeanne, referente=referente_user):
            self.created.append("rendez-vous proposé à Jeanne (portail) / appointment proposed to Jeanne (portal)")
        self.connected_software(admin, ehpad)
        mas_user = self.seed_admission(
            admin,
            ehpad=ehpad,
            ssiad=ssiad,
            jeanne=jeanne,
            lucas=lucas,
            claire=claire_user,
            care=care_user,
            ssiad_secretary=secretary_user,
        )
        self.jeanne_id = jeanne.pk

        return [
            Login("administrateur / administrator", admin, self.totp_secret(admin)),
            Login(
                "référente EHPAD (admin. structure) / EHPAD referent", referente_user, self.totp_secret(referente_user)
            ),
            Login("infirmier EHPAD / EHPAD nurse", nurse_user, self.totp_secret(nurse_user)),
            Login("aide-soignante SSIAD / SSIAD care assistant", care_user, self.totp_secret(care_user)),
            Login("kiné libéral (demande en attente) / liberal physio", physio_user, self.totp_secret(physio_user)),
            Login("personne accompagnée / person (Jeanne Martin)", jeanne_user),
            Login("aidante (fille) / carer (daughter)", claire_user),
            Login("tuteur / legal representative", guardian_user),
            Login("secrétaire SSIAD (documents) / SSIAD secretary", secretary_user, self.totp_secret(secretary_user)),
            Login("direction MAS (admissions) / MAS director", mas_user, self.totp_secret(mas_user)),
        ]

    # --- Admission: the offer and two requests -------------------------------------------------

    def seed_admission(self, admin, *, ehpad, ssiad, jeanne, lucas, claire, care, ssiad_secretary):
        """A few structures with their offer; Claire's request for her mother to the SSIAD
        (more information asked) and the SSIAD's request for Lucas to a MAS (waiting list)."""
        from admission import services as admission
        from admission.models import AdmissionRequest

        mas = self.structure(
            admin, "750000011", "MAS Les Glycines", StructureKind.MAS, address="8 rue Brillat\n75013 Paris"
        )
        ime = self.structure(
            admin, "930000012", "IME Le Petit Prince", StructureKind.IME, address="3 allée des Lilas\n93100 Montreuil"
        )
        fam = self.structure(
            admin, "920000013", "FAM La Source", StructureKind.FAM, address="14 avenue Foch\n92100 Boulogne"
        )
        mas_user = self.user("direction-mas", "Hélène", "Roche", totp=True)
        self.team_member(
            admin,
            mas,
            self.professional(admin, mas_user, Profession.DIRECTOR),
            TeamRole.DIRECTION,
            is_structure_admin=True,
        )
        services_codes = list(SerafinCode.objects.filter(kind="service", depth=2).order_by("code")[:6])
        offers = [
            (
                ehpad,
                {
                    "department": "75",
                    "postcode": "75012",
                    "city": "Paris",
                    "serves_older": True,
                    "age_min": 60,
                    "capacity": 84,
                    "places_available": 2,
                    "waiting_list_length": 17,
                },
            ),
            (
                ssiad,
                {
                    "department": "75",
                    "postcode": "75010",
                    "city": "Paris",
                    "serves_older": True,
                    "serves_disability": True,
                    "capacity": 60,
                    "places_available": 4,
                    "waiting_list_length": 3,
                },
            ),
            (
                mas,
                {
                    "department": "75",
                    "postcode": "75013",
                    "city": "Paris",
                    "serves_disability": True,
                    "age_min": 20,
                    "capacity": 40,
                    "places_available": 0,
                    "waiting_list_length": 22,
                },
            ),
            (
                ime,
                {
                    "department": "93",
                    "postcode": "93100",
                    "city": "Montreuil",
                    "serves_disability": True,
                    "age_min": 6,
                    "age_max": 20,
                    "capacity": 55,
                    "places_available": 1,
                    "waiting_list_length": 9,
                },
            ),
            (
                fam,
                {
                    "department": "92",
                    "postcode": "92100",
                    "city": "Boulogne-Billancourt",
                    "serves_disability": True,
                    "age_min": 20,
                    "capacity": 30,
                    "places_available": 3,
                    "waiting_list_length": 5,
                },
            ),
        ]
        for n, (structure, fields) in enumerate(offers):
            admission.offer_save(
                actor=admin,
                structure=structure,
                services=services_codes[n % 3 : n % 3 + 3],
                how_to_apply="Envoyez une demande depuis le portail, avec la notification de décision de la MDPH.",
                contact_email=f"admission@{structure.finess}.demo.fr",
                contact_phone=structure.phone,
                **fields,
            )
        if AdmissionRequest.objects.filter(person__in=[jeanne, lucas]).exists():
            return mas_user
        need = SerafinCode.objects.filter(kind="need", depth=2).order_by("code").first()
        first = admission.create_request(
            actor=claire,
            person=jeanne,
            structures=[ssiad],
            message="Maman souhaite rentrer chez moi au printemps ; il lui faudra des soins infirmiers à domicile.",
            needs=[need] if need else [],
        )
        copy = first.copies.get()
        admission.copy_mark_received(actor=ssiad_secretary, copy=copy)
        admission.copy_answer(
            actor=ssiad_secretary,
            copy=copy,
            status="info_requested",
            message="Pouvez-vous joindre la dernière ordonnance de soins infirmiers ?",
        )
        second = admission.create_request(
            actor=care,
            person=lucas,
            structures=[mas],
            message="Lucas souhaite un accueil en MAS à la fin de son accompagnement à domicile.",
            mdph_reference="MDPH75-2026-0420",
            mdph_decided_on=datetime.date(2026, 3, 2),
            mdph_valid_until=datetime.date(2031, 3, 1),
            agreement_via="oral",
            agreement_note="Accord de Lucas recueilli lors de la visite du 14 novembre.",
            source="pro",
        )
        mas_copy = second.copies.get()
        admission.copy_mark_received(actor=mas_user, copy=mas_copy)
        admission.copy_answer(actor=mas_user, copy=mas_copy, status="waiting_list", waiting_rank=4)
        self.created.append(
            "offre de 5 structures et 2 demandes d'admission / offer of 5 structures, 2 admission requests"
        )
        return mas_user

    # --- Connected software (FHIR API) ---------------------------------------------------------

    def connected_software(self, admin, ehpad: Structure) -> None:
        """The EHPAD's DUI, connected with a published demo client id and secret (created
        once; the secret is only stored hashed, so it is fixed here to be printed again)."""
        from interop import services as interop
        from interop.models import ConnectedSoftware

        if ConnectedSoftware.objects.filter(application__client_id=DEMO_CLIENT_ID).exists():
            return
        interop.connected_software_create(
            actor=admin,
            structure=ehpad,
            name="DUI de l'EHPAD (démonstration)",
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
        )
        self.created.append("logiciel connecté de l'EHPAD / EHPAD's connected software")

    def print_software(self) -> None:
        base = f"{settings.SITE_URL}/fhir"
        self.stdout.write("")
        self.stdout.write("Logiciel connecté de l'EHPAD (API FHIR) / EHPAD's connected software (FHIR API)")
        self.stdout.write(f"  client_id: {DEMO_CLIENT_ID}")
        self.stdout.write(f"  client_secret: {DEMO_CLIENT_SECRET}")
        self.stdout.write(
            f"  curl -s -u {DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET} -d grant_type=client_credentials {base}/auth/token"
        )
        self.stdout.write(
            f'  curl -s -H "Authorization: Bearer <access_token>" {base}/CareTeam?patient={self.jeanne_id}'
        )

    # --- Documents ------------------------------------------------------------------------------

    def seed_documents(
        self, admin, *, jeanne: Person, marcel: Person, lucas: Person, ssiad: Structure, referente, jeanne_user
    ):
        """Each person gets a validated contract (contrat de séjour in the EHPAD, DIPC at the
        SSIAD) and a few documents, through `documents.services`. The SSIAD's
        secretary (documents write by team role) files Lucas's. Once: the contracts mark it."""
        from documents import services as document_services
        from documents.models import Document, DocumentType

        secretary_user = self.user("secretariat-ssiad", "Inès", "Roux", totp=True)
        secretary = self.professional(admin, secretary_user, Profession.SECRETARY)
        self.team_member(admin, ssiad, secretary, TeamRole.SECRETARY)
        if Document.objects.filter(person__in=[jeanne, marcel, lucas]).exists():
            return secretary_user

        def add(actor, person, doc_type, title, days_ago, *, validate=True, content=None, filename=""):
            return document_services.document_create(
                actor=actor,
                person=person,
                doc_type=doc_type,
                title=title,
                document_on=timezone.localdate() - datetime.timedelta(days=days_ago),
                content=content or demo_pdf(title),
                filename=filename or "document.pdf",
                validate=validate,
            )

        add(referente, jeanne, DocumentType.STAY_CONTRACT, "Contrat de séjour", 400)
        add(referente, jeanne, DocumentType.CARE_PLAN, "Projet personnalisé (signé)", 200)
        add(referente, jeanne, DocumentType.REPORT, "Compte rendu de consultation gériatrique", 12)
        add(referente, jeanne, DocumentType.CERTIFICATE, "Attestation d'hébergement", 3, validate=False)
        add(
            jeanne_user,
            jeanne,
            DocumentType.ADMINISTRATIVE,
            "Carte de mutuelle",
            1,
            content=demo_png(),
            filename="mutuelle.png",
        )
        add(referente, marcel, DocumentType.STAY_CONTRACT, "Contrat de séjour", 300)
        add(referente, marcel, DocumentType.LIAISON_LETTER, "Lettre de liaison de sortie d'hospitalisation", 20)
        add(secretary_user, lucas, DocumentType.DIPC, "Document individuel de prise en charge", 150)
        add(secretary_user, lucas, DocumentType.ADMINISTRATIVE, "Notification de la MDPH", 90)
        self.created.append("documents")
        return secretary_user

    # --- Projet personnalisé -------------------------------------------------------------------

    def ppa(self, *, jeanne: Person, referente, nurse: Professional, jeanne_user) -> None:
        """Jeanne's validated plan (signed by her and the referent), its weekly actions in the
        agenda, and a draft amendment, all written through `ppa.services`."""
        need = SerafinCode.objects.get(kind="need", code="1.1.1")
        mobility = SerafinCode.objects.filter(kind="need", label__icontains="mobilité").order_by("code").first() or need
        care = SerafinCode.objects.filter(kind="service", depth__gte=3).order_by("code").first()
        plan = ppa.plan_create(actor=referente, person=jeanne)
        version = plan.versions.get()
        ppa.expectations_update(
            actor=jeanne_user,
            version=version,
            tastes="La musique classique, le thé l'après-midi.",
            wishes="Continuer à marcher dans le jardin. Voir ma fille le dimanche.",
            habits="Je me lève vers 8 h 30. Sieste après le déjeuner.",
            beliefs="Catholique, j'aime aller à la messe du dimanche.",
            interests="Le jardinage, les mots croisés, la chorale.",
        )
        memory = ppa.need_add(
            actor=referente,
            version=version,
            serafin=need,
            description="Troubles de la mémoire récente ; se perd parfois dans la résidence.",
        )
        walking = ppa.need_add(
            actor=referente,
            version=version,
            serafin=mobility,
            description="Marche avec un déambulateur depuis la chute de janvier.",
        )
        bearings = ppa.objective_add(
            actor=referente,
            version=version,
            title="Garder ses repères dans la résidence",
            needs=[memory],
            indicator="Retrouve seule sa chambre et la salle à manger.",
            target_on=datetime.date.today() + datetime.timedelta(days=180),
        )
        walk = ppa.objective_add(
            actor=referente,
            version=version,
            title="Marcher chaque jour dans le jardin",
            needs=[walking],
            indicator="15 minutes de marche par jour.",
            status="in_progress",
            status_note="Reprise progressive depuis février.",
        )
        monday = datetime.date.today() - datetime.timedelta(days=datetime.date.today().weekday() + 14)
        ppa.action_add(
            actor=referente,
            version=version,
            title="Atelier mémoire",
            objectives=[bearings],
            professional=nurse,
            serafin=care,
            weekdays="MO,TH",
            starts_at_time=datetime.time(10),
            duration_minutes=60,
            starts_on=monday,
        )
        ppa.action_add(
            actor=referente,
            version=version,
            title="Accompagnement à la marche",
            objectives=[walk],
            professional=nurse,
            weekdays="WE",
            starts_at_time=datetime.time(15),
            duration_minutes=30,
            starts_on=monday,
        )
        ppa.text_section_update(
            actor=referente,
            version=version,
            section="resources",
            text="Sa fille Claire, présente chaque dimanche. Un déambulateur.",
        )
        ppa.plan_submit(actor=referente, version=version)
        ppa.plan_sign(actor=jeanne_user, version=version, role=SignOffRole.PERSON)
        ppa.plan_sign(actor=referente, version=version, role=SignOffRole.REFERENT)
        ppa.plan_events_generate(actor=referente, version=version)
        amendment = ppa.plan_amend(actor=referente, plan=plan, reason="Bilan à trois mois : la marche progresse.")
        ppa.comment_add(
            actor=jeanne_user, version=amendment, section="objectives", text="Je voudrais aussi aller à la chorale."
        )

    # --- Agenda: availability and a pending meeting request ------------------------------------

    def booking(self, *, referente, others) -> None:
        """Weekly availability for the demo professionals, and one meeting request from the
        referent waiting for the colleagues' answers (made through the services)."""
        from agenda import availability, slots
        from agenda.booking import services as booking
        from agenda.models import AvailabilityWindow, Event

        users = [referente, *others]
        if AvailabilityWindow.objects.filter(professional__user__in=users).exists():
            return
        for user in users:
            structure = user.professional.structures.filter(team__ended_on__isnull=True).first()
            for weekday in range(5):
                availability.availability_window_create(
                    actor=user,
                    structure=structure,
                    weekday=weekday,
                    start_time=datetime.time(9),
                    end_time=datetime.time(12, 30),
                    valid_from=timezone.localdate(),
                    place_label=structure.name,
                )
                if weekday in (1, 3):
                    availability.availability_window_create(
                        actor=user,
                        structure=structure,
                        weekday=weekday,
                        start_time=datetime.time(14),
                        end_time=datetime.time(17),
                        valid_from=timezone.localdate(),
                        place_label=structure.name,
                    )
        self.created.append("disponibilités / availability")
        invitees = list(availability.colleagues(referente.professional).filter(user__in=others))
        if not invitees or Event.objects.filter(source="booking", created_by=referente).exists():
            return
        start = timezone.now() + datetime.timedelta(days=1)
        criteria = slots.Criteria(
            duration=datetime.timedelta(hours=1), window_start=start, window_end=start + datetime.timedelta(days=14)
        )
        found = slots.find_slots([referente.professional.pk] + [p.pk for p in invitees], criteria)
        if found.found:
            slot = found.slots[0]
            booking.meeting_hold(
                actor=referente,
                invitees=invitees,
                starts_at=slot.start,
                ends_at=slot.end,
                motive="Synthèse pluridisciplinaire : préparer la réunion de projet.",
            )
            self.created.append("demande de réunion en attente / pending meeting request")

    # --- Liaison notebooks ---------------------------------------------------------------------

    def notebooks(self, *, jeanne: Person, marcel: Person, lucas: Person, referente, nurse, care, claire) -> None:
        """Two weeks of transmissions, written through the services (so the notifications,
        read marks and receipts are those of real use), then dated as if written on time."""
        today = timezone.localtime().replace(second=0, microsecond=0)

        def at(days_ago: int, hour: int, minute: int = 0) -> datetime.datetime:
            moment = (today - datetime.timedelta(days=days_ago)).replace(hour=hour, minute=minute)
            return min(moment, today - datetime.timedelta(hours=1))

        def backdate(transmission: Transmission, **moments) -> None:
            """As if written a quarter of an hour after the observation (past the grace period)."""
            moments.setdefault("created_at", transmission.observed_at + datetime.timedelta(minutes=15))
            Transmission.objects.filter(pk=transmission.pk).update(**moments)

        def write(
            actor,
            person,
            when,
            category,
            *,
            text="",
            target="",
            data="",
            actions="",
            results="",
            on_time: bool = True,
            **options,
        ) -> Transmission:
            kind = TransmissionKind.TARGETED if target else TransmissionKind.GENERAL
            transmission = liaison.transmission_create(
                actor=actor,
                person=person,
                observed_at=when,
                category=category,
                kind=kind,
                text=text,
                target=target,
                data=data,
                actions=actions,
                results=results,
                **options,
            )
            if on_time:
                backdate(transmission)
            return transmission

        C = TransmissionCategory
        write(nurse, jeanne, at(13, 10, 30), C.OBSERVATIONS, text=NOTEBOOK_MARKER)
        write(
            referente,
            jeanne,
            at(12, 14),
            C.INSTRUCTIONS,
            text="Entretien d'accueil avec Mme Martin et son tuteur : lever vers 8 h, sieste après le déjeuner, "
            "aime la lecture du journal. Proposer l'atelier mémoire du jeudi.",
        )
        write(
            nurse,
            jeanne,
            at(11, 7, 45),
            C.SYMPTOMS,
            target="douleur",
            data="Douleur du genou gauche à la marche, EVA 5/10 au lever.",
            actions="Antalgique selon la prescription, appel au médecin traitant.",
            results="EVA 2/10 une heure après ; marche avec le déambulateur.",
        )
        write(
            nurse,
            jeanne,
            at(10, 12, 30),
            C.FOOD,
            text="Appétit moyen au déjeuner : la moitié du plat, dessert pris en entier. À surveiller.",
        )
        write(
            referente,
            jeanne,
            at(9, 16),
            C.OBSERVATIONS,
            scope=Scope.INTERNAL,
            text="Point d'équipe : organiser le planning des toilettes pour respecter son souhait de douche le soir.",
        )
        write(
            nurse,
            jeanne,
            at(8, 6, 20),
            C.SYMPTOMS,
            target="chute",
            is_important=True,
            remarkable_event=RemarkableEvent.FALL,
            data="Retrouvée assise au sol près du lit à 6 h 10, consciente, pas de plaie visible.",
            actions="Relevée à deux, surveillance des constantes, médecin prévenu, tuteur informé.",
            results="Constantes normales ; petite douleur de la hanche droite, pas de déformation.",
        )
        write(
            referente,
            jeanne,
            at(8, 11),
            C.INSTRUCTIONS,
            text="Suite à la chute de ce matin : veilleuse allumée la nuit et sonnette à portée de main. "
            "Radiographie de la hanche prévue jeudi.",
        )
        write(
            claire,
            jeanne,
            at(7, 17, 30),
            C.SOCIAL,
            text="Visite cet après-midi : maman était contente de voir les photos de ses petits-enfants. "
            "Elle dit avoir un peu mal à la hanche quand elle se lève.",
        )
        write(
            nurse,
            jeanne,
            at(6, 9),
            C.HYGIENE,
            text="Douche faite avec l'aide-soignante, peau en bon état, hydratation des jambes.",
        )
        intake = write(
            nurse,
            jeanne,
            at(5, 18),
            C.FOOD,
            target="hydratation",
            data="Boit peu : environ 1,8 L sur la journée selon la feuille de suivi.",
            actions="Eau gélifiée proposée à chaque passage.",
            results="À réévaluer demain.",
        )
        correction = liaison.transmission_correct(
            actor=nurse,
            original=intake,
            observed_at=at(5, 19, 30),
            text="Correction : environ 800 mL sur la journée, et non 1,8 L (erreur de lecture de la feuille).",
        )
        backdate(correction)
        write(
            referente,
            jeanne,
            at(4, 15),
            C.MOOD,
            text="Moral en baisse depuis la chute : dit avoir peur de retomber. Proposition d'un entretien "
            "avec la psychologue, acceptée.",
        )
        addressed = write(
            nurse,
            jeanne,
            at(3, 8, 15),
            C.SYMPTOMS,
            target="douleur",
            is_important=True,
            data="Douleur de la hanche droite à la mobilisation, EVA 6/10.",
            actions="Antalgique donné, mise au fauteuil différée.",
            results="EVA 3/10 à 10 h. Résultat de la radiographie attendu.",
            addressees=[referente],
            requests_receipt=True,
        )
        liaison.acknowledge(actor=referente, transmission=addressed)
        Addressee.objects.filter(transmission=addressed, user=referente).update(acknowledged_at=at(3, 9, 5))
        walk = write(
            nurse,
            jeanne,
            at(2, 14),
            C.AUTONOMY,
            on_time=False,
            text="Marche dans le couloir avec le déambulateur, accompagnée, sur 20 mètres.",
        )
        # Edited during the grace period: the earlier version is kept.
        liaison.transmission_edit(
            actor=nurse,
            transmission=walk,
            text="Marche dans le couloir avec le déambulateur, accompagnée, sur 30 mètres "
            "sans pause. Encouragée, souriante.",
        )
        backdate(walk, edited_at=walk.observed_at + datetime.timedelta(minutes=20))
        walk.revisions.update(replaced_at=walk.observed_at + datetime.timedelta(minutes=20))
        write(
            referente,
            jeanne,
            at(1, 10),
            C.INSTRUCTIONS,
            text="Radiographie de la hanche : pas de fracture. Merci de reprendre le lever au fauteuil et la "
            "marche quotidienne, et de me dire comment elle la supporte.",
            addressees=[nurse],
            requests_receipt=True,
        )
        write(
            nurse,
            jeanne,
            at(0, 9),
            C.OBSERVATIONS,
            text="Nuit calme, levée à 8 h. Petit déjeuner pris en entier, a lu le journal.",
        )

        write(
            nurse,
            marcel,
            at(6, 8, 30),
            C.RESULTS,
            text="Glycémie à jeun 1,32 g/L. Résultat transmis au médecin traitant.",
        )
        write(
            care,
            marcel,
            at(4, 19),
            C.HYGIENE,
            scope=Scope.INTERNAL,
            text="Toilette du soir au domicile : refuse la douche, toilette au lavabo acceptée.",
        )
        write(
            care,
            marcel,
            at(1, 18, 30),
            C.FOOD,
            target="alimentation",
            data="Réfrigérateur presque vide, repas de midi non pris.",
            actions="Appel à sa fille, portage de repas proposé.",
            results="Portage accepté à partir de lundi.",
        )
        write(
            care,
            lucas,
            at(5, 11),
            C.AUTONOMY,
            text="Transferts fauteuil-lit faits seul avec la planche. Souhaite essayer la douche assise.",
        )
        write(
            care,
            lucas,
            at(2, 11, 30),
            C.SOCIAL,
            text="A repris les cours à distance cette semaine ; content de revoir ses camarades en visio.",
        )

    @staticmethod
    def totp_secret(user) -> str:
        authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        return decrypt(authenticator.data["secret"]) if authenticator else ""

    # --- Output ----------------------------------------------------------------------------------

    # --- User portal ---------------------------------------------------------------------------

    def seed_portal(self, *, referente, marcel: Person) -> None:
        """A pending portal invitation: the EHPAD referent invites Marcel Durand's son.

        Only the hash of the token is stored, so the link is printed once, when created."""
        from portal.invitations import invitation_create
        from portal.models import PortalInvitation

        if PortalInvitation.objects.filter(person=marcel).exists():
            return
        _invitation, token = invitation_create(
            actor=referente,
            person=marcel,
            email=f"fils.durand@{DOMAIN}",
            relationship=Relationship.FAMILY,
            base_url=settings.SITE_URL,
        )
        from portal.invitations import invitation_url

        self.created.append(f"invitation au portail / portal invitation: {invitation_url(token, settings.SITE_URL)}")

    def print_logins(self, logins: list[Login]) -> None:
        counter = int(time.time()) // mfa_settings.TOTP_PERIOD
        rows = [("Rôle / role", "E-mail", "Mot de passe / password", "Secret TOTP", "Code now")]
        for login in logins:
            code = format_hotp_value(hotp_value(login.totp_secret, counter)) if login.totp_secret else ""
            rows.append((login.role, login.user.email, DEMO_PASSWORD, login.totp_secret or "—", code or "—"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        line = "+".join("-" * (width + 2) for width in widths)
        self.stdout.write("")
        self.stdout.write(f"Comptes de démonstration / demo logins — {settings.SITE_URL}/accounts/login/")
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


# --- Agenda ------------------------------------------------------------------------------------


def seed_agenda(*, jeanne: Person, marcel: Person, referente, nurse, care) -> None:
    """Agendas of the demo: a few shared appointments, an internal meeting, a weekly activity."""
    paris = ZoneInfo("Europe/Paris")
    today = timezone.localdate()

    def at(days: int, hour: int, minute: int = 0) -> datetime.datetime:
        day = today + datetime.timedelta(days=days)
        return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=paris)

    def event(uid: str, actor, person, title, start, minutes, **fields):
        created, _new = agenda.event_upsert_from_source(
            actor=actor,
            uid=f"demo-agenda-{uid}",
            source="portal",
            person=person,
            title=title,
            starts_at=start,
            ends_at=start + datetime.timedelta(minutes=minutes),
            **fields,
        )
        return created

    event(
        "cardio",
        referente,
        jeanne,
        "Consultation de cardiologie",
        at(3, 10, 30),
        45,
        event_type=EventType.HEALTH_APPOINTMENT,
        places=[
            {
                "kind": "address",
                "label": "Hôpital Saint-Antoine",
                "address": "184 rue du Faubourg Saint-Antoine, 75012 Paris",
            }
        ],
        participants=[nurse.professional],
    )
    # Marcel's daily care visit, entered by whichever demo professional writes in his agenda.
    writer = next((u for u in (care, nurse, referente) if access.check(u, marcel, Category.AGENDA, "write")), None)
    if writer is not None:
        event(
            "toilette",
            writer,
            marcel,
            "Passage de l'aide-soignante",
            at(1, 8, 0),
            45,
            event_type=EventType.HOME_VISIT,
            places=[{"kind": "home"}],
            rrule="FREQ=DAILY;COUNT=60",
        )
    event(
        "synthese",
        referente,
        jeanne,
        "Réunion de synthèse de l'équipe",
        at(6, 14, 0),
        60,
        event_type=EventType.COORDINATION_MEETING,
        visibility=Visibility.INTERNAL,
        participants=[nurse.professional],
    )
    event(
        "atelier",
        referente,
        jeanne,
        "Atelier mémoire",
        at(-14, 10, 0),
        60,
        event_type=EventType.SUPPORT_ACTIVITY,
        rrule="FREQ=WEEKLY",
        places=[{"kind": "address", "label": "Salle d'animation"}],
    )
    event(
        "bilan",
        referente,
        jeanne,
        "Bilan de kinésithérapie",
        at(-7, 15, 0),
        30,
        event_type=EventType.HEALTH_APPOINTMENT,
    )


# --- User portal, second part: an appointment waiting for Jeanne's answer ---------------------------


def seed_portal_proposal(*, jeanne: Person, referente) -> bool:
    """An appointment proposed to Jeanne, so that she (or her guardian) can answer it from
    "Mon agenda". Idempotent: nothing is added while a proposal still waits."""
    from django.core.exceptions import ValidationError

    from agenda.booking import services as booking
    from agenda.models import EventStatus

    if Event.objects.filter(person=jeanne, status=EventStatus.PROPOSED, answer_deadline__gt=timezone.now()).exists():
        return False
    day = timezone.localdate() + datetime.timedelta(days=9)
    for hour in (15, 16, 11, 9):
        start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=ZoneInfo("Europe/Paris"))
        try:
            booking.appointment_propose(
                actor=referente,
                person=jeanne,
                starts_at=start,
                ends_at=start + datetime.timedelta(minutes=45),
                title="Point sur le projet personnalisé",
                motive="Faire le point avec vous sur vos souhaits.",
                answer_deadline=timezone.now() + datetime.timedelta(days=5),
            )
        except ValidationError:
            continue
        return True
    return False


def seed_evaluations(*, jeanne: Person, nurse, claire) -> bool:
    """Two Zarit scales filled by the nurse for Claire, Jeanne's daughter, five months
    apart: the history page shows the burden rising (24, then 47)."""
    from evaluation import services as evaluation_services
    from evaluation.models import Evaluation, QuestionnaireVersion

    if Evaluation.objects.filter(person=jeanne).exists():
        return False
    version = QuestionnaireVersion.objects.filter(questionnaire__code="zarit-22", status="published").first()
    link = CarerLink.objects.filter(person=jeanne, user=claire, ended_on__isnull=True).first()
    if version is None or link is None:
        return False
    today = datetime.date.today()
    for days, items in ((150, [2] * 10 + [1] * 4 + [0] * 8), (0, [3] * 11 + [2] * 7 + [0] * 4)):
        evaluation_services.evaluation_create(
            actor=nurse,
            person=jeanne,
            version=version,
            answers={f"z{n:02d}": str(value) for n, value in enumerate(items, start=1)},
            respondent_carer=link,
            evaluated_on=today - datetime.timedelta(days=days),
        )
    return True
