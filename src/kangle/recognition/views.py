"""Pages: letters and nominations (workbench; the employer Party organisation sees its letters), the
member's honours (phone), and the public stories."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import staff_required
from kangle.core.errors import UserError
from kangle.members.models import Member
from kangle.members.selectors import find_members, own_file
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.points.models import EntryKind, LedgerEntry
from kangle.recognition import permissions, services
from kangle.recognition.forms import LetterForm, MemberChoiceForm, NominateForm, NominationStepForm
from kangle.recognition.models import (
    Honour,
    LetterStatus,
    Nomination,
    Story,
    StoryStatus,
)
from kangle.recognition.selectors import access_letter, letters_for, nominations_for


@login_required
def letters(request):
    rows = letters_for(request.user)
    if (
        not permissions.is_staff(request.user)
        and not rows.exists()
        and not request.user.has_role("employer_party_org")
    ):
        raise PermissionDenied
    candidates = []
    if permissions.is_staff(request.user):
        # Members in scope with at least one award that was not reversed: those a letter can be drafted for.
        awarded = LedgerEntry.objects.filter(kind=EntryKind.AWARD, reversed_by__isnull=True).values(
            "member_id"
        )
        candidates = list(
            scope_queryset(
                request.user,
                Member.objects.filter(pk__in=awarded, party_org__isnull=False).select_related("community"),
            ).order_by("name")[:200]
        )
    return render(
        request,
        "recognition/letters.html",
        {
            "letters": list(rows.order_by("-drafted_at", "-id")[:100]),
            "candidates": candidates,
            "staff": permissions.is_staff(request.user),
        },
    )


@login_required
@require_POST
def letter_draft(request):
    form = MemberChoiceForm(request.POST)
    member = get_in_scope_or_404(
        request.user,
        Member.objects.select_related("community", "party_org"),
        pk=form.cleaned_data["member"] if form.is_valid() else 0,
    )
    try:
        letter = services.letter_draft(actor=request.user, member=member)
    except UserError as exc:
        messages.error(request, str(exc))
        return redirect("recognition:letters")
    return redirect("recognition:letter", letter.pk)


@login_required
def letter(request, letter_id: int):
    item = access_letter(request.user, letter_id)
    if request.method == "POST":
        form = LetterForm(request.POST)
        action = form.cleaned_data["action"] if form.is_valid() else None
        try:
            if action == "save":
                services.letter_update(actor=request.user, letter=item, body=form.cleaned_data["body"])
                messages.success(request, _("Saved."))
            elif action == "issue":
                services.letter_issue(actor=request.user, letter=item)
                messages.success(request, _("Letter issued."))
            elif action == "send":
                services.letter_send(actor=request.user, letter=item)
                messages.success(request, _("Letter e-mailed to the employer's Party organisation."))
        except UserError as exc:
            messages.error(request, str(exc))
        return redirect("recognition:letter", item.pk)
    return render(
        request,
        "recognition/letter.html",
        {
            "letter": item,
            "dispatches": list(item.dispatches.select_related("actor")),
            "can_issue": permissions.can_issue_letter(request.user, item.street),
            "staff": permissions.is_staff(request.user),
        },
    )


@login_required
def letter_pdf(request, letter_id: int):
    item = access_letter(request.user, letter_id)
    try:
        data = services.letter_download(actor=request.user, letter=item)
    except UserError as exc:
        messages.error(request, str(exc))
        return redirect("recognition:letter", item.pk)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="commendation-{item.year}-{item.serial:03d}.pdf"'
    return response


@staff_required
def nominations(request):
    if request.method == "POST":
        return _nomination_step(request)
    rows = nominations_for(request.user)
    waiting = request.GET.get("waiting") == "me"
    if waiting:
        from kangle.recognition.todo import review_step_q

        rows = rows.filter(review_step_q(request.user))
    query = request.GET.get("q", "")
    return render(
        request,
        "recognition/nominations.html",
        {
            "nominations": list(rows[:100]),
            "waiting": waiting,
            "query": query,
            "matches": find_members(request.user, query),
            "honours": Honour.choices,
        },
    )


def _nomination_step(request):
    """A nomination made, reviewed (approve / reject) or given its result."""
    form = NominationStepForm(request.POST)
    valid = form.is_valid()
    if form.cleaned_data.get("action") == "nominate":
        return _nominate(request)
    if not valid:
        raise Http404  # no such nomination or step: nothing a person could have typed
    data = form.cleaned_data
    item = get_in_scope_or_404(request.user, Nomination.objects.select_related("org"), pk=data["nomination"])
    try:
        if data["action"] == "result":
            services.nomination_result(
                actor=request.user, nomination=item, honoured=data["honoured"], result=data["result"]
            )
        else:
            services.nomination_review(
                actor=request.user,
                nomination=item,
                approve=data["action"] == "approve",
                comment=data["comment"],
            )
        messages.success(request, _("Saved."))
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("recognition:nominations")


def _nominate(request):
    """The member picker's choice: a member inside the nominator's subtree (anyone else is a 404)."""
    form = NominateForm(request.POST)
    valid = form.is_valid()
    member = get_in_scope_or_404(
        request.user, Member.objects.select_related("community"), pk=form.cleaned_data.get("member") or 0
    )
    data = form.cleaned_data if valid else {}
    try:
        services.nominate(
            actor=request.user,
            honour=data.get("honour", ""),
            reason=data.get("reason", ""),
            member=member,
            honour_name=data.get("honour_name", ""),
        )
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Nomination submitted."))
    return redirect("recognition:nominations")


@login_required
def me(request):
    """The member's file in recognition: honours (nomination results) and letters issued about them."""
    member = own_file(request.user)
    if member is None:
        raise Http404
    return render(
        request,
        "recognition/me.html",
        {
            "member": member,
            "nominations": list(member.nominations.order_by("-nominated_at")),
            "letters": list(
                member.commendation_letters.filter(status=LetterStatus.ISSUED).select_related("party_org")
            ),
        },
    )


def stories(request):
    rows = (
        Story.objects.filter(status=StoryStatus.PUBLISHED)
        .prefetch_related("members")
        .order_by("-published_at")
    )
    return render(request, "recognition/stories.html", {"stories": list(rows[:50])})


def story(request, story_id: int):
    item = get_object_or_404(
        Story.objects.prefetch_related("members"), pk=story_id, status=StoryStatus.PUBLISHED
    )
    return render(request, "recognition/story.html", {"story": item})
