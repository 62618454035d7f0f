"""factory_boy factories. Rows that carry rights are made through the services."""

from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model

from coordination.identifiers import ins_key
from coordination.models import Person, Professional, Structure

PASSWORD = "Motdepasse-tres-solide-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@exemple.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


def activate_totp(user) -> str:
    """Give the user a TOTP authenticator; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def valid_ins(n: int, *, sex: str = "2", corsica: str = "") -> str:
    department = corsica or "75"
    first13 = f"{sex}{50 + n % 40:02d}{1 + n % 12:02d}{department}{100 + n % 800:03d}{n % 1000:03d}"
    return f"{first13}{ins_key(first13):02d}"


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure

    name = factory.Sequence(lambda n: f"Structure {n}")
    finess = factory.Sequence(lambda n: f"75{n:07d}")
    kind = "ehpad"


class ProfessionalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Professional

    user = factory.SubFactory(UserFactory)
    profession = "infirmier"
    rpps = factory.Sequence(lambda n: f"10{n:09d}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    birth_name = factory.Faker("last_name", locale="fr_FR")
    birth_first_names = factory.Faker("first_name", locale="fr_FR")
    birth_date = factory.Sequence(lambda n: datetime.date(1930, 1, 1) + datetime.timedelta(days=n * 37))
    sex = "F"
    birth_place_insee = "75056"


def current_totp(secret: str) -> str:
    """The TOTP code a phone would show now for this secret."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
