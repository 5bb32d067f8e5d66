"""Pages: the workbench (activities, venue screen, whistle calls, service records, figures, grid)
and the phone
(activities, scanning, calls, own records; an employer Party organisation's collective report)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import require_staff, staff_required
from kangle.activities import capture, permissions, qr, selectors, services
from kangle.activities.access import access_attendee, access_call_in_reach
from kangle.activities.forms import (
    ActivityForm,
    AttendeeForm,
    CallActionForm,
    CallForm,
    CountForm,
    MembersForm,
    NamesForm,
    PartyOrgForm,
    PhoneSignupForm,
    ReasonForm,
    RecordDecisionForm,
    ScanForm,
    SelfReportForm,
    SessionActionForm,
    StaffRecordForm,
    form_errors_text,
)
from kangle.activities.models import (
    Activity,
    CallStatus,
    RecordStatus,
    ServiceRecord,
    SessionAttendance,
    Signup,
    SignupStatus,
    WhistleCall,
)
from kangle.core.errors import UserError, form_error
from kangle.core.exports import Sheet, export_workbook, xlsx_response
from kangle.core.timeutil import default_period
from kangle.core.timeutil import now as current_time
from kangle.core.uploads import validate_image
from kangle.members.constants import Status
from kangle.members.models import EmployerPartyOrg, Member
from kangle.members.selectors import own_file
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.orgs.selectors import subtree_q
from kangle.posts.models import Claim, ClaimStatus, PostSession


def _member_or_403(request) -> Member:
    member = own_file(request.user)
    if member is None or member.status != Status.APPROVED:
        raise PermissionDenied
    return member


# --- workbench: activities --------------------------------------------------------------------------------
@staff_required
def activity_list(request):
    rows = selectors.activities_for(request.user)[:100]
    return render(request, "activities/list.html", {"rows": rows})


@staff_required
def activity_create(request):
    form = ActivityForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_create(
                actor=request.user,
                org=data["org"],
                aspect=data["aspect"],
                title=data["title"],
                theme=data["theme"],
                venue=data["venue"],
                place=data["place"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                capacity=data["capacity"],
                difficulty=data["difficulty"],
                description=data["description"],
                signup_opens_at=data["signup_opens_at"],
            )
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Activity published."))
            return redirect("activities:detail", activity.pk)
    return render(request, "activities/form.html", {"form": form, "title": _("New activity")})


@staff_required
def activity_detail(request, pk: int):
    activity = get_in_scope_or_404(
        request.user, Activity.objects.select_related("org", "aspect", "venue"), pk=pk
    )
    signups = list(selectors.signups_of(activity))
    attendances = list(activity.attendances.select_related("member").order_by("checked_in_at", "id"))
    return render(
        request,
        "activities/detail.html",
        {
            "activity": activity,
            "confirmed": [s for s in signups if s.status == SignupStatus.CONFIRMED],
            "waitlisted": [s for s in signups if s.status == SignupStatus.WAITLISTED],
            "attendances": attendances,
            "can_manage": permissions.can_manage_activity(request.user, activity.org),
        },
    )


@staff_required
@require_POST
def activity_action(request, pk: int, action: str):
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org", "aspect"), pk=pk)
    forms_by_action = {
        "beneficiaries": CountForm,
        "check-in": AttendeeForm,
        "check-out": AttendeeForm,
        "cancel": ReasonForm,
    }
    if action not in forms_by_action:
        raise Http404
    form = forms_by_action[action](request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("activities:detail", activity.pk)
    data = form.cleaned_data
    try:
        if action == "beneficiaries":
            services.activity_set_beneficiaries(actor=request.user, activity=activity, count=data["count"])
            messages.success(request, _("Beneficiaries saved."))
        elif action in ("check-in", "check-out"):
            member = access_attendee(request.user, activity, data["member"])
            function = services.attendance_check_in if action == "check-in" else services.attendance_check_out
            function(actor=request.user, activity=activity, member=member)
            messages.success(request, _("Done: %(name)s") % {"name": member.name})
        else:
            services.activity_cancel(actor=request.user, activity=activity, reason=data["reason"])
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("activities:detail", activity.pk)


@staff_required
def screen(request, pk: int):
    """The venue screen: a QR code that changes every window (htmx reloads it)."""
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org", "venue"), pk=pk)
    if not permissions.can_manage_activity(request.user, activity.org):
        raise PermissionDenied
    action = "out" if request.GET.get("action") == "out" else "in"
    return render(
        request,
        "activities/screen.html",
        {"activity": activity, "action": action, **_qr_context(request, activity, action)},
    )


@staff_required
def screen_qr(request, pk: int):
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org"), pk=pk)
    if not permissions.can_manage_activity(request.user, activity.org):
        raise PermissionDenied
    action = "out" if request.GET.get("action") == "out" else "in"
    return render(
        request,
        "activities/_qr.html",
        {"activity": activity, "action": action, **_qr_context(request, activity, action)},
    )


def _qr_context(request, activity: Activity, action: str) -> dict:
    token = qr.make_token(activity, action)
    path = reverse("activities:scan", args=[activity.pk, action]) + f"?t={token}"
    return {
        "qr_svg": qr.qr_svg(request.build_absolute_uri(path)),
        "scan_path": path,
        "expires_at": qr.token_expires_at(token),
    }


# --- phone: activities, scanning --------------------------------------------------------------------------
@login_required
def phone_list(request):
    member = _member_or_403(request)
    rows = selectors.activities_for_member(member).filter(ends_at__gt=current_time())[:50]
    mine = dict(
        Signup.objects.filter(
            member=member,
            household_member__isnull=True,
            status__in=[SignupStatus.CONFIRMED, SignupStatus.WAITLISTED],
        ).values_list("activity_id", "status")
    )
    return render(request, "activities/phone_list.html", {"rows": rows, "mine": mine})


@login_required
def phone_detail(request, pk: int):
    member = _member_or_403(request)
    activity = get_object_or_404(selectors.activities_for_member(member), pk=pk)
    active = Signup.objects.filter(
        activity=activity, member=member, status__in=[SignupStatus.CONFIRMED, SignupStatus.WAITLISTED]
    )
    signup = active.filter(household_member__isnull=True).first()
    if request.method == "POST":
        form = PhoneSignupForm(request.POST)
        data = form.cleaned_data if form.is_valid() else {"action": "", "household_member": None}
        try:
            if data["action"] == "family":
                household = member.household.filter(pk=data["household_member"] or 0).first()
                if household is None:
                    raise Http404
                services.signup_household(actor=request.user, activity=activity, household_member=household)
                messages.success(request, _("%(name)s is signed up.") % {"name": household.name})
            elif data["action"] == "cancel" and signup is not None:
                services.signup_cancel(actor=request.user, signup=signup)
                messages.success(request, _("Your sign-up is cancelled."))
            else:
                signup = services.signup_create(actor=request.user, activity=activity)
                if signup.status == SignupStatus.CONFIRMED:
                    messages.success(request, _("You are signed up."))
                else:
                    messages.success(request, _("The activity is full: you are on the waiting list."))
        except UserError as exc:
            messages.error(request, str(exc))
        return redirect("activities:phone-detail", activity.pk)
    family = []
    if activity.allows_family:
        taken = set(active.exclude(household_member=None).values_list("household_member_id", flat=True))
        family = [(person, person.pk in taken) for person in member.household.all()]
    return render(
        request, "activities/phone_detail.html", {"activity": activity, "signup": signup, "family": family}
    )


@login_required
def scan(request, pk: int, action: str):
    """What a member's phone opens from the venue's code: one button to check in (or out)."""
    if action not in qr.ACTIONS:
        raise Http404
    member = _member_or_403(request)
    activity = get_object_or_404(selectors.activities_for_member(member), pk=pk)
    form = ScanForm(request.POST if request.method == "POST" else request.GET)
    token = form.cleaned_data["t"] if form.is_valid() else ""
    result = error = None
    repeat = False
    if request.method == "POST":
        try:
            if action == "in":
                result, created = services.attendance_scan(
                    actor=request.user, activity_id=activity.pk, token=token
                )
                repeat = not created
            else:
                result = services.attendance_check_out(actor=request.user, activity=activity, token=token)
        except UserError as exc:
            error = str(exc)
    return render(
        request,
        "activities/scan.html",
        {
            "activity": activity,
            "action": action,
            "token": token,
            "result": result,
            "error": error,
            "repeat": repeat,
        },
    )


# --- whistle calls ----------------------------------------------------------------------------------------
@staff_required
def call_list(request):
    rows = selectors.calls_for(request.user)
    status = request.GET.get("status", "")
    if status in CallStatus.values:
        rows = rows.filter(status=status)
    return render(request, "activities/calls.html", {"rows": rows[:100], "status": status})


@staff_required
def call_create(request):
    form = CallForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            call = services.call_create(
                actor=request.user,
                org=data["org"],
                title=data["title"],
                place=data["place"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                people_needed=data["people_needed"],
                deadline=data["deadline"],
                grids=data["grids"],
                skills=data["skills"],
                description=data["description"],
            )
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The whistle is blown."))
            return redirect("activities:call-detail", call.pk)
    return render(request, "activities/form.html", {"form": form, "title": _("Blow the whistle")})


@staff_required
def call_detail(request, pk: int):
    call = access_call_in_reach(request.user, pk)
    if request.method == "POST":
        form = CallActionForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect("activities:call-detail", call.pk)
        data = form.cleaned_data
        try:
            if data["action"] == "close":
                services.call_close(actor=request.user, call=call, outcome=data["outcome"])
                messages.success(request, _("The call is closed."))
            elif data["action"] == "group":
                fresh = services.response_grid(actor=request.user, call=call, member_ids=data["member"])
                messages.success(request, _("%(n)d reported for the group.") % {"n": len(fresh)})
            else:
                response = call.responses.filter(pk=data["response"] or 0).first()
                if response is None:
                    raise Http404
                capture.response_mark_present(actor=request.user, response=response)
                messages.success(request, _("Marked present; the service record awaits verification."))
        except UserError as exc:
            messages.error(request, str(exc))
        return redirect("activities:call-detail", call.pk)
    responses = list(call.responses.select_related("member", "party_org").order_by("responded_at", "id"))
    answered = {r.member_id for r in responses}
    group = []
    if request.user.has_role("grid_leader"):
        group = [
            m
            for m in scope_queryset(request.user, Member.objects.filter(status=Status.APPROVED)).order_by(
                "name"
            )[:200]
            if m.pk not in answered
        ]
    return render(
        request,
        "activities/call_detail.html",
        {
            "call": call,
            "responses": responses,
            "times": selectors.response_times(call),
            "group": group,
            "can_mark_present": permissions.can_blow_whistle(request.user, call.org),
            "can_close": call.status == CallStatus.OPEN
            and (
                permissions.can_blow_whistle(request.user, call.org) or call.created_by_id == request.user.pk
            ),
        },
    )


@login_required
def phone_calls(request):
    member = _member_or_403(request)
    rows = selectors.calls_for_member(member)[:50]
    return render(request, "activities/phone_calls.html", {"rows": rows})


@login_required
def phone_call(request, pk: int):
    member = _member_or_403(request)
    call = get_object_or_404(selectors.calls_for_member(member), pk=pk)
    mine = call.responses.filter(member=member).first()
    if request.method == "POST":
        try:
            services.response_create(actor=request.user, call=call)
            messages.success(request, _("You have reported for this call."))
        except UserError as exc:
            messages.error(request, str(exc))
        return redirect("activities:phone-call", call.pk)
    return render(request, "activities/phone_call.html", {"call": call, "mine": mine})


def _acting_party_org(request) -> EmployerPartyOrg | None:
    """The branch an employer Party organisation account acts for: the one named by ``party_org`` (query or
    form), or its only one. None when the account serves several and has not chosen."""
    orgs = list(EmployerPartyOrg.objects.filter(account=request.user).order_by("name", "pk"))
    form = PartyOrgForm(request.POST if "party_org" in request.POST else request.GET)
    if not form.is_valid():
        raise Http404  # not a number: no branch of this account
    chosen = form.cleaned_data["party_org"]
    if chosen is not None:
        found = [org for org in orgs if org.pk == chosen]
        if not found:
            raise Http404
        return found[0]
    if not orgs:
        raise Http404
    return orgs[0] if len(orgs) == 1 else None


@login_required
def phone_sessions(request):
    """The member's post sessions (posts they hold) from yesterday to a week ahead: check in and out."""
    member = _member_or_403(request)
    moment = current_time()
    if request.method == "POST":
        form = SessionActionForm(request.POST)
        if not form.is_valid():
            raise Http404
        session = (
            PostSession.objects.select_related("post__org", "post__aspect")
            .filter(pk=form.cleaned_data["session"])
            .first()
        )
        if session is None or not services.reaches(member, session.post.org):
            raise Http404
        try:
            if form.cleaned_data["action"] == "out":
                attendance = capture.session_check_out(actor=request.user, session=session)
                if attendance.credited:
                    messages.success(request, _("Checked out; the service record awaits verification."))
                else:
                    messages.success(request, _("Checked out."))
            else:
                capture.session_check_in(actor=request.user, session=session)
                messages.success(request, _("Checked in."))
        except UserError as exc:
            messages.error(request, str(exc))
        return redirect("activities:phone-sessions")
    held = Claim.objects.filter(member=member, status=ClaimStatus.CONFIRMED).values("post_id")
    sessions = (
        PostSession.objects.filter(
            post__in=held,
            starts_at__lt=moment + dt.timedelta(days=7),
            ends_at__gt=moment - dt.timedelta(days=1),
        )
        .select_related("post")
        .order_by("starts_at")[:50]
    )
    attended = {
        row.session_id: row for row in SessionAttendance.objects.filter(member=member, session__in=sessions)
    }
    rows = [(session, attended.get(session.pk)) for session in sessions]
    return render(request, "activities/phone_sessions.html", {"rows": rows})


