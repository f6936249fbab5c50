"""Forms of the import screens: they validate, the services act."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crmadmin.imports.mapping import roles_for
from crmadmin.imports.models import Mode


class UploadForm(forms.Form):
    target = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8, UTF-16 or Windows-1258; separated by commas, semicolons or tabs) "
            "or Excel (.xlsx). The first row names the columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )

    def __init__(self, *args, targets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets


class MappingForm(forms.Form):
    """One select per column of the file: which attribute it holds, or "ignore"."""

    def __init__(self, *args, target: str, headers: list[str], mapping: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore this column —"))]
        choices += [(role.key, role.label) for role in roles_for(target)]
        self.headers = headers
        for position, header in enumerate(headers):
            self.fields[f"column_{position}"] = forms.ChoiceField(
                label=header
                or _("(column %(number)d without a header)") % {"number": position + 1},
                choices=choices,
                required=False,
                initial=mapping[position] if position < len(mapping) else "",
            )

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{n}", "") for n in range(len(self.headers))]


class RunForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("How to import"),
        choices=[
            (
                Mode.ADOPT,
                _(
                    "These records are already in the CRM: add them to the register only. "
                    "Nothing is sent to the CRM; the audit log records each arrival."
                ),
            ),
            (
                Mode.SYNC,
                _(
                    "Create or update them in the CRM: one call per new or changed row, "
                    "each in the audit log; the register changes when the CRM accepts it."
                ),
            ),
        ],
        widget=forms.RadioSelect,
    )
    verify = forms.BooleanField(
        label=_(
            "When adding to the register only: first check each record with the CRM by "
            "sending it as an update with the file's values (one call per row). A record "
            "the CRM does not know is not added."
        ),
        required=False,
    )
