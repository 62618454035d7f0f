"""The form renderer: Django's, with the commonest widgets written in Python.

Every widget of a Django form is rendered through a template of its own, and a select
through one more include per option: the notebook's and the feed's filter form (two
selects of 10–15 options, a few inputs) cost about as much to render as their 25
transmissions (bench/README.md, issue 19). For the templates named in `_FAST` — the
plain `<input>` family, `<select>` and its options, radio groups — this renderer writes the very
markup of Django's template in Python, escaping as the template does; any other
template, or one of these that an application overrides, goes through the templates
as before. tests/common/test_form_renderer.py compares both outputs widget by widget.
"""

from __future__ import annotations

from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

_DJANGO_WIDGETS = Path(django.forms.__file__).resolve().parent / "templates" / "django" / "forms" / "widgets"

# Django's widget templates that are exactly `{% include "django/forms/widgets/input.html" %}`.
INPUT_TEMPLATES = tuple(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "search",
        "email",
        "url",
        "tel",
        "number",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "color",
        "checkbox",
    )
)
SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
RADIO_TEMPLATE = "django/forms/widgets/radio.html"
MULTIPLE_INPUT_TEMPLATE = "django/forms/widgets/multiple_input.html"
RADIO_OPTION_TEMPLATE = "django/forms/widgets/radio_option.html"
INPUT_OPTION_TEMPLATE = "django/forms/widgets/input_option.html"
# What each written template includes: all must be Django's own files.
_INCLUDES = {
    SELECT_TEMPLATE: (OPTION_TEMPLATE,),
    RADIO_TEMPLATE: (
        MULTIPLE_INPUT_TEMPLATE,
        RADIO_OPTION_TEMPLATE,
        INPUT_OPTION_TEMPLATE,
        "django/forms/widgets/input.html",
    ),
}


def _text(value) -> str:
    """`{{ value|stringformat:'s' }}`: str(), escaped unless marked safe."""
    return conditional_escape(value if isinstance(value, SafeString) else str(value))


def _var(value) -> str:
    """`{{ value }}`: as Django's render_value_in_context (local time, localized, escaped)."""
    if not isinstance(value, str):
        value = localize(template_localtime(value))
        if not isinstance(value, str):
            value = str(value)
    return conditional_escape(value)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_var(name)}")
        else:
            parts.append(f' {_var(name)}="{_text(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html."""
    value = widget["value"]
    shown = f' value="{_text(value)}"' if value is not None else ""
    return f'<input type="{_var(widget["type"])}" name="{_var(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'


def _option(option: dict) -> str:
    """django/forms/widgets/select_option.html (without its final newline)."""
    return f'<option value="{_text(option["value"])}"{_attrs(option["attrs"])}>{_var(option["label"])}</option>'


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html, its options included (each with the newline that
    ends the option's template file)."""
    parts = [f'<select name="{_var(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_var(group_name)}">')
        for option in group_choices:
            if option.get("template_name") != OPTION_TEMPLATE:
                return ""  # a custom option template: not ours to write
            parts.append(f"\n  {_option(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _radio_option(option: dict) -> str:
    """django/forms/widgets/radio_option.html: input_option.html, which includes
    input.html; each included file's final newline is kept, as `{% include %}` does."""
    html = _input(option) + "\n"
    if option.get("wrap_label"):
        option_id = option["attrs"].get("id")
        opening = f'<label for="{_var(option_id)}">' if option_id else "<label>"
        html = f"{opening}{html} {_var(option['label'])}</label>"
    return html + "\n\n"


def _radio(widget: dict) -> str:
    """django/forms/widgets/radio.html (multiple_input.html and its options)."""
    widget_id = widget["attrs"].get("id")
    css = widget["attrs"].get("class")
    shown_id = f' id="{_var(widget_id)}"' if widget_id else ""
    shown_class = f' class="{_var(css)}"' if css else ""
    parts = [f"<div{shown_id}{shown_class}>"]
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f"\n  <div><label>{_var(group_name)}</label>")
        for option in group_choices:
            if option.get("template_name") != RADIO_OPTION_TEMPLATE:
                return ""  # a custom option template: not ours to write
            parts.append(f"<div>\n    {_radio_option(option)}</div>")
        if group_name:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


_FAST = {**dict.fromkeys(INPUT_TEMPLATES, _input), SELECT_TEMPLATE: _select, RADIO_TEMPLATE: _radio}


class FormRenderer(DjangoTemplates):
    """Django's DjangoTemplates form renderer; the widgets of `_FAST` written in Python
    when the template in use is Django's own file (not overridden by an application)."""

    def __init__(self) -> None:
        super().__init__()
        self._own: dict[str, bool] = {}

    def _is_django_own(self, template_name: str) -> bool:
        own = self._own.get(template_name)
        if own is None:
            origin = getattr(self.get_template(template_name), "origin", None)
            own = origin is not None and Path(origin.name).resolve().parent == _DJANGO_WIDGETS
            for included in _INCLUDES.get(template_name, ()):
                own = own and self._is_django_own(included)
            self._own[template_name] = own
        return own

    def render(self, template_name, context, request=None):
        write = _FAST.get(template_name)
        widget = context.get("widget") if write is not None else None
        if write is not None and widget is not None and self._is_django_own(template_name):
            html = write(widget)
            if html:
                # BaseRenderer.render strips the template's output.
                return mark_safe(html.strip())  # noqa: S308 - every value above is escaped
        return super().render(template_name, context, request=request)