@login_required
def party_calls(request):
    if not permissions.is_party_org_account(request.user):
        raise PermissionDenied
    choices = list(EmployerPartyOrg.objects.filter(account=request.user).order_by("name", "pk"))
    party_org = _acting_party_org(request) if choices else None
    rows = selectors.calls_for_party_org(party_org)[:50] if party_org else []
    activities = (
        selectors.activities_for_party_org(party_org).filter(ends_at__gt=current_time())[:30]
        if party_org
        else []
    )
    return render(
        request,
        "activities/party_calls.html",
        {"rows": rows, "party_org": party_org, "activities": activities, "choices": choices},
    )


@login_required
def collective(request, pk: int):
    if not permissions.is_party_org_account(request.user):
        raise PermissionDenied
    party_org = _acting_party_org(request)
    if party_org is None:
        return redirect("activities:party-calls")
    call = get_object_or_404(selectors.calls_for_party_org(party_org), pk=pk)
    rows, names, done = [], "", None
    if request.method == "POST":
        form = NamesForm(request.POST)
        names = form.cleaned_data["names"] if form.is_valid() else ""
        try:
            done = services.response_collective(
                actor=request.user, call=call, names=names, party_org_id=party_org.pk
            )
            call.refresh_from_db()
            names = ""
        except services.CollectiveListError as exc:
            rows = exc.rows
        except UserError as exc:
            messages.error(request, str(exc))
    reported = list(call.responses.filter(party_org=party_org).select_related("member"))
    return render(
        request,
        "activities/collective.html",
        {
            "call": call,
            "party_org": party_org,
            "rows": rows,
            "names": names,
            "done": done,
            "reported": reported,
        },
    )


