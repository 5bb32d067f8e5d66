"""Recognition in the Django admin: read-only (letters are fixed once issued; writes go through services)."""

from django.contrib import admin

from kangle.recognition.models import CommendationLetter, LetterDispatch, Nomination, Story


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CommendationLetter)
class CommendationLetterAdmin(ReadOnlyAdmin):
    list_display = ("number", "member", "party_org", "status", "issued_on")
    exclude = ("pdf",)


@admin.register(LetterDispatch)
class LetterDispatchAdmin(ReadOnlyAdmin):
    list_display = ("letter", "channel", "at")


@admin.register(Nomination)
class NominationAdmin(ReadOnlyAdmin):
    list_display = ("honour", "kind", "member", "party_org", "status", "result_on")


@admin.register(Story)
class StoryAdmin(ReadOnlyAdmin):
    list_display = ("title", "status", "published_at")
