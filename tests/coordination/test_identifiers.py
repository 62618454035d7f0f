from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from coordination import services
from coordination.identifiers import ins_key, validate_finess, validate_ins_matricule, validate_rpps


@pytest.mark.parametrize(
    "matricule",
    [
        "269029934173285",  # NIR with its key
        "185022A12345682",  # born in Corse-du-Sud (2A counts as 19)
        "185022B12345612",  # born in Haute-Corse (2B counts as 18)
        "1 85 02 2A 123 456 82",
    ],
)
def test_it_accepts_valid_ins_matricules(matricule):
    validate_ins_matricule(matricule)


@pytest.mark.parametrize(
    "matricule, message",
    [
        ("269029934173286", "clé de contrôle"),
        ("185022A12345612", "clé de contrôle"),  # the 2B key on a 2A number
        ("185022B12345682", "clé de contrôle"),
        ("26902993417328", "15 caractères"),
        ("2690299341732AB", "15 caractères"),
        ("969029934173285", "15 caractères"),
    ],
)
def test_it_refuses_invalid_ins_matricules_with_a_clear_message(matricule, message):
    with pytest.raises(ValidationError) as error:
        validate_ins_matricule(matricule)
    assert message in error.value.messages[0]
    assert error.value.messages[0].startswith("Matricule INS invalide")


def test_it_computes_the_corsican_keys_by_replacing_2a_and_2b():
    assert ins_key("185022A123456") == 97 - int("1850219123456") % 97
    assert ins_key("185022B123456") == 97 - int("1850218123456") % 97


@pytest.mark.parametrize(
    "value, ok", [("10003456789", True), ("1000345678", False), ("1000345678X", False), ("", False)]
)
def test_it_checks_rpps_numbers(value, ok):
    if ok:
        validate_rpps(value)
    else:
        with pytest.raises(ValidationError, match="RPPS"):
            validate_rpps(value)


@pytest.mark.parametrize(
    "value, ok",
    [("750712184", True), ("2A0001234", True), ("75071218", False), ("75071218-", False), ("7507121845", False)],
)
def test_it_checks_finess_numbers(value, ok):
    if ok:
        validate_finess(value)
    else:
        with pytest.raises(ValidationError, match="FINESS"):
            validate_finess(value)


@pytest.mark.django_db
def test_it_refuses_an_invalid_ins_an_impossible_date_and_a_duplicate_naming_the_field(admin_user):
    traits = {
        "birth_name": "DUPONT",
        "birth_first_names": "Paul",
        "birth_date": "1950-02-03",
        "sex": "M",
        "birth_place_insee": "75056",
    }
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=admin_user, ins_matricule="269029934173286", **traits)
    assert "ins_matricule" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=admin_user, **{**traits, "birth_date": "1950-02-30"})
    assert "birth_date" in error.value.message_dict
    services.person_create(actor=admin_user, **traits)
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=admin_user, **traits)
    assert "existe déjà" in " ".join(error.value.messages)


@pytest.mark.django_db
def test_it_refuses_an_invalid_finess_and_a_duplicate_structure(admin_user):
    with pytest.raises(ValidationError) as error:
        services.structure_create(actor=admin_user, name="IME", finess="12345", kind="ime")
    assert "finess" in error.value.message_dict
    services.structure_create(actor=admin_user, name="IME Les Pins", finess="750000099", kind="ime")
    with pytest.raises(ValidationError) as error:
        services.structure_create(actor=admin_user, name="IME bis", finess="750000099", kind="ime")
    assert "finess" in error.value.message_dict