@login_required
def team_signup(request, pk: int):
    """An employer Party organisation signs up a team of its approved members for an activity."""
    if not permissions.is_party_org_account(request.user):
        raise PermissionDenied
    party_org = _acting_party_org(request)
    if party_org is None:
        return redirect("activities:party-calls")
    activity = get_object_or_404(selectors.activities_for_party_org(party_org), pk=pk)
    if request.method == "POST":
        form = MembersForm(request.POST)
        try:
            if not form.is_valid():
                raise UserError(
                    "invalid_member_ids", gettext_lazy("Choose from the list."), field="member_ids"
                )
            made = services.signup_team(
                actor=request.user,
                activity=activity,
                party_org_id=party_org.pk,
                member_ids=form.cleaned_data["member"],
            )
            messages.success(request, _("%(n)d signed up.") % {"n": len(made)})
        except UserError as exc:
            messages.error(request, str(exc))
        return redirect(reverse("activities:team-signup", args=[activity.pk]) + f"?party_org={party_org.pk}")
    signed = dict(
        activity.signups.filter(status__in=[SignupStatus.CONFIRMED, SignupStatus.WAITLISTED]).values_list(
            "member_id", "status"
        )
    )
    members = Member.objects.filter(party_org=party_org, status=Status.APPROVED).select_related("community")
    rows = [
        (m, signed.get(m.pk))
        for m in members.order_by("name")
        if m.community.path.startswith(activity.org.path) or activity.org.path.startswith(m.community.path)
    ]
    upcoming = selectors.activities_for_party_org(party_org).filter(ends_at__gt=current_time())[:30]
    return render(
        request,
        "activities/team_signup.html",
        {
            "activity": activity,
            "party_org": party_org,
            "rows": rows,
            "upcoming": upcoming,
        },
    )


