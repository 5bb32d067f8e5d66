"""The street admin's reference data for 民情快办: SLA policies and milestones, categories, contractors."""

from django.contrib import admin

from kangle.cases.models import CaseCategory, Contractor, Milestone, ServiceQuestion, SlaPolicy


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "clock_type", "warn_ratio"]
    inlines = [MilestoneInline]


class ServiceQuestionInline(admin.TabularInline):
    model = ServiceQuestion
    extra = 0


@admin.register(CaseCategory)
class CaseCategoryAdmin(admin.ModelAdmin):
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
