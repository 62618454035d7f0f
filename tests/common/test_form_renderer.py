"""The form renderer writes the same markup as Django's widget templates (common/form_renderer.py)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from common.form_renderer import _DJANGO_WIDGETS, _FAST, INPUT_TEMPLATES, FormRenderer

HOSTILE = "a<b>&\"'c"

WIDGETS = [
    (forms.TextInput(), "q", None),
    (forms.TextInput(), "q", ""),
    (forms.TextInput(), "q", HOSTILE),
    (forms.TextInput(attrs={"type": "search", "required": True, "disabled": False, "maxlength": 200}), "q", "x"),
    (forms.TextInput(attrs={"placeholder": HOSTILE, "data-none": None}), "q", 12),
    (forms.TextInput(), "q", mark_safe("<i>déjà sûr</i>")),  # noqa: S308 - what a caller marked safe stays so
    (forms.EmailInput(), "email", "a@b.fr"),
    (forms.NumberInput(attrs={"min": 0, "step": "0.5"}), "n", 3),
    (forms.PasswordInput(render_value=True), "p", "secret"),
    (forms.PasswordInput(), "p", "secret"),
    (forms.HiddenInput(), "h", "7"),
    (forms.URLInput(), "u", "https://exemple.fr/?a=1&b=2"),
    (forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), "since", datetime.date(2026, 12, 7)),
    (forms.DateInput(), "since", "pas une date"),
    (forms.DateTimeInput(), "at", datetime.datetime(2026, 12, 7, 10, 30)),
    (forms.TimeInput(), "t", datetime.time(9, 5)),
    (forms.CheckboxInput(), "c", True),
    (forms.CheckboxInput(), "c", False),
    (forms.CheckboxInput(), "c", "on"),
    (forms.Select(choices=[("", "Toutes"), ("a", "A"), ("b", HOSTILE)]), "category", None),
    (forms.Select(choices=[("", "Toutes"), ("a", "A"), ("b", HOSTILE)]), "category", "b"),
    (forms.Select(choices=[(1, 1), (2, 2000), (3, gettext_lazy("Oui"))]), "n", 2),
    (forms.Select(choices=[("g1", [("a", "A"), ("b", "B")]), ("c", "C"), (HOSTILE, [("d", "D")])]), "g", "d"),
    (forms.Select(choices=[], attrs={"required": True, "aria-describedby": "x_helptext"}), "e", None),
    (forms.SelectMultiple(choices=[("a", "A"), ("b", "B"), ("c", "C")]), "m", ["a", "c"]),
    (forms.NullBooleanSelect(), "nb", None),
    (forms.NullBooleanSelect(), "nb", True),
    (forms.RadioSelect(choices=[("0", "Rien"), ("1", "Voir"), ("2", "Voir et écrire")]), "m12-agenda", "1"),
    (forms.RadioSelect(choices=[("0", "Rien"), ("1", HOSTILE)]), "r", None),
    (forms.RadioSelect(choices=[("a", "A"), ("b", "B")], attrs={"class": "inline", "required": True}), "r", "b"),
    (forms.RadioSelect(choices=[("g1", [("a", "A"), ("b", "B")]), ("c", "C"), (HOSTILE, [("d", "D")])]), "g", "d"),
    (forms.RadioSelect(choices=[(1, 1), (2, gettext_lazy("Oui"))]), "n", 2),
]


@pytest.mark.parametrize(
    ("widget", "name", "value"), WIDGETS, ids=[f"{w.__class__.__name__}-{i}" for i, (w, _n, _v) in enumerate(WIDGETS)]
)
def test_same_markup_as_django_templates(widget, name, value):
    attrs = {"id": f"id_{name}"}
    expected = widget.render(name, value, attrs=attrs, renderer=DjangoTemplates())
    assert widget.render(name, value, attrs=attrs, renderer=FormRenderer()) == expected


def test_the_filter_forms_render_the_same():
    from liaison.forms import NotebookFilterForm

    data = {"q": HOSTILE, "category": "soins", "kind": "", "author": "Du<pont>", "since": "2026-12-01", "until": "x"}
    for form in (NotebookFilterForm(), NotebookFilterForm(data)):
        for field in form:
            attrs = field.build_widget_attrs({"id": field.auto_id})
            value = field.value()
            expected = field.field.widget.render(field.html_name, value, attrs=attrs, renderer=DjangoTemplates())
            ours = field.field.widget.render(field.html_name, value, attrs=attrs, renderer=FormRenderer())
            assert ours == expected, field.name


def test_a_radio_group_without_an_id_renders_the_same():
    widget = forms.RadioSelect(choices=[("0", "Rien"), ("1", HOSTILE)])
    expected = widget.render("r", "0", attrs={}, renderer=DjangoTemplates())
    assert widget.render("r", "0", attrs={}, renderer=FormRenderer()) == expected


def test_the_persons_rights_form_renders_the_same():
    from portal.user_portal.forms import GrantsForm

    for form in (GrantsForm(levels={"agenda": 2}, prefix="m7"), GrantsForm({"m7-agenda": "x"}, prefix="m7")):
        for field in form:
            attrs = field.build_widget_attrs({"id": field.auto_id})
            value = field.value()
            expected = field.field.widget.render(field.html_name, value, attrs=attrs, renderer=DjangoTemplates())
            ours = field.field.widget.render(field.html_name, value, attrs=attrs, renderer=FormRenderer())
            assert ours == expected, field.name


def test_the_project_uses_it():
    renderer = get_default_renderer()
    assert isinstance(renderer, FormRenderer)
    # Django's own templates are in use, so the Python path is taken for each.
    assert all(renderer._is_django_own(name) for name in _FAST)


def test_the_fast_templates_are_still_what_it_writes():
    """A Django upgrade that changes one of these templates must be seen here."""
    for name in INPUT_TEMPLATES:
        source = (_DJANGO_WIDGETS / Path(name).name).read_text()
        if Path(name).name != "input.html":
            assert source == '{% include "django/forms/widgets/input.html" %}\n', name
    assert (_DJANGO_WIDGETS / "input.html").read_text() == (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
        " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    )
    assert (_DJANGO_WIDGETS / "select_option.html").read_text() == (
        "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n'
    )
    assert (_DJANGO_WIDGETS / "attrs.html").read_text() == (
        "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
        "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}"
    )
    assert (_DJANGO_WIDGETS / "radio.html").read_text() == '{% include "django/forms/widgets/multiple_input.html" %}\n'
    assert (
        _DJANGO_WIDGETS / "radio_option.html"
    ).read_text() == '{% include "django/forms/widgets/input_option.html" %}\n'
    assert (_DJANGO_WIDGETS / "input_option.html").read_text() == (
        '{% if widget.wrap_label %}<label{% if widget.attrs.id %} for="{{ widget.attrs.id }}"{% endif %}>{% endif %}'
        '{% include "django/forms/widgets/input.html" %}{% if widget.wrap_label %} {{ widget.label }}</label>'
        "{% endif %}\n"
    )
    assert (_DJANGO_WIDGETS / "multiple_input.html").read_text() == (
        '{% with id=widget.attrs.id %}<div{% if id %} id="{{ id }}"{% endif %}'
        '{% if widget.attrs.class %} class="{{ widget.attrs.class }}"{% endif %}>'
        "{% for group, options, index in widget.optgroups %}{% if group %}\n"
        "  <div><label>{{ group }}</label>{% endif %}{% for option in options %}<div>\n"
        "    {% include option.template_name with widget=option %}</div>{% endfor %}{% if group %}\n"
        "  </div>{% endif %}{% endfor %}\n"
        "</div>{% endwith %}\n"
    )
    assert set(_FAST) == {*INPUT_TEMPLATES, "django/forms/widgets/select.html", "django/forms/widgets/radio.html"}


def test_an_overridden_template_is_rendered_by_it(monkeypatch):
    """Where an application overrides one of these templates, its template is used."""
    renderer = FormRenderer()
    monkeypatch.setattr(renderer, "_is_django_own", lambda name: False)
    calls = []
    original = DjangoTemplates.render

    def spy(self, template_name, context, request=None):
        calls.append(template_name)
        return original(self, template_name, context, request)

    monkeypatch.setattr(DjangoTemplates, "render", spy)
    forms.TextInput().render("q", "x", renderer=renderer)
    assert calls == ["django/forms/widgets/text.html"]


def test_a_small_model_choice_field_offers_the_same_choices(db, structure, other_structure, django_assert_num_queries):
    from common.forms import SmallModelChoiceField
    from coordination.models import Structure

    queryset = Structure.objects.order_by("name")
    small = SmallModelChoiceField(queryset=queryset, empty_label="Toutes", required=False)
    plain = forms.ModelChoiceField(queryset=queryset, empty_label="Toutes", required=False)
    with django_assert_num_queries(1):
        choices = [(str(value), label) for value, label in small.choices]
    assert choices == [(str(value), label) for value, label in plain.choices]
    assert choices == [
        ("", "Toutes"),
        (str(structure.pk), str(structure)),
        (str(other_structure.pk), str(other_structure)),
    ]
    assert small.clean(str(other_structure.pk)) == other_structure