# --- service records --------------------------------------------------------------------------------------
@staff_required
def record_list(request):
    status = request.GET.get("status", RecordStatus.PENDING)
    rows = selectors.records_for(request.user)
    if status in RecordStatus.values:
        rows = rows.filter(status=status)
    form = StaffRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = scope_queryset(request.user, Member.objects.filter(pk=data["member"])).first()
        if member is None:
            form.add_error("member", _("No such member in your area."))
        else:
            try:
                services.record_staff_enter(
                    actor=request.user,
                    member=member,
                    title=data["title"],
                    aspect=data["aspect"],
                    started_at=data["started_at"],
                    minutes=int(round(data["hours"] * 60)),
                    beneficiaries=data["beneficiaries"] or 0,
                    difficulty=data["difficulty"],
                )
            except UserError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Record saved; it awaits verification."))
                return redirect("activities:records")
    return render(
        request,
        "activities/records.html",
        {
            "rows": rows[:100],
            "status": status,
            "statuses": RecordStatus.choices,
            "form": form,
        },
    )


@staff_required
@require_POST
def record_decide(request, pk: int):
    record = get_in_scope_or_404(request.user, ServiceRecord.objects.select_related("org", "member"), pk=pk)
    form = RecordDecisionForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {"action": "", "reason": "", "status": ""}
    try:
        if data["action"] == "verify":
            services.record_verify(actor=request.user, record=record)
            messages.success(request, _("Record verified."))
        else:
            services.record_reject(actor=request.user, record=record, reason=data["reason"])
            messages.success(request, _("Record rejected."))
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("activities:records") + "?" + urlencode({"status": data["status"]}))


