"""The street admin's reference data for 民情快办: SLA policies and milestones, categories, contractors."""

from django import forms
from django.contrib import admin

from kangle.cases.models import CaseCategory, CaseStatus, Contractor, Milestone, ServiceQuestion, SlaPolicy
from kangle.cases.reference import MET_ON_CHOICES
from kangle.cases.reference_cache import reference_changed


class ReferenceChangeMixin:
    """Intake keeps categories and policies per process: a change here tells every process (see
    ``kangle.cases.reference_cache``)."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        reference_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        reference_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        reference_changed()


class MilestoneForm(forms.ModelForm):
    """A milestone is met when its case reaches one of the statuses the policy pages offer, not any text."""

    met_on = forms.ChoiceField(
        label=Milestone._meta.get_field("met_on").verbose_name,
        choices=[(status, CaseStatus(status).label) for status in MET_ON_CHOICES],
    )

    class Meta:
        model = Milestone
        fields = ["code", "name", "hours", "met_on", "order", "on_rework"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    form = MilestoneForm
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReferenceChangeMixin, admin.ModelAdmin):
    list_display = ["code", "name", "clock_type", "warn_ratio"]
    inlines = [MilestoneInline]


class ServiceQuestionInline(admin.TabularInline):
    model = ServiceQuestion
    extra = 0


@admin.register(CaseCategory)
class CaseCategoryAdmin(ReferenceChangeMixin, admin.ModelAdmin):
    inlines = [ServiceQuestionInline]
    list_display = ["code", "name", "parent", "policy", "sort_order", "is_active"]
    list_filter = ["is_active", "policy"]
    search_fields = ["code", "name"]


@admin.register(Contractor)
class ContractorAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "priority", "is_active"]
    list_filter = ["is_active"]
    filter_horizontal = ["categories", "users"]
    raw_id_fields = ["org"]
