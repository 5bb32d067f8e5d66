"""Forms of the post pages. Fields stay permissive; the services validate and name the field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kangle.core.forms import BilingualForm, IdListField
from kangle.members.constants import SLOTS
from kangle.members.models import Skill
from kangle.orgs.models import OrgKind, OrgUnit, Venue
from kangle.orgs.scope import scope_queryset
from kangle.posts.models import ServiceAspect
from kangle.posts.schedule import slot_label


def slot_choices():
    return [(code, slot_label(index)) for index, code in SLOTS]


class PostForm(forms.Form):
    title = forms.CharField(label=_("Post title"), max_length=100, required=False)
    aspect = forms.ChoiceField(label=_("Aspect"), required=False)
    org = forms.ChoiceField(label=_("Owning unit"), required=False)
    venue = forms.ChoiceField(label=_("Venue"), required=False)
    description = forms.CharField(
        label=_("About the post"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    required_skills = forms.MultipleChoiceField(
        label=_("Required skills"), required=False, widget=forms.CheckboxSelectMultiple
    )
    preferred_skills = forms.MultipleChoiceField(
        label=_("Preferred skills"), required=False, widget=forms.CheckboxSelectMultiple
    )
    weekly_slots = forms.MultipleChoiceField(
        label=_("Weekly slots"), required=False, widget=forms.CheckboxSelectMultiple
    )
    starts_on = forms.CharField(
        label=_("Starts on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.CharField(
        label=_("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sessions = forms.CharField(
        label=_("Dated sessions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, e.g. 2026-12-05 09:00-11:00"),
    )
    capacity = forms.CharField(label=_("Capacity"), required=False)
    difficulty = forms.CharField(label=_("Difficulty (1–5)"), required=False)
    needs_confirmation = forms.BooleanField(label=_("Claims need confirmation"), required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["aspect"].choices = [
            (a.code, f"{a.category.name} · {a.name}")
            for a in ServiceAspect.objects.filter(is_active=True, category__is_active=True).select_related(
                "category"
            )
        ]
        units = scope_queryset(
            actor, OrgUnit.objects.filter(kind__in=[OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY]), "path"
        ).order_by("path")
        self.fields["org"].choices = [(u.code, u.name) for u in units]
        venues = scope_queryset(actor, Venue.objects.filter(is_active=True)).order_by("org__path", "name")
        self.fields["venue"].choices = [("", "—")] + [(str(v.pk), v.name) for v in venues]
        skills = [(s.code, s.name) for s in Skill.objects.filter(is_active=True)]
        self.fields["required_skills"].choices = skills
        self.fields["preferred_skills"].choices = skills
        self.fields["weekly_slots"].choices = slot_choices()

    def post_fields(self) -> dict:
        """The cleaned fields as the keyword arguments of the post services (``services.PostInput``)."""
        data = dict(self.cleaned_data)
        data["capacity"] = data.get("capacity") or "1"
        data["difficulty"] = data.get("difficulty") or "1"
        return data


class ReasonForm(BilingualForm):
    # Whether a reason is required is the service's rule (withdrawing needs none, removing does).
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class CatalogueForm(BilingualForm):
    """One row of the catalogue page: a category or an aspect renamed, reordered, retired or restored."""

    kind = forms.ChoiceField(choices=[("aspect", "aspect"), ("category", "category")])
    code = forms.CharField(max_length=50)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    sort_order = forms.IntegerField(label=_("Sort order"), min_value=0, max_value=32767, required=False)
    is_active = forms.BooleanField(required=False)

    def catalogue_fields(self) -> dict:
        """The keyword arguments of ``services.aspect_update`` / ``category_update`` (None: unchanged)."""
        data = self.cleaned_data
        return {
            "name": data["name"] if "name" in self.data else None,
            "sort_order": data["sort_order"],
            "is_active": data["is_active"],
        }


class BulkStartForm(BilingualForm):
    posts = IdListField(label=_("Posts"), required=False)


class PairListField(forms.Field):
    """Kept proposal pairs, each ``post:member`` (two whole numbers)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Choose from the list.")}

    def to_python(self, value) -> list[tuple[int, int]]:
        try:
            return [tuple(int(part) for part in item.split(":", 1)) for item in value or []]
        except (AttributeError, TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        super().validate(value)
        if any(len(pair) != 2 for pair in value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class ProposalForm(BilingualForm):
    """The secretary's choice on a bulk proposal: the proposed pairs kept, and one added member per post."""

    keep = PairListField(label=_("Proposed members"), required=False)

    def __init__(self, *args, posts, **kwargs):
        super().__init__(*args, **kwargs)
        for post in posts:
            self.fields[f"add_{post.pk}"] = forms.IntegerField(label=post.title, min_value=1, required=False)
        self.posts = posts

    def pairs(self) -> list[tuple[int, int]]:
        pairs = list(self.cleaned_data["keep"])
        for post in self.posts:
            extra = self.cleaned_data.get(f"add_{post.pk}")
            if extra:
                pairs.append((post.pk, extra))
        return pairs
