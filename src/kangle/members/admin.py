from django.contrib import admin

from kangle.members.models import Employer, EmployerPartyOrg, Skill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ("name", "contact_person", "contact_phone", "email")
    search_fields = ("name",)


@admin.register(EmployerPartyOrg)
class EmployerPartyOrgAdmin(admin.ModelAdmin):
    list_display = ("name", "employer", "contact_person", "contact_phone", "email", "account")
    search_fields = ("name", "employer__name")
    raw_id_fields = ("account",)