@login_required
def my_records(request):
    member = _member_or_403(request)
    form = SelfReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_self_report(
                actor=request.user,
                title=data["title"],
                aspect=data["aspect"],
                started_at=data["started_at"],
                minutes=int(round(data["hours"] * 60)),
                beneficiaries=data["beneficiaries"] or 0,
                photo=validate_image(data["photo"], field="photo") if data["photo"] else None,
            )
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Reported; the community will verify it."))
            return redirect("activities:my-records")
    rows = member.service_records.select_related("aspect").order_by("-started_at", "-id")[:50]
    return render(request, "activities/my_records.html", {"rows": rows, "form": form})


# --- figures and grids ------------------------------------------------------------------------------------
def _period(request) -> tuple[dt.date, dt.date]:
    default_start, default_end = default_period()
    try:
        start = dt.date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        start = default_start
    try:
        end = dt.date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        end = default_end
    if end < start:
        start, end = end, start
    return start, end


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )


def _figures_of(request):
    require_staff(request)
    units = scope_queryset(
        request.user,
        OrgUnit.objects.filter(kind__in=[OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY]),
        "path",
    ).order_by("path")
    code = request.GET.get("org", "")
    unit = units.filter(code=code).first() if code else units.first()
    if unit is None:
        raise Http404
    start, end = _period(request)
    return units, unit, start, end, selectors.figures(unit, *period_bounds(start, end))


