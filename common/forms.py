"""Form helpers shared by the apps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.validators import MaxLengthValidator

from common.validation import LONG_TEXT_MAX, date_in_range

# For the type checker the mixin is a form (it is only ever mixed into one).
if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class AccessibleFormMixin(_FormBase):
    """Tie help texts and errors to their inputs (aria-describedby, aria-invalid), also
    for errors added after validation (a service refusing the data). Bound what is typed
    (`common.validation`): a text without its own maximum gets LONG_TEXT_MAX, shown to the
    browser as `maxlength`; every date must lie between 1900 and 2100."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and field.max_length is None:
                field.max_length = LONG_TEXT_MAX
                field.validators.append(MaxLengthValidator(LONG_TEXT_MAX))
                if not field.widget.is_hidden:
                    field.widget.attrs.setdefault("maxlength", str(LONG_TEXT_MAX))
            if isinstance(field, forms.DateField | forms.DateTimeField) and date_in_range not in field.validators:
                field.validators.append(date_in_range)

    def full_clean(self):
        super().full_clean()
        self._mark_fields()

    def add_error(self, field, error):
        super().add_error(field, error)
        if hasattr(self, "cleaned_data"):
            self._mark_fields()

    def _mark_fields(self):
        for name, field in self.fields.items():
            bound = self[name]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}_helptext")
            if name in self.errors:
                described.append(f"{bound.auto_id}_errors")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)


class Form(AccessibleFormMixin, forms.Form):
    pass


def add_service_errors(form, error, renames: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it
    (`renames` maps a service field name to the form's), else at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            field = (renames or {}).get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class PlainModelChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices read with one plain query. Django's iterator reads them through
    `QuerySet.iterator()`: on PostgreSQL a server-side cursor (DECLARE, FETCH, CLOSE),
    three round trips for the few structures of a filter's select (issue 19)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class SmallModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField for a short list of choices (read at once, see above)."""

    iterator = PlainModelChoiceIterator
