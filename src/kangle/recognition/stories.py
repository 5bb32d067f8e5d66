"""Writing member stories on the workbench: edit, add photos (through the upload gate), and the file
resolver that shows a photo to anyone once its story is published, and to staff in scope before."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.files import StoredFile
from kangle.core.timeutil import resolve_now
from kangle.core.uploads import accept_image
from kangle.orgs.scope import get_in_scope_or_404, in_scope, scope_queryset
from kangle.recognition import permissions
from kangle.recognition.models import Story, StoryPhoto, StoryStatus

MAX_PHOTOS = 9


def stories_for(actor):
    return scope_queryset(actor, Story.objects.select_related("org"))


def access_story(actor, story_id) -> Story:
    try:
        return get_in_scope_or_404(actor, Story.objects.select_related("org"), pk=int(story_id))
    except (TypeError, ValueError):
        raise Http404 from None


def _check(actor, story: Story) -> None:
    if not in_scope(actor, story.org.path):
        raise Http404
    if not permissions.can_publish_story(actor, story.org):
        raise NotAllowed()


@transaction.atomic
def story_update(
    *, actor, story: Story, title: str, body: str, summary: str = "", now: dt.datetime | None = None
) -> Story:
    _check(actor, story)
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise UserError("title_required", _("A title is required"), field="title")
    if not body:
        raise UserError("body_required", _("The text is required"), field="body")
    Story.objects.filter(pk=story.pk).update(
        title=title[:120], body=body, summary=(summary or "").strip()[:300]
    )
    audit.record(actor=actor, verb="story.update", obj=story, now=resolve_now(now))
    return Story.objects.get(pk=story.pk)


@transaction.atomic
def story_photo_add(*, actor, story: Story, upload, now: dt.datetime | None = None) -> StoryPhoto:
    _check(actor, story)
    if story.photos.count() >= MAX_PHOTOS:
        raise UserError(
            "too_many_photos",
            _("At most %(MAX_PHOTOS)s photos a story"),
            field="photo",
            MAX_PHOTOS=MAX_PHOTOS,
        )
    moment = resolve_now(now)
    name = accept_image(upload, field="photo", folder="stories")
    photo = StoryPhoto.objects.create(story=story, file=name, uploaded_by=actor, uploaded_at=moment)
    audit.record(actor=actor, verb="story.photo_add", obj=story, details={"photo": photo.pk}, now=moment)
    return photo


def story_photo_file(request, pk: int) -> StoredFile:
    photo = StoryPhoto.objects.select_related("story__org").filter(pk=pk).first()
    if photo is None:
        raise Http404
    if photo.story.status != StoryStatus.PUBLISHED and not in_scope(request.user, photo.story.org.path):
        raise Http404
    return StoredFile(name=photo.file)
