"""Points in the Django admin: read-only. The ledger is append-only and every write goes through a service
(rules are checked against past awards, bookings against capacity), so the admin only shows."""

from django.contrib import admin

from kangle.points.models import Balance, Benefit, Booking, LedgerEntry, PointsRule, PriorityPass, Slot


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "member",
        "kind",
        "points",
        "rule_version",
        "source_type",
        "source_id",
        "occurred_at",
    )
    list_filter = ("kind",)
    search_fields = ("source_id", "idempotency_key")
    list_select_related = ("member",)


@admin.register(PointsRule)
class PointsRuleAdmin(ReadOnlyAdmin):
    list_display = ("org", "version", "effective_from", "daily_cap", "monthly_cap")


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("member", "total", "entries", "hide_from_rankings")
    list_select_related = ("member",)


@admin.register(Benefit)
class BenefitAdmin(ReadOnlyAdmin):
    list_display = ("name", "org", "kind", "min_points", "cost_points", "is_active")


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ("benefit", "starts_at", "capacity", "booked", "priority_min_points", "release_at")


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("slot", "member", "beneficiary_key", "status", "created_at")


@admin.register(PriorityPass)
class PriorityPassAdmin(ReadOnlyAdmin):
    list_display = ("code", "benefit", "member", "issued_at", "valid_until", "used_at")
