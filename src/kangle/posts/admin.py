"""Django admin for the street admin's reference data. Catalogue entries are retired, never deleted, so
posts and claims keep their history; day-to-day editing happens on the catalogue page (audited)."""

from django.contrib import admin

from kangle.posts.models import Post, ServiceAspect, ServiceCategory


class _NoDelete(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(_NoDelete):
    list_display = ("name", "code", "sort_order", "is_active")
    readonly_fields = ("code",)


@admin.register(ServiceAspect)
class ServiceAspectAdmin(_NoDelete):
    list_display = ("name", "code", "category", "sort_order", "is_active")
    list_filter = ("category", "is_active")
    readonly_fields = ("code",)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "aspect", "org", "status", "claimed_count", "capacity")
    list_filter = ("status", "aspect")
    search_fields = ("title",)
    raw_id_fields = ("org", "venue")

    def has_change_permission(self, request, obj=None):
        return False  # posts change through the workbench (services check capacity and write audit events)

    def has_delete_permission(self, request, obj=None):
        return False
