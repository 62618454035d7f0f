from __future__ import annotations

from reference import selectors as reference_selectors
from reference.models import SerafinCode
from tests.conftest import login


def test_it_loaded_the_nomenclature_with_its_hierarchy(db):
    assert SerafinCode.objects.filter(kind="need").count() == 35
    assert SerafinCode.objects.filter(kind="service").count() == 37
    code = SerafinCode.objects.get(kind="need", code="1.1.1")
    assert code.parent.code == "1.1" and code.parent.parent.code == "1" and code.depth == 3
    assert code.parent.parent.parent is None


def test_it_finds_codes_by_label_words_without_accents(db):
    found = list(reference_selectors.serafin_search("fonctions mentales psychiques", "need"))
    assert [c.code for c in found] == ["1.1.1"]
    assert reference_selectors.serafin_search("SANTE SOMATIQUE", "need").filter(code="1.1").exists()
    assert list(reference_selectors.serafin_search("1.1.1", "need")) == [
        SerafinCode.objects.get(kind="need", code="1.1.1")
    ]
    assert not reference_selectors.serafin_search("sante", "service").filter(kind="need").exists()


def test_it_serves_options_to_htmx_and_a_page_without_js(referent):
    client = login(referent)
    options = client.get("/ppa/serafin/", {"q": "systeme nerveux", "kind": "need"}, headers={"HX-Request": "true"})
    assert options.content.decode().startswith('<option value="')
    assert "1.1.1 — " in options.content.decode()
    page = client.get("/ppa/serafin/", {"q": "nerveux"})
    assert "<h1>Nomenclature SERAFIN-PH</h1>" in page.content.decode() and "1.1.1" in page.content.decode()
    assert "Aucun code" in client.get("/ppa/serafin/", {"q": "zzzz"}, headers={"HX-Request": "true"}).content.decode()
