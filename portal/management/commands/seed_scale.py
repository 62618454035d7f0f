"""Create large volumes of data quickly, for benchmarks and query-plan checks.

The per-row services are far too slow for this, so the rows are written with
`bulk_create`; they have the shape the services give them, so the access gate works
on them unchanged:

- structures (FINESS "S" + 8 digits) and their teams: every professional belongs to
  one structure's team, the first one of each team being its referent (structure
  admin); team size is professionals ÷ structures;
- persons, each accompanied by one or two of these structures;
- the circle as `accompaniment_start` / `_team_member_join` leave it: one structure
  member (origin accompaniment) per accompaniment, one professional member (origin
  team) per team member of the structure, with the `matrix.TEAM_DEFAULTS` grants of
  their role;
- the access matrix (guardian's `PersonUserObjectPermission` rows, `coordination.matrix`)
  as the services leave it: per user, person and category, the best level of their
  active memberships' team defaults, `write` implying `read`.

Audit rows and the matrix history (`GrantChange`) of these creations are not written
(they play no part in access checks).
Accounts use the domain @scale.portail.test; their password is unusable unless
--password is given (one hash, computed once), in which case the professionals also
get a TOTP authenticator with the demo secret so that they can sign in.

With --transmissions N, the liaison notebook of the persons created by this run: N
transmissions spread at random over them (one --heavy-person-transmissions M adds M to
one person drawn among them, who gets no other), in chronological order over the last
three years, each written by a team professional with `liaison` write of a structure
accompanying the person, for that structure; about 10 % internal, 5 % important, one in
five targeted (DAR), 1 % with a remarkable event; French text drawn from a small
vocabulary, `search_document` filled as `liaison.services` fills it, and the author's
read mark that `transmission_create` writes. They are written in chunks of
--transmission-batch rows, each in its own transaction, with COPY on PostgreSQL
(`bulk_create` elsewhere). --light-person-transmissions K gives exactly K to one more
person, who shares a structure with the heavy person when there is one, so that one
professional can compare the two; the command prints both ids and such a professional.

With --person-accounts N, N persons of this run get a user-portal account (their e-mail,
the --password), linked as `services.person_link_account` links it: the person's own
circle member with `SELF_DEFAULTS` and its matrix rows. The heavy and light persons come
first, then the persons in creation order.

Deterministic for a given --seed and database state; re-running appends new,
independent structures, professionals and persons. Persons are written in chunks of
--batch, each chunk in its own transaction.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import defaultdict

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from coordination import matrix, services
from coordination.identifiers import ins_key
from coordination.models import (
    Accompaniment,
    Category,
    CircleMember,
    CircleRole,
    IdentityStatus,
    Level,
    MemberKind,
    MemberOrigin,
    Person,
    PersonUserObjectPermission,
    Profession,
    Professional,
    Structure,
    StructureKind,
    TeamMembership,
    TeamRole,
    permission_codename,
)
from liaison.models import ReadMark, RemarkableEvent, Scope, Transmission, TransmissionCategory, TransmissionKind

DOMAIN = "scale.portail.test"
FINESS_PREFIX = "S"
# Same secret as seed_demo, so that scale professionals can sign in when --password is given.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105

KINDS = [
    StructureKind.EHPAD,
    StructureKind.SSIAD,
    StructureKind.SAAD,
    StructureKind.IME,
    StructureKind.MAS,
    StructureKind.FAM,
    StructureKind.SESSAD,
    StructureKind.SAVS,
    StructureKind.SAMSAH,
    StructureKind.DAC,
]
# Team roles other than the referent, with their weight and a matching profession.
ROLES = [
    (TeamRole.NURSE, 20, Profession.NURSE),
    (TeamRole.CARE, 30, Profession.CARE_ASSISTANT),
    (TeamRole.EDUCATOR, 15, Profession.EDUCATOR),
    (TeamRole.PHYSICIAN, 5, Profession.PHYSICIAN),
    (TeamRole.PSYCHOLOGIST, 5, Profession.PSYCHOLOGIST),
    (TeamRole.SOCIAL, 8, Profession.SOCIAL_WORKER),
    (TeamRole.SECRETARY, 7, Profession.SECRETARY),
    (TeamRole.DIRECTION, 5, Profession.DIRECTOR),
    (TeamRole.OTHER, 5, Profession.HOME_HELP),
]
HEALTH_PROFESSIONS = {Profession.NURSE, Profession.PHYSICIAN, Profession.PSYCHOLOGIST}
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefèvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Benali",
    "Haddad",
    "Nguyen",
    "Diallo",
    "Traoré",
    "Da Silva",
    "Ferreira",
]
FIRST_NAMES = {
    "F": [
        "Jeanne",
        "Marie",
        "Monique",
        "Françoise",
        "Yvette",
        "Simone",
        "Suzanne",
        "Nadia",
        "Camille",
        "Léa",
        "Chloé",
        "Inès",
        "Fatima",
        "Aïcha",
        "Sophie",
        "Claire",
        "Hélène",
        "Odette",
        "Paulette",
        "Manon",
    ],
    "M": [
        "Jean",
        "Pierre",
        "Michel",
        "André",
        "Marcel",
        "Louis",
        "Henri",
        "Lucas",
        "Hugo",
        "Karim",
        "Mohamed",
        "Thomas",
        "Nicolas",
        "Julien",
        "Paul",
        "Robert",
        "Georges",
        "Théo",
        "Nathan",
        "Yanis",
    ],
}
INSEE_PLACES = ["75056", "93066", "94028", "92050", "69123", "13055", "59350", "33063", "31555", "67482", "99134"]
TEST_INS_OID = "1.2.250.1.213.1.4.10"

# --- Liaison notebook -------------------------------------------------------------------------
# Team roles whose default rights let them write in the notebook (the authors).
LIAISON_WRITERS = {
    role for role, levels in matrix.TEAM_DEFAULTS.items() if matrix.levels_dict(levels)[Category.LIAISON] >= Level.WRITE
}
TRANSMISSION_SPAN = datetime.timedelta(days=3 * 365)
CATEGORY_LABELS = [(value, str(label)) for value, label in TransmissionCategory.choices]
EVENTS = [value for value in RemarkableEvent.values if value]
# Short observations; a transmission strings two to four of them together.
PHRASES = [
    "a bien dormi cette nuit",
    "nuit agitée, réveillé plusieurs fois",
    "s'est levé seul ce matin",
    "petit déjeuner pris en totalité",
    "a mangé la moitié de son assiette",
    "refuse de boire, hydratation à surveiller",
    "repas mixé bien accepté",
    "toilette faite au lavabo avec aide partielle",
    "douche réalisée sans difficulté",
    "a refusé la toilette ce matin",
    "se plaint de douleurs au genou droit",
    "douleur évaluée à 4 sur 10",
    "tension artérielle à 13/8",
    "glycémie contrôlée à jeun",
    "température normale",
    "chute dans la salle de bain, pas de blessure apparente",
    "risque de chute, déambulateur conseillé",
    "retrouvé assis au sol dans sa chambre, sans perte de connaissance",
    "humeur triste ce matin",
    "souriante et détendue",
    "anxieux avant le rendez-vous",
    "visite de sa fille l'après-midi",
    "appel téléphonique avec son fils",
    "a participé à l'atelier mémoire",
    "sortie au jardin accompagnée",
    "pansement refait, plaie propre",
    "traitement pris sans difficulté",
    "oubli du traitement du soir",
    "constipation signalée",
    "toux sèche depuis hier",
    "rendez-vous chez le médecin traitant à prévoir",
    "ordonnance renouvelée par le médecin",
    "agitation en fin de journée",
    "fatigue importante",
    "poids stable",
    "bonne participation aux activités",
    "désorientation dans le temps",
    "marche avec la canne dans le couloir",
    "rougeur au talon, effleurage fait",
    "prévenir l'infirmière si fièvre",
    "a regardé la télévision au salon",
    "coiffeur passé ce matin",
    "lunettes à faire réparer",
    "appareil auditif mis en place",
    "bas de contention posés",
    "a demandé à voir l'assistante sociale",
    "dossier d'aide à domicile en cours",
    "aide au repas nécessaire",
    "ongles coupés",
    "linge rangé avec elle",
]
TARGETS = [
    "douleur",
    "chute",
    "alimentation",
    "hydratation",
    "sommeil",
    "comportement",
    "peau",
    "mobilité",
    "élimination",
    "moral",
]
ACTIONS = [
    "surveillance renforcée",
    "antalgique donné selon la prescription",
    "famille prévenue",
    "médecin appelé",
    "installation au fauteuil",
    "boissons proposées toutes les heures",
    "changement de position toutes les trois heures",
    "entretien d'écoute",
    "kinésithérapeute prévenu",
]
RESULTS = [
    "amélioration en fin de journée",
    "pas de changement",
    "douleur soulagée",
    "à réévaluer demain",
    "a bu un litre sur la journée",
    "s'est endormi vers 23 h",
    "plus calme après l'entretien",
]
TRANSMISSION_COLUMNS = (
    "person_id",
    "author_id",
    "author_structure_id",
    "observed_at",
    "created_at",
    "category",
    "kind",
    "target",
    "text",
    "data",
    "actions",
    "results",
    "scope",
    "is_important",
    "remarkable_event",
    "corrects_id",
    "status",
    "edited_at",
    "withdrawn_at",
    "requests_receipt",
    "search_document",
)


class Command(BaseCommand):
    help = (
        "Crée en masse structures, professionnels et personnes (bulk_create), avec cercles et droits, "
        "et si demandé leurs transmissions du cahier de liaison (COPY sur PostgreSQL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--structures", type=int, default=10)
        parser.add_argument("--professionals", type=int, default=100)
        parser.add_argument("--persons", type=int, default=1000)
        parser.add_argument("--batch", type=int, default=5000, help="persons per chunk (one transaction each)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--password",
            default="",
            help="give every scale account this password (and professionals a TOTP authenticator)",
        )
        parser.add_argument(
            "--transmissions",
            type=int,
            default=0,
            help="liaison transmissions spread over the persons created by this run",
        )
        parser.add_argument(
            "--heavy-person-transmissions",
            type=int,
            default=0,
            help="transmissions of one person drawn among them (in addition to --transmissions)",
        )
        parser.add_argument(
            "--transmission-batch",
            type=int,
            default=50_000,
            help="transmissions per chunk (one transaction and one COPY each)",
        )
        parser.add_argument(
            "--light-person-transmissions",
            type=int,
            default=0,
            help="exactly this many transmissions for one more person (sharing a structure with the heavy one)",
        )
        parser.add_argument(
            "--person-accounts",
            type=int,
            default=0,
            help="give this many persons of this run a user-portal account (heavy and light persons first)",
        )

    def handle(self, *args, **options):
        n_structures, n_professionals, n_persons = options["structures"], options["professionals"], options["persons"]
        batch = options["batch"]
        n_transmissions, n_heavy = options["transmissions"], options["heavy_person_transmissions"]
        transmission_batch = options["transmission_batch"]
        n_light, n_accounts = options["light_person_transmissions"], options["person_accounts"]
        if (
            min(n_structures, n_professionals, n_persons, n_transmissions, n_heavy, n_light, n_accounts) < 0
            or min(batch, transmission_batch) < 1
        ):
            raise CommandError("Les nombres doivent être positifs. / Counts must be positive.")
        if n_persons and not n_structures:
            raise CommandError(
                "Il faut au moins une structure pour accompagner des personnes. / Persons need at least one structure."
            )
        if (n_transmissions or n_heavy or n_light or n_accounts) and not n_persons:
            raise CommandError(
                "Les transmissions vont aux personnes créées par la même commande : ajoutez "
                "--persons. / Transmissions go to the persons created by the same run: add --persons."
            )
        started = time.monotonic()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.password = make_password(options["password"] or None)
        self.with_totp = bool(options["password"])
        self.counts: dict[str, int] = defaultdict(int)
        self.person_structures: dict[int, list[int]] = defaultdict(list)

        structure_offset = Structure.objects.filter(finess__startswith=FINESS_PREFIX).count()
        user_offset = get_user_model().objects.filter(email__endswith=f"@{DOMAIN}").count()
        person_offset = Person.objects.filter(email__endswith=f"@{DOMAIN}").count()
        self.rng = random.Random(f"{options['seed']}:{structure_offset}:{user_offset}:{person_offset}")  # noqa: S311
        self.perm_ids = dict(
            Permission.objects.filter(content_type=ContentType.objects.get_for_model(Person)).values_list(
                "codename", "id"
            )
        )

        with transaction.atomic():
            structures = self.create_structures(n_structures, structure_offset, batch)
            teams = self.create_teams(structures, n_professionals, user_offset, batch)
        structure_ids = [structure.pk for structure in structures]
        for start in range(0, n_persons, batch):
            with transaction.atomic():
                self.create_persons(min(batch, n_persons - start), person_offset + start, structure_ids, teams, batch)
        names = [
            "structures",
            "users",
            "professionals",
            "team memberships",
            "persons",
            "accompaniments",
            "circle members",
            "object permissions",
        ]
        self.heavy_person_id = self.light_person_id = None
        if n_transmissions or n_heavy or n_light:
            self.stdout.write(f"{'persons and circles':>20}: {time.monotonic() - started:.1f} s")
            self.create_transmissions(n_transmissions, n_heavy, teams, transmission_batch, n_light)
            names += ["transmissions", "heavy transmissions", "light transmissions", "read marks"]
        if n_accounts:
            with transaction.atomic():
                self.create_person_accounts(n_accounts, batch)
            names += ["person accounts"]

        elapsed = time.monotonic() - started
        for name in names:
            self.stdout.write(f"{name:>20}: {self.counts[name]}")
        if n_heavy:
            self.stdout.write(f"{'heavy person id':>20}: {self.heavy_person_id}")
        if n_light:
            self.stdout.write(f"{'light person id':>20}: {self.light_person_id}")
        if n_heavy or n_light:
            self.stdout.write(f"{'their reader':>20}: {self.reader_email(teams)}")
        if n_transmissions or n_heavy:
            self.stdout.write(f"{'transmissions time':>20}: {self.transmissions_seconds:.1f} s")
        self.stdout.write(f"{'elapsed':>20}: {elapsed:.1f} s")

    # --- Structures and teams -------------------------------------------------------------------

    def create_structures(self, count: int, offset: int, batch: int) -> list[Structure]:
        structures = []
        for index in range(offset + 1, offset + count + 1):
            kind = self.rng.choice(KINDS)
            structures.append(
                Structure(
                    name=f"{StructureKind(kind).label} Échelle {index}",
                    finess=f"{FINESS_PREFIX}{index:08d}",
                    kind=kind,
                    mssante_address=f"structure{index}@{DOMAIN}",
                    created_at=self.now,
                )
            )
        structures = Structure.objects.bulk_create(structures, batch_size=batch)
        self.counts["structures"] += len(structures)
        return structures

    def create_teams(
        self, structures: list[Structure], count: int, offset: int, batch: int
    ) -> dict[int, list[tuple[int, int, str]]]:
        """Professionals spread over the structures; returns structure id → [(professional, user, role)]."""
        User = get_user_model()
        role_names = [role for role, _weight, _profession in ROLES]
        weights = [weight for _role, weight, _profession in ROLES]
        profession_of = {role: profession for role, _weight, profession in ROLES}
        profession_of[TeamRole.REFERENT] = Profession.COORDINATOR
        users, placements = [], []
        for position in range(count):
            index = offset + position + 1
            structure = structures[position % len(structures)] if structures else None
            role = TeamRole.REFERENT if position < len(structures) else self.rng.choices(role_names, weights)[0]
            sex = self.rng.choice("FM")
            users.append(
                User(
                    email=f"pro{index:07d}@{DOMAIN}",
                    password=self.password,
                    first_name=self.rng.choice(FIRST_NAMES[sex]),
                    last_name=self.rng.choice(LAST_NAMES),
                    date_joined=self.now,
                )
            )
            placements.append((structure, role, index))
        users = User.objects.bulk_create(users, batch_size=batch)
        self.counts["users"] += len(users)
        self.create_account_extras(users, batch)

        professionals = Professional.objects.bulk_create(
            [
                Professional(
                    user=user,
                    profession=profession_of[role],
                    rpps=f"19{index:09d}" if profession_of[role] in HEALTH_PROFESSIONS else "",
                )
                for user, (_structure, role, index) in zip(users, placements, strict=True)
            ],
            batch_size=batch,
        )
        self.counts["professionals"] += len(professionals)

        memberships, teams = [], defaultdict(list)
        for professional, (structure, role, _index) in zip(professionals, placements, strict=True):
            if structure is None:
                continue
            memberships.append(
                TeamMembership(
                    structure=structure,
                    professional=professional,
                    role=role,
                    is_structure_admin=role == TeamRole.REFERENT,
                    started_on=self.today - datetime.timedelta(days=self.rng.randrange(1, 3000)),
                )
            )
            teams[structure.pk].append((professional.pk, professional.user_id, role))
        TeamMembership.objects.bulk_create(memberships, batch_size=batch)
        self.counts["team memberships"] += len(memberships)
        return teams

    def create_account_extras(self, users, batch: int, totp: bool = True) -> None:
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users],
            batch_size=batch,
        )
        if self.with_totp and totp:
            secret = encrypt(TOTP_SECRET)
            Authenticator.objects.bulk_create(
                [
                    Authenticator(user=user, type=Authenticator.Type.TOTP, data={"secret": secret}, created_at=self.now)
                    for user in users
                ],
                batch_size=batch,
            )

    # --- Persons and their circles -------------------------------------------------------------

    def new_person(self, index: int) -> Person:
        rng = self.rng
        sex = rng.choice("FM")
        first = rng.choice(FIRST_NAMES[sex])
        last = rng.choice(LAST_NAMES).upper()
        # A quarter are younger adults or children (disability services), the rest older people.
        age = rng.randrange(4, 60) if rng.random() < 0.25 else rng.randrange(60, 100)
        birth_date = self.today - datetime.timedelta(days=age * 365 + rng.randrange(365))
        person = Person(
            # The index keeps identity traits unique whatever the random draw.
            birth_name=f"{last}-S{index}",
            birth_first_names=f"{first} {rng.choice(FIRST_NAMES[sex])}",
            first_name=first,
            birth_date=birth_date,
            sex=sex,
            birth_place_insee=rng.choice(INSEE_PLACES),
            email=f"personne{index:08d}@{DOMAIN}",
            created_at=self.now,
        )
        if rng.random() < 0.5:
            first13 = f"{1 if sex == 'M' else 2}{birth_date.year % 100:02d}{birth_date.month:02d}{index:08d}"
            person.ins_matricule = f"{first13}{ins_key(first13):02d}"
            person.ins_oid = TEST_INS_OID
            person.identity_status = IdentityStatus.QUALIFIED
        return person

    def create_persons(
        self,
        count: int,
        offset: int,
        structure_ids: list[int],
        teams: dict[int, list[tuple[int, int, str]]],
        batch: int,
    ) -> None:
        persons = Person.objects.bulk_create([self.new_person(offset + i + 1) for i in range(count)], batch_size=batch)
        self.counts["persons"] += len(persons)

        accompaniments = []
        for person in persons:
            how_many = 2 if len(structure_ids) > 1 and self.rng.random() < 0.3 else 1
            for structure_id in self.rng.sample(structure_ids, how_many):
                accompaniments.append(
                    Accompaniment(
                        person=person,
                        structure_id=structure_id,
                        started_on=self.today - datetime.timedelta(days=self.rng.randrange(0, 1500)),
                    )
                )
        Accompaniment.objects.bulk_create(accompaniments, batch_size=batch)
        self.counts["accompaniments"] += len(accompaniments)
        for accompaniment in accompaniments:
            self.person_structures[accompaniment.person_id].append(accompaniment.structure_id)

        # As accompaniment_start does: the structure member, then one member per team member.
        members, member_roles = [], []
        for accompaniment in accompaniments:
            person_id, structure_id = accompaniment.person_id, accompaniment.structure_id
            members.append(
                CircleMember(
                    person_id=person_id,
                    kind=MemberKind.STRUCTURE,
                    role=CircleRole.STRUCTURE,
                    origin=MemberOrigin.ACCOMPANIMENT,
                    structure_id=structure_id,
                    started_at=self.now,
                )
            )
            member_roles.append(None)
            for professional_id, user_id, role in teams.get(structure_id, ()):
                members.append(
                    CircleMember(
                        person_id=person_id,
                        kind=MemberKind.PROFESSIONAL,
                        role=services.TEAM_ROLE_TO_CIRCLE_ROLE[role],
                        origin=MemberOrigin.TEAM,
                        user_id=user_id,
                        professional_id=professional_id,
                        structure_id=structure_id,
                        started_at=self.now,
                    )
                )
                member_roles.append(role)
        members = CircleMember.objects.bulk_create(members, batch_size=batch)
        self.counts["circle members"] += len(members)

        best: dict[tuple[int, int, str], int] = defaultdict(int)
        for member, role in zip(members, member_roles, strict=True):
            if role is None:
                continue
            for category, level in matrix.levels_dict(matrix.TEAM_DEFAULTS[role]).items():
                key = (member.user_id, member.person_id, category)
                best[key] = max(best[key], level)

        permissions = []
        for (user_id, person_id, category), level in best.items():
            for action, needed in (("read", Level.READ), ("write", Level.WRITE)):
                if level >= needed:
                    permissions.append(
                        PersonUserObjectPermission(
                            user_id=user_id,
                            content_object_id=person_id,
                            permission_id=self.perm_ids[permission_codename(category, action)],
                        )
                    )
        PersonUserObjectPermission.objects.bulk_create(permissions, batch_size=batch)
        self.counts["object permissions"] += len(permissions)

    # --- User-portal accounts and the benchmark's reader ---------------------------------------

    def create_person_accounts(self, count: int, batch: int) -> None:
        """As `services.person_link_account` does for each: the account, the person's own
        circle member with SELF_DEFAULTS, its grants and matrix rows (in bulk)."""
        User = get_user_model()
        chosen = [p for p in (self.heavy_person_id, self.light_person_id) if p is not None]
        chosen += [p for p in sorted(self.person_structures) if p not in chosen]
        persons = list(Person.objects.filter(pk__in=chosen[:count], user__isnull=True).order_by("pk"))
        users = User.objects.bulk_create(
            [
                User(
                    email=person.email,
                    password=self.password,
                    first_name=person.first_name,
                    last_name=person.birth_name,
                    date_joined=self.now,
                )
                for person in persons
            ],
            batch_size=batch,
        )
        self.counts["person accounts"] += len(users)
        self.create_account_extras(users, batch, totp=False)
        for person, user in zip(persons, users, strict=True):
            person.user = user
        Person.objects.bulk_update(persons, ["user"], batch_size=batch)
        members = CircleMember.objects.bulk_create(
            [
                CircleMember(
                    person=person,
                    kind=MemberKind.PERSON,
                    role=CircleRole.PERSON,
                    origin=MemberOrigin.SELF,
                    user=person.user,
                    started_at=self.now,
                )
                for person in persons
            ],
            batch_size=batch,
        )
        levels = matrix.levels_dict(matrix.SELF_DEFAULTS)
        permissions = [
            PersonUserObjectPermission(
                user_id=member.user_id,
                content_object_id=member.person_id,
                permission_id=self.perm_ids[permission_codename(category, action)],
            )
            for member in members
            for category, level in levels.items()
            for action, needed in (("read", Level.READ), ("write", Level.WRITE))
            if level >= needed
        ]
        PersonUserObjectPermission.objects.bulk_create(permissions, batch_size=batch)
        self.counts["circle members"] += len(members)
        self.counts["object permissions"] += len(permissions)

    def reader_email(self, teams: dict[int, list[tuple[int, int, str]]]) -> str:
        """A professional (a nurse if any) of a structure accompanying the heavy and the light person."""
        persons = [p for p in (self.heavy_person_id, self.light_person_id) if p is not None]
        shared = set.intersection(*(set(self.person_structures[p]) for p in persons))
        for wanted in (TeamRole.NURSE, *sorted(LIAISON_WRITERS)):
            for structure_id in sorted(shared):
                for _professional_id, user_id, role in teams.get(structure_id, ()):
                    if role == wanted:
                        return get_user_model().objects.get(pk=user_id).email
        return "-"

    # --- Liaison notebook ----------------------------------------------------------------------

    def create_transmissions(
        self, count: int, heavy: int, teams: dict[int, list[tuple[int, int, str]]], batch: int, light: int = 0
    ) -> None:
        """`count` transmissions over the persons of this run, `heavy` more for one of them
        and `light` for another, interleaved in chronological order, in chunks of `batch` rows."""
        started = time.monotonic()
        writers = {
            structure_id: [user_id for _professional_id, user_id, role in members if role in LIAISON_WRITERS]
            for structure_id, members in teams.items()
        }
        authors: dict[int, list[tuple[int, int]]] = {}
        for person_id, structure_ids in self.person_structures.items():
            candidates = [
                (user_id, structure_id) for structure_id in structure_ids for user_id in writers.get(structure_id, ())
            ]
            if candidates:
                authors[person_id] = candidates
        if not authors:
            raise CommandError(
                "Aucun professionnel ne peut écrire dans le cahier de ces personnes : ajoutez des "
                "professionnels. / No professional may write in these notebooks: add professionals."
            )
        person_ids = sorted(authors)
        heavy_id = self.rng.choice(person_ids) if heavy else None
        light_id = None
        if light:
            # Someone the heavy person's readers also read, when possible.
            near = set(self.person_structures[heavy_id]) if heavy_id else set()
            pool = [p for p in person_ids if p != heavy_id and near & set(self.person_structures[p])]
            pool = pool or [p for p in person_ids if p != heavy_id] or person_ids
            light_id = self.rng.choice(pool)
        others = [person_id for person_id in person_ids if person_id not in (heavy_id, light_id)] or person_ids
        self.heavy_person_id, self.light_person_id = heavy_id, light_id
        if heavy:
            self.stdout.write(f"{'heavy person':>20}: id {heavy_id} ({heavy} transmissions)")
        if light:
            self.stdout.write(f"{'light person':>20}: id {light_id} ({light} transmissions)")

        total = count + heavy + light

        def heavy_at(index: int) -> bool:
            return (index + 1) * heavy // total > index * heavy // total

        # The light person's rows spread evenly, each moved past any slot of the heavy person.
        light_at = set()
        for k in range(light):
            index = (2 * k + 1) * total // (2 * light)
            while heavy_at(index) or index in light_at:
                index = (index + 1) % total
            light_at.add(index)
        origin = self.now - TRANSMISSION_SPAN
        slot = TRANSMISSION_SPAN.total_seconds() / total
        write = self._copy_transmissions if connection.vendor == "postgresql" else self._bulk_create_transmissions
        rows: list[tuple] = []
        report_every = max(batch, total // 10)
        next_report = report_every
        for index in range(total):
            person_id = heavy_id if heavy_at(index) else light_id if index in light_at else self.rng.choice(others)
            observed_at = origin + datetime.timedelta(seconds=(index + self.rng.random()) * slot)
            rows.append(self.new_transmission(person_id, authors[person_id], observed_at))
            if len(rows) >= batch or index == total - 1:
                with transaction.atomic():
                    write(rows)
                self.counts["transmissions"] += len(rows)
                rows = []
                if index + 1 >= next_report and index + 1 < total:
                    elapsed = time.monotonic() - started
                    self.stdout.write(f"{'':>20}  {index + 1} / {total} transmissions, {elapsed:.0f} s")
                    self.stdout.flush()
                    next_report += report_every
        self.counts["transmissions"] -= heavy + light
        self.counts["heavy transmissions"] = heavy
        self.counts["light transmissions"] = light
        self.transmissions_seconds = time.monotonic() - started

    def new_transmission(self, person_id: int, authors: list[tuple[int, int]], observed_at) -> tuple:
        """One row, in the order of TRANSMISSION_COLUMNS."""
        rng = self.rng
        author_id, structure_id = rng.choice(authors)
        category, category_label = rng.choice(CATEGORY_LABELS)
        created_at = min(observed_at + datetime.timedelta(seconds=rng.randrange(60, 4 * 3600)), self.now)
        target = data = actions = results = text = ""
        if rng.random() < 0.2:
            kind = TransmissionKind.TARGETED.value
            target = rng.choice(TARGETS)
            data = _sentence(rng.sample(PHRASES, 2))
            actions = _sentence([rng.choice(ACTIONS)])
            results = _sentence([rng.choice(RESULTS)]) if rng.random() < 0.7 else ""
        else:
            kind = TransmissionKind.GENERAL.value
            text = _sentence(rng.sample(PHRASES, rng.randint(2, 4)))
        scope = Scope.INTERNAL.value if rng.random() < 0.1 else Scope.SHARED.value
        is_important = rng.random() < 0.05
        event = rng.choice(EVENTS) if rng.random() < 0.01 else ""
        # As liaison.services._search_document: category label, target, text, data, actions, results.
        document = " ".join(filter(None, [category_label, target, text, data, actions, results]))
        return (
            person_id,
            author_id,
            structure_id,
            observed_at,
            created_at,
            category,
            kind,
            target,
            text,
            data,
            actions,
            results,
            scope,
            is_important,
            event,
            None,
            "active",
            None,
            None,
            False,
            document,
        )

    def _copy_transmissions(self, rows: list[tuple]) -> None:
        """COPY the rows with ids taken from the table's sequence, then the authors' read marks."""
        table = Transmission._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "  # noqa: S608
                "FROM generate_series(1, %s)",
                [len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            raw = cursor.cursor
            with raw.copy(f"COPY {table} (id, {', '.join(TRANSMISSION_COLUMNS)}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row))
            with raw.copy(f"COPY {ReadMark._meta.db_table} (transmission_id, user_id, read_at) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, row[1], row[4]))
        self.counts["read marks"] += len(rows)

    def _bulk_create_transmissions(self, rows: list[tuple]) -> None:
        transmissions = Transmission.objects.bulk_create(
            [Transmission(**dict(zip(TRANSMISSION_COLUMNS, row, strict=True))) for row in rows],
            batch_size=5000,
        )
        ReadMark.objects.bulk_create(
            [ReadMark(transmission_id=t.pk, user_id=t.author_id, read_at=t.created_at) for t in transmissions],
            batch_size=5000,
        )
        self.counts["read marks"] += len(transmissions)


def _sentence(phrases: list[str]) -> str:
    return ". ".join(phrase[0].upper() + phrase[1:] for phrase in phrases) + "."
