from django.contrib import admin

from kangle.prevention.models import Campaign, InspectionRound, MonitoringPoint, TeamOrganisation


@admin.register(MonitoringPoint)
class MonitoringPointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "org", "place_type", "status", "installed_on"]
    list_filter = ["status", "place_type"]
    search_fields = ["code", "name"]
    raw_id_fields = ["org"]


@admin.register(InspectionRound)
class InspectionRoundAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "started_at", "closed_at"]
    raw_id_fields = ["org", "created_by"]


class TeamInline(admin.TabularInline):
    model = TeamOrganisation
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "starts_on", "ends_on", "status"]
    raw_id_fields = ["org", "lead", "contractor"]
    inlines = [TeamInline]
