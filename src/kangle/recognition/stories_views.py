"""Workbench pages for member stories: write, add photos, publish and unpublish."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import require_staff
from kangle.core.errors import UserError, form_error
from kangle.orgs.access import access_unit
from kangle.recognition import services, stories
from kangle.recognition.forms import PublishForm


class StoryForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120)
    summary = forms.CharField(label=gettext_lazy("Summary"), max_length=300, required=False)
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea)


class NewStoryForm(StoryForm):
    org = forms.CharField(label=gettext_lazy("Unit code"), max_length=64)


def _require(request) -> None:
    require_staff(request)


@login_required
def story_list(request):
    _require(request)
    form = NewStoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = access_unit(request.user, data["org"].strip())
        except Http404:
            form.add_error("org", _("No unit with this code in your area."))
        else:
            try:
                story = services.story_create(
                    actor=request.user,
                    org=org,
                    title=data["title"],
                    body=data["body"],
                    summary=data["summary"],
                )
            except UserError as exc:
                form_error(form, exc)
            else:
                return redirect("recognition:manage-story", story_id=story.pk)
    rows = stories.stories_for(request.user).order_by("-created_at")[:100]
    return render(
        request,
        "recognition/manage_stories.html",
        {"stories": rows, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def story_edit(request, story_id):
    _require(request)
    story = stories.access_story(request.user, story_id)
    form = StoryForm(
        request.POST if request.method == "POST" else None,
        initial={"title": story.title, "summary": story.summary, "body": story.body},
    )
    if request.method == "POST" and form.is_valid():
        try:
            stories.story_update(actor=request.user, story=story, **form.cleaned_data)
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Story saved."))
            return redirect("recognition:manage-story", story_id=story.pk)
    return render(
        request,
        "recognition/manage_story.html",
        {"story": story, "form": form, "photos": story.photos.all()},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def story_photo(request, story_id):
    _require(request)
    story = stories.access_story(request.user, story_id)
    try:
        upload = request.FILES.get("photo")
        if upload is None:
            raise UserError("photo_required", gettext_lazy("Choose a photo"), field="photo")
        stories.story_photo_add(actor=request.user, story=story, upload=upload)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Photo added."))
    return redirect("recognition:manage-story", story_id=story.pk)


@login_required
@require_POST
def story_publish(request, story_id):
    _require(request)
    story = stories.access_story(request.user, story_id)
    try:
        form = PublishForm(request.POST)
        publish = bool(form.cleaned_data["publish"]) if form.is_valid() else False
        services.story_publish(actor=request.user, story=story, publish=publish)
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("recognition:manage-story", story_id=story.pk)
