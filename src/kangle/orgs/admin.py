"""The street admin's reference data in the Django admin, scoped like every other page.

Admin rights come from the street-admin role (not Django's model permissions), and every list is
filtered to the admin's subtree; changes made here are audited.
"""

from django.contrib import admin

from kangle.core import audit
from kangle.core.roles import Role
from kangle.orgs.models import OrgUnit, RegistrationPoint, Venue
from kangle.orgs.scope import scope_queryset


class ScopedAdmin(admin.ModelAdmin):
    scope_path_field = "org__path"
    audit_entity = ""  # the entity part of the audit verb, as the workbench services write it

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request), self.scope_path_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The choices (and what a posted id may be) are scoped too, not only the lists.
        if db_field.related_model is OrgUnit:
            kwargs["queryset"] = scope_queryset(request.user, OrgUnit.objects.all(), "path")
        elif db_field.related_model is Venue:
            kwargs["queryset"] = scope_queryset(request.user, Venue.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _is_street_admin(self, request) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or user.has_role(Role.STREET_ADMIN))

    def has_module_permission(self, request):
        return self._is_street_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_street_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_street_admin(request)

    def has_add_permission(self, request):
        return self._is_street_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # history refers to these rows: deactivate instead

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            verb=f"{self.audit_entity}.admin_{'update' if change else 'create'}",
            obj=obj,
            details={"fields": list(form.changed_data)},
        )


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedAdmin):
    scope_path_field = "path"
    audit_entity = "orgunit"
    list_display = ("name", "kind", "code", "estate_type", "is_active")
    list_filter = ("kind", "is_active", "estate_type")
    search_fields = ("name", "code")
    # Structure (code, parent, kind) changes through the workbench services, which keep paths valid.
    readonly_fields = ("kind", "code", "parent", "path", "depth")
    fields = ("name", "kind", "code", "parent", "path", "depth", "estate_type", "sort_order", "is_active")

    def has_add_permission(self, request):
        return False


@admin.register(Venue)
class VenueAdmin(ScopedAdmin):
    audit_entity = "venue"
    list_display = ("name", "kind", "org", "address", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "address")
    autocomplete_fields = ("org",)


@admin.register(RegistrationPoint)
class RegistrationPointAdmin(ScopedAdmin):
    audit_entity = "registration_point"
    list_display = ("code", "name", "org", "venue", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    autocomplete_fields = ("org", "venue")
