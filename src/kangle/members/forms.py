"""Forms collect what a person typed; the services validate it (one place for the rules and the messages)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kangle.core.forms import BilingualForm, IdListField
from kangle.members.constants import DAYS, PERIODS, SLOTS, Gender, PoliticalStatus, slot_label
from kangle.members.models import MemberWillingness, Skill
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q

# The raw keys the services understand (validation.FIELD_LABELS).
MEMBER_KEYS = (
    "name",
    "gender",
    "birth_year",
    "phone",
    "id_number",
    "address",
    "political_status",
    "employer",
    "party_org",
    "position",
    "community",
    "microgrid",
    "skills",
    "skills_other",
    "availability",
    "willingness",
    "hours_per_month",
    "household",
)


def aspect_choices() -> list[tuple[str, str]]:
    """The active aspects of the service catalogue (code, name): the catalogue is where aspects are named."""
    catalogue = MemberWillingness._meta.get_field("aspect").related_model
    return list(
        catalogue.objects.filter(is_active=True, category__is_active=True).values_list("code", "name")
    )


class MemberForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=50)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Gender.choices], required=False)
    birth_year = forms.CharField(label=_("Birth year"), max_length=10, required=False)
    phone = forms.CharField(label=_("Mobile number"), max_length=30)
    id_number = forms.CharField(label=_("ID number (optional)"), max_length=30, required=False)
    political_status = forms.ChoiceField(label=_("Political status"), choices=PoliticalStatus.choices)
    employer = forms.CharField(label=_("Employer"), max_length=200, required=False)
    party_org = forms.CharField(label=_("Employer Party organisation"), max_length=200, required=False)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    address = forms.CharField(label=_("Home address"), max_length=300, required=False)
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=OrgUnit.objects.none(), to_field_name="code"
    )
    microgrid = forms.ModelChoiceField(
        label=_("Building or micro-grid"),
        queryset=OrgUnit.objects.none(),
        to_field_name="code",
        required=False,
    )
    skills = forms.MultipleChoiceField(label=_("Skills"), required=False, widget=forms.CheckboxSelectMultiple)
    skills_other = forms.CharField(label=_("Other skills"), max_length=200, required=False)
    availability = forms.MultipleChoiceField(
        label=_("When you can serve"),
        required=False,
        choices=[(code, slot_label(i)) for i, code in SLOTS],
        widget=forms.CheckboxSelectMultiple,
    )
    willingness = forms.MultipleChoiceField(
        label=_("Kinds of service you want to do"),
        choices=aspect_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hours_per_month = forms.IntegerField(
        label=_("Hours per month you can offer"), min_value=0, max_value=200, required=False
    )
    household = forms.CharField(
        label=_("Household members"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line or separated by ；, written as name(relation), e.g. 王芳(配偶)"),
    )

    def __init__(self, *args, communities_under: OrgUnit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["id_number"].help_text = _("18 characters; the last may be X. You may leave it empty.")
        self.fields["address"].help_text = _("Road, lane, number and room, e.g. 康健路 300 弄 5 号 201 室")
        self.fields["microgrid"].help_text = _(
            "Type your estate, building or micro-grid and choose it below."
        )
        communities = OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, is_active=True).order_by("path")
        grids = OrgUnit.objects.filter(kind=OrgKind.MICROGRID, is_active=True).order_by("path")
        if communities_under is not None:
            communities = communities.filter(subtree_q(communities_under.path))
            grids = grids.filter(subtree_q(communities_under.path))
        self.fields["community"].queryset = communities
        self.fields["microgrid"].queryset = grids
        self.fields["skills"].choices = list(Skill.objects.filter(is_active=True).values_list("code", "name"))

    def raw(self) -> dict:
        data = {key: self.cleaned_data.get(key) for key in MEMBER_KEYS}
        data["household"] = (data.get("household") or "").replace("\n", "；")
        if data.get("hours_per_month") is None:
            data["hours_per_month"] = ""
        return {k: v for k, v in data.items() if v is not None}

    def week_rows(self) -> list[tuple[str, list[tuple[object, str]]]]:
        """服务时间 as seven day rows of three toggles (morning, afternoon, evening)."""
        if "availability" not in self.fields:
            return []
        boxes = list(self["availability"])
        return [
            (day_label, [(boxes[d * 3 + p], period[1]) for p, period in enumerate(PERIODS)])
            for d, (_code, day_label) in enumerate(DAYS)
        ]


# 报到 step 1 asks who and where only; these wait for step 2, in 我的档案.
LATER_FIELDS = (
    "gender",
    "birth_year",
    "position",
    "party_org",
    "skills",
    "skills_other",
    "availability",
    "willingness",
    "hours_per_month",
    "household",
)


class SelfRegistrationForm(MemberForm):
    password = forms.CharField(
        label=_("Password for logging in"),
        # The typed password is kept when another field is refused: nobody types it twice.
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
        required=False,
        min_length=8,
        help_text=_("At least 8 characters, not only digits, not a common password such as 12345678."),
    )
    consent = forms.BooleanField(
        label=_("I agree that my personal data is used as described above"), required=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in LATER_FIELDS:
            del self.fields[name]
        self.fields["phone"].help_text = _("11 digits, e.g. 138 1234 5678")
        self.fields["phone"].widget.input_type = "tel"
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["name"].widget.attrs["autocomplete"] = "name"


class DeskEntryForm(BilingualForm, MemberForm):
    """Staff entry at a registration point (a workbench page: errors in both languages)."""

    point = forms.ModelChoiceField(
        label=_("Registration point"), queryset=None, to_field_name="code", required=False
    )
    # The existing file a second arrival of the same person is merged into (the page's merge button).
    merge_into = forms.IntegerField(
        label=_("Existing file"), min_value=1, required=False, widget=forms.HiddenInput
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class TransferForm(forms.Form):
    to_community = forms.ModelChoiceField(
        label=_("Move to community"),
        to_field_name="code",
        queryset=OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, is_active=True),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, offered: list[tuple[str, str]] | None = None, **kwargs):
        """``offered``: the (code, name) pairs the drop-down lists (the person's own communities); any
        active community is still accepted, found through the search next to it."""
        super().__init__(*args, **kwargs)
        if offered is not None:
            self.fields["to_community"].widget.choices = [("", "---------"), *offered]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))


class CollectiveForm(forms.Form):
    rows = forms.CharField(
        label=_("Your members, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Columns separated by commas or tabs: name, mobile number, political status, community, position"
        ),
    )
    file = forms.FileField(label=_("Or upload a list (.xlsx or .csv)"), required=False)


# --- the small POSTs of the workbench pages --------------------------------------------------------------
class MemberActionForm(BilingualForm):
    """Return, leave or transfer a file: the reason (the service says when one is needed) and the target."""

    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    to_community = forms.ModelChoiceField(
        label=_("Move to community"),
        to_field_name="code",
        queryset=OrgUnit.objects.filter(kind=OrgKind.COMMUNITY),
        required=False,
    )


class ImportTargetForm(BilingualForm):
    org = forms.ModelChoiceField(label=_("Import into"), to_field_name="code", queryset=None)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = units


class MappingForm(BilingualForm):
    """Which column of the upload holds each field of the member file (a column number, or none)."""

    def __init__(self, *args, labels: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for field, label in labels.items():
            self.fields[f"map_{field}"] = forms.IntegerField(label=label, min_value=0, required=False)
        self.labels = labels

    def mapping_value(self) -> dict[str, int]:
        return {
            field: self.cleaned_data[f"map_{field}"]
            for field in self.labels
            if self.cleaned_data[f"map_{field}"] is not None
        }


class PartyOrgChoiceForm(BilingualForm):
    party_org = forms.ModelChoiceField(label=_("Employer Party organisation"), queryset=None)

    def __init__(self, *args, party_orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party_org"].queryset = party_orgs


class ExpectedNumbersForm(BilingualForm):
    """底数 per unit of the page: one whole number per unit code (empty: unchanged)."""

    def __init__(self, *args, units: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for code, name in units.items():
            self.fields[f"expected_{code}"] = forms.IntegerField(
                label=name, min_value=0, max_value=2**31 - 1, required=False
            )
        self.units = units

    def expected(self) -> dict[str, int]:
        """Unit code → the number typed."""
        return {
            code: self.cleaned_data[f"expected_{code}"]
            for code in self.units
            if self.cleaned_data.get(f"expected_{code}") is not None
        }


class EmployerContactForm(BilingualForm):
    employer = forms.IntegerField(min_value=1)
    contact_person = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)

    def contact_fields(self) -> dict:
        """The keyword arguments of ``services.employer_update`` for the fields the form carried."""
        return {
            name: self.cleaned_data[name]
            for name in ("contact_person", "contact_phone", "email", "address")
            if name in self.data
        }


class PartyLinkForm(BilingualForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    party_orgs = IdListField(label=_("Party organisations it acts for"), required=False)


class PlaceSearchForm(forms.Form):
    """The registration point and the micro-grid search carried by the registration and file forms (in the
    query string on the first visit, in the POST after)."""

    point = forms.CharField(required=False)
    place_query = forms.CharField(required=False)
    community = forms.CharField(required=False)
    microgrid = forms.CharField(required=False)
    find_place = forms.CharField(required=False)

    @classmethod
    def terms(cls, request) -> dict[str, str]:
        """The point from the query string, else the POST; the search terms from the POST, else the query
        string; the chosen micro-grid and the search button only from the POST."""
        posted, asked = cls(request.POST), cls(request.GET)
        posted.is_valid(), asked.is_valid()
        terms = {name: posted.cleaned_data.get(name) or "" for name in cls.base_fields}
        terms["point"] = asked.cleaned_data.get("point") or terms["point"]
        for name in ("place_query", "community"):
            terms[name] = terms[name] or asked.cleaned_data.get(name) or ""
        return terms
