"""Form helpers shared by the apps."""

from __future__ import annotations

from django import forms


class AccessibleFormMixin:
    """Tie help texts and errors to their inputs (aria-describedby, aria-invalid), also
    for errors added after validation (a service refusing the data)."""

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
