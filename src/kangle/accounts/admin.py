from django.contrib import admin

from kangle.accounts.models import ApiToken, RoleAssignment, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Superusers only: people and roles are managed with the services (which check scope and audit)."""

    list_display = ("username", "display_name", "is_active", "is_superuser", "last_login")
    search_fields = ("username", "display_name")
    exclude = ("password", "phone", "user_permissions", "groups")
    readonly_fields = ("last_login", "date_joined")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "org", "is_active", "granted_at")
    list_filter = ("role", "is_active")
    raw_id_fields = ("user", "org", "granted_by")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "user", "created_by", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False  # issued on the workbench, where the token is shown once