@login_required
def figures_export(request):
    """The activity figures as a workbook: the totals and one row per aspect."""
    _units, unit, start, end, data = _figures_of(request)
    totals = [
        [label, data[key]]
        for label, key in (
            ("活动 / activities", "activities"),
            ("参与人次 / participant-times", "participants"),
            ("惠及群众人次 / beneficiary-times", "beneficiaries"),
            ("认定服务时长（小时）/ verified hours", "hours"),
            ("吹哨 / whistle calls", "calls"),
            ("报到人次 / reports to calls", "call_responses"),
        )
    ]
    aspects = [
        [row["name"], row["activities"], row["participants"], row["beneficiaries"], row["hours"]]
        for row in data["by_aspect"]
    ]
    content = export_workbook(
        actor=request.user,
        verb="activity_figures.export",
        sheets=[
            Sheet("活动统计", (), totals, preamble=[[f"{unit.name} {start:%Y-%m-%d} – {end:%Y-%m-%d}"]]),
            Sheet(
                "按服务类别",
                ["服务类别 / aspect", "活动 / activities", "参与人次", "惠及群众人次", "认定时长（小时）"],
                aspects,
            ),
        ],
        org_path=unit.path,
        object_type="orgs.orgunit",
        details={"unit": unit.code, "start": str(start), "end": str(end)},
    )
    return xlsx_response(content, f"activity-figures-{unit.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


@login_required
def figures_page(request):
    units, unit, start, end, data = _figures_of(request)
    given = (request.GET.get("from", ""), request.GET.get("to", ""))
    reversed_period = all(given) and given[1] < given[0]
    chart = {
        "names": [r["name"] for r in data["by_aspect"]],
        "participants": [r["participants"] for r in data["by_aspect"]],
        "beneficiaries": [r["beneficiaries"] for r in data["by_aspect"]],
        "hours": [r["hours"] for r in data["by_aspect"]],
    }
    return render(
        request,
        "activities/figures.html",
        {
            "data": data,
            "unit": unit,
            "units": units[:300],
            "start": start,
            "end": end,
            "chart": chart,
            "reversed_period": reversed_period,
        },
    )


@login_required
def grid_page(request):
    """A grid leader's grid: its members and the calls that target it."""
    if not request.user.has_role("grid_leader"):
        raise PermissionDenied
    grids = list(OrgUnit.objects.filter(pk__in=request.user.units_for("grid_leader")))
    query = subtree_q(grids[0].path, "org__path") if grids else None
    for grid in grids[1:]:
        query |= subtree_q(grid.path, "org__path")
    members = (
        Member.objects.filter(query, status=Status.APPROVED)
        .select_related("microgrid")
        .order_by("name")[:300]
        if grids
        else []
    )
    calls = (
        WhistleCall.objects.filter(grids__in=grids)
        .select_related("org")
        .distinct()
        .order_by("-created_at")[:50]
        if grids
        else []
    )
    return render(request, "activities/grid.html", {"grids": grids, "members": members, "calls": calls})
