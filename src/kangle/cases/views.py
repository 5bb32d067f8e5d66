"""Pages of 民情快办: the desk workbench, the contractor's and the resident's phone pages, photos.

Views parse input, call one service, render. Services raise ``UserError`` for what a person can get wrong;
the page shows the message (Chinese, then English) and nothing is written.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import require_staff, staff_required
from kangle.cases import figures, permissions, reference_cache, selectors, services
from kangle.cases.access import TRACK_SESSION_KEY, case_by_number
from kangle.cases.forms import CaseActionForm, CaseReportForm, FeedbackForm, TrackForm
from kangle.cases.markup import BadgeWords, clock_badge, local_time
from kangle.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseCategory,
    CaseStatus,
    Channel,
    Contractor,
    ExtensionRequest,
    ExtensionStatus,
    WorkStep,
)
from kangle.core import throttle
from kangle.core.errors import UserError
from kangle.core.exports import xlsx_response
from kangle.core.markup import html_format, link_maker
from kangle.core.pagination import PageInfo
from kangle.core.rawrows import bound_rows, pairs_of_each
from kangle.core.roles import Role, person_key
from kangle.core.timeutil import now as current_time
from kangle.core.uploads import validate_images
from kangle.orgs.access import access_unit
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.orgs.selectors import subtree_q

PAGE_SIZE = 50


def _fail(request, error: UserError) -> None:
    messages.error(request, str(error))


def _leaf_categories():
    return (
        CaseCategory.objects.filter(is_active=True, children__isnull=True)
        .select_related("parent")
        .order_by("sort_order", "code")
    )


# --- desk workbench ---------------------------------------------------------------------------------------
def _queue_row(row: dict, clock, status_labels: dict, prefix: str, words: BadgeWords) -> str:
    """One row of the desk queue, built in Python: the page renders 50 of them, and the template engine
    spent most of the page's time on their dozen variables each."""
    return html_format(
        '<tr data-number="{}"><td><a href="{}{}/">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
        row["number"],
        prefix,
        row["number"],
        row["number"],
        row["category__name"],
        row["title"],
        row["org__name"],
        status_labels.get(row["status"], row["status"]),
        row["contractor__name"] or "—",
        local_time(row["reported_at"], zone=words.zone),
        clock_badge(clock, words),
    )


@staff_required
def desk_queue(request, overdue: bool = False):
    moment = current_time()
    params = request.GET.copy()
    params.pop("page", None)
    if overdue:
        params["sla"] = "overdue"
    elif "status" not in params:
        params["status"] = "open"
    order = ("reported_at", "id") if overdue or params.get("sla") else selectors.LIST_ORDER
    queue = {
        "parts": lambda actor, counting=False: [selectors.staff_cases(actor, counting=counting)],
        "fields": selectors.QUEUE_FIELDS,
        "order": order,
    }
    shape = selectors.list_shape(request.user, params, moment, name="cases.desk", **queue)
    if shape is not None:
        key, build, values = shape
        page, found = PageInfo.shaped(
            key,
            lambda *v: build(*v)[0],
            values,
            request.GET.get("page"),
            PAGE_SIZE,
            counted=lambda *v: build(*v, fields=selectors.KEY_FIELDS)[0],
        )
    else:
        cases = selectors.list_reads(request.user, params, moment, **queue)[0]
        page = PageInfo.of(cases, request.GET.get("page"), PAGE_SIZE)
        found = list(cases[page.start : page.start + PAGE_SIZE])
    clocks = selectors.clocks_by_case([row["id"] for row in found], moment)
    status_labels = {value: str(label) for value, label in CaseStatus.choices}  # translated once a page
    prefix = reverse("cases:desk-queue")
    words = BadgeWords()
    rows = [
        _queue_row(row, selectors.worst_of(clocks[row["id"]]), status_labels, prefix, words) for row in found
    ]
    context = {
        "page": page,
        "rows": mark_safe("".join(rows)),  # noqa: S308 - every value is escaped by html_format
        "has_rows": bool(rows),
        "overdue": overdue,
        "params": params,
        "statuses": CaseStatus.choices,
        "now": moment,
        # (value, label) pairs for the filters' drop-downs ({% select_options %}), read with SQL compiled
        # once (per person for the communities of their subtree), all three by one statement.
        **pairs_of_each(
            {
                "categories": (
                    ("cases.desk.categories",),
                    lambda: _leaf_categories().values("code", "name"),
                ),
                "contractors": (
                    ("cases.desk.contractors",),
                    lambda: Contractor.objects.filter(is_active=True).order_by("name").values("pk", "name"),
                ),
                "communities": (
                    ("cases.desk.communities", person_key(request.user)),
                    lambda: scope_queryset(
                        request.user, OrgUnit.objects.filter(kind=OrgKind.COMMUNITY), "path"
                    ).values("code", "name"),
                ),
            }
        ),
    }
    return render(request, "cases/desk_queue.html", context)


@staff_required
def desk_new(request):
    scope = scope_queryset(
        request.user, OrgUnit.objects.filter(kind__in=[OrgKind.COMMUNITY, OrgKind.ESTATE]), "path"
    )
    context = {
        "categories": _leaf_categories(),
        "places": scope.order_by("path")[:500],
        "channels": [
            (Channel.WALK_IN, Channel.WALK_IN.label),
            (Channel.PHONE_CALL, Channel.PHONE_CALL.label),
            (Channel.GRID_PATROL, Channel.GRID_PATROL.label),
        ],
        "form": request.POST,
    }
    form = CaseReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            category = _intake_category(data["category"])
            org = access_unit(request.user, data["org"])
            duplicates = list(services.open_duplicates(category, data["address"], actor=request.user)[:5])
            if duplicates and not data["confirm_duplicate"]:
                context["duplicates"] = duplicates
                return render(request, "cases/desk_new.html", context)
            photos = validate_images(request.FILES.getlist("photos"))
            case = services.case_report(
                actor=request.user,
                category=category,
                org=org,
                channel=data["channel"],
                title=data["title"],
                description=data["description"],
                resident_name=data["resident_name"],
                phone=data["phone"],
                address=data["address"],
                photos=photos,
            )
        except UserError as error:
            _fail(request, error)
        else:
            messages.success(request, _("Case %(number)s logged.") % {"number": case.number})
            return redirect("cases:desk-detail", number=case.number)
    return render(request, "cases/desk_new.html", context)


def _intake_category(code: str) -> CaseCategory:
    category = reference_cache.category_for_intake(code)
    if category is None:
        raise Http404
    return category


def _staff_case(request, number: str) -> Case:
    """The case by its number (unique index), then the scope check on the loaded row: 404 outside it."""
    require_staff(request)
    case = case_by_number(number)
    if case is None or not permissions.can_view_case_as_staff(request.user, case):
        raise Http404
    return case


@login_required
def desk_detail(request, number: str):
    case = _staff_case(request, number)
    moment = current_time()
    can_handle = permissions.can_handle_case(request.user, case)
    # The dispatch form, and so its contractors, only for a case waiting to be dispatched by someone who may.
    dispatching = can_handle and case.status == CaseStatus.ACCEPTED
    # Everything around the case: compiled once, bound to this case, read by one statement.
    record = selectors.case_record(case.pk, moment, selectors.DESK_RECORD)
    context = {
        "case": case,
        "clocks": record.clocks,
        "events": record.events,
        "photos": record.photos,
        "appointment": record.appointment,
        "contractors": _contractors_here(case) if dispatching else [],
        "default_contractor": services.default_contractor(case) if dispatching else None,
        "extensions": record.extensions,
        "can_handle": can_handle,
        # Each step's form posts to its own address, made from one reverse (``core.markup.link_maker``).
        "act": _step_links(case.number) if can_handle else {},
        "can_decide": permissions.can_decide_extension(request.user, case),
        "feedback": record.feedback,
        "now": moment,
    }
    return render(request, "cases/desk_detail.html", context)


def _step_links(number: str) -> dict[str, str]:
    link = link_maker("cases:desk-act", number)
    return {action: link(action) for action in DESK_ACTIONS}


def _contractors_here(case: Case) -> list[dict]:
    """The active contractors serving the case's unit or a unit above it, read with SQL compiled once."""
    codes = tuple(case.org.ancestor_codes())
    return bound_rows(
        ("cases.desk.contractors_here", len(codes)),
        lambda *here: (
            Contractor.objects.filter(is_active=True, org__code__in=here).distinct().values("pk", "name")
        ),
        codes,
    )


DESK_ACTIONS = {"accept", "dispatch", "book", "cancel", "close", "rework", "pause", "resume"}
# What each step's confirmation says happened (not a bare "done" after every action).
DESK_DONE = {
    "accept": _lazy("Case accepted."),
    "dispatch": _lazy("Case dispatched to the contractor."),
    "book": _lazy("Visit booked."),
    "cancel": _lazy("Case cancelled."),
    "close": _lazy("Case closed."),
    "rework": _lazy("Case reopened for rework."),
    "pause": _lazy("Clock paused."),
    "resume": _lazy("Clock resumed."),
}
CONTRACTOR_DONE = {
    "accept": _lazy("Case taken."),
    "return": _lazy("Case returned to the desk."),
    "book": _lazy("Visit booked."),
    "contact": _lazy("Contact with the resident recorded."),
    "check_in": _lazy("Arrival on site recorded."),
    "step": _lazy("Work step recorded."),
    "finish": _lazy("Work reported as done."),
    "extension": _lazy("Extension requested."),
}


@login_required
@require_POST
def desk_act(request, number: str, action: str):
    case = _staff_case(request, number)
    if action not in DESK_ACTIONS:
        raise Http404
    form = CaseActionForm(request.POST)
    form.is_valid()
    post = form.cleaned_data
    try:
        if "version" in request.POST and post.get("version") != case.version:
            raise UserError("stale", _lazy("Someone else updated the case; reload and retry"), status=409)
        if action == "accept":
            services.case_accept(actor=request.user, case=case)
        elif action == "dispatch":
            contractor = None
            if post.get("contractor") is not None or "contractor" in form.errors:
                contractor = Contractor.objects.filter(pk=post.get("contractor") or 0).first()
                if contractor is None:
                    raise UserError("unknown_contractor", _lazy("No such contractor"), field="contractor")
            services.case_dispatch(actor=request.user, case=case, contractor=contractor)
        elif action == "book":
            services.case_book(
                actor=request.user,
                case=case,
                slot_start=form.moment("slot_start"),
                slot_end=form.moment("slot_end"),
                note=post["note"],
            )
        elif action == "cancel":
            services.case_cancel(actor=request.user, case=case, reason=post["reason"])
        elif action == "close":
            services.case_close(actor=request.user, case=case, note=post["note"])
        elif action == "rework":
            services.case_rework(actor=request.user, case=case, reason=post["reason"])
        elif action == "pause":
            services.case_pause(actor=request.user, case=case, reason=post["reason"])
        elif action == "resume":
            services.case_resume(actor=request.user, case=case)
    except UserError as error:
        _fail(request, error)
    else:
        messages.success(request, DESK_DONE[action])
    return redirect("cases:desk-detail", number=case.number)


@staff_required
@require_POST
def desk_extension(request, pk: int, decision: str):
    request_row = get_object_or_404(
        ExtensionRequest.objects.select_related("case_milestone__case__org"),
        pk=pk,
        status=ExtensionStatus.PENDING,
    )
    case = get_in_scope_or_404(request.user, Case.objects.all(), pk=request_row.case_milestone.case_id)
    if decision not in ("approve", "reject"):
        raise Http404
    try:
        services.extension_decide(actor=request.user, request=request_row, approve=decision == "approve")
    except UserError as error:
        _fail(request, error)
    return redirect("cases:desk-detail", number=case.number)


@login_required
def figures_page(request):
    if not permissions.can_view_figures(request.user):
        raise Http404
    start, end = figures.period_from(request.GET)
    # The period is swapped so the page still shows figures, but the person is told which field was wrong.
    reversed_period = bool(request.GET.get("start") and request.GET.get("end")) and str(
        request.GET["end"]
    ) < str(request.GET["start"])
    data = figures.compute(request.user, start=start, end=end)
    return render(
        request,
        "cases/figures.html",
        {"data": data, "start": start, "end": end, "reversed_period": reversed_period},
    )


@login_required
def figures_export(request):
    if not permissions.can_view_figures(request.user):
        raise Http404
    start, end = figures.period_from(request.GET)
    content = figures.export_xlsx(request.user, start=start, end=end)
    return xlsx_response(content, f"cases-figures-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


# --- contractor phone pages -------------------------------------------------------------------------------
def _require_contractor_user(request) -> None:
    if not permissions.contractor_ids(request.user):
        raise Http404


@login_required
def contractor_list(request):
    _require_contractor_user(request)
    moment = current_time()
    show = request.GET.get("show", "open")
    cases = selectors.contractor_cases(request.user)
    cases = (
        cases.filter(status__in=OPEN_STATUSES) if show == "open" else cases.exclude(status__in=OPEN_STATUSES)
    )
    rows = list(selectors.with_clocks(cases.order_by("reported_at")[:100]))
    return render(
        request,
        "cases/contractor_list.html",
        {
            "rows": [(case, selectors.worst_clock(case, moment)) for case in rows],
            "show": show,
        },
    )


def _contractor_case(request, number: str) -> Case:
    _require_contractor_user(request)
    return get_object_or_404(
        selectors.contractor_cases(request.user).select_related("category__policy", "org", "contractor"),
        number=number,
    )


@login_required
def contractor_detail(request, number: str, *, revealed: dict | None = None):
    case = _contractor_case(request, number)
    moment = current_time()
    record = selectors.case_record(case.pk, moment, selectors.VISIT_RECORD)
    return render(
        request,
        "cases/contractor_detail.html",
        {
            "case": case,
            "clocks": record.clocks,
            "events": record.events,
            "photos": record.photos,
            "appointment": record.appointment,
            "steps": WorkStep.choices,
            "now": moment,
            "revealed": revealed,
        },
    )


@login_required
@require_POST
def contractor_reveal(request, number: str):
    """Show the resident's full phone and address once, on request, with an audit event."""
    case = _contractor_case(request, number)
    revealed = services.case_reveal_contact(actor=request.user, case=case)
    return contractor_detail(request, number, revealed=revealed)


CONTRACTOR_ACTIONS = {"accept", "return", "book", "contact", "check_in", "step", "finish", "extension"}


@login_required
@require_POST
def contractor_act(request, number: str, action: str):
    case = _contractor_case(request, number)
    if action not in CONTRACTOR_ACTIONS:
        raise Http404
    user = request.user
    form = CaseActionForm(request.POST)
    form.is_valid()
    post = form.cleaned_data
    try:
        if action == "accept":
            services.case_contractor_accept(actor=user, case=case)
        elif action == "return":
            services.case_return(actor=user, case=case, reason=post["reason"])
            messages.success(request, _("Returned to the desk."))
            return redirect("cases:contractor-list")
        elif action == "book":
            services.case_book(
                actor=user,
                case=case,
                slot_start=form.moment("slot_start"),
                slot_end=form.moment("slot_end"),
                note=post["note"],
            )
        elif action == "contact":
            services.case_contact(actor=user, case=case, note=post["note"])
        elif action == "check_in":
            services.case_check_in(
                actor=user,
                case=case,
                photos=validate_images(request.FILES.getlist("photos")),
                note=post["note"],
                early_reason=post["early_reason"],
            )
        elif action == "step":
            services.case_record_step(
                actor=user,
                case=case,
                step=post["step"],
                note=post["note"],
                photos=validate_images(request.FILES.getlist("photos")),
            )
        elif action == "finish":
            services.case_finish(
                actor=user,
                case=case,
                note=post["note"],
                photos=validate_images(request.FILES.getlist("photos")),
            )
        elif action == "extension":
            services.extension_request(
                actor=user,
                case=case,
                milestone_code=post["milestone"],
                hours=post.get("hours") or 0,
                reason=post["reason"],
            )
    except UserError as error:
        _fail(request, error)
    else:
        messages.success(request, CONTRACTOR_DONE.get(action, _("Saved.")))
    return redirect("cases:contractor-detail", number=case.number)


# --- resident phone pages ---------------------------------------------------------------------------------
@login_required
def resident_report(request):
    if not permissions.can_report_online(request.user):
        raise Http404
    homes = list(OrgUnit.objects.filter(pk__in=request.user.units_for(Role.RESIDENT)))
    places = OrgUnit.objects.filter(kind__in=[OrgKind.COMMUNITY, OrgKind.ESTATE])
    query = Q(pk__in=[])
    for home in homes:
        query |= subtree_q(home.path)
    places = places.filter(query).order_by("path")[:200]
    context = {"categories": _leaf_categories(), "places": places, "form": request.POST}
    form = CaseReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            category = _intake_category(data["category"])
            org = get_object_or_404(places.model.objects.filter(query), code=data["org"])
            photos = validate_images(request.FILES.getlist("photos"))
            case = services.case_report(
                actor=request.user,
                category=category,
                org=org,
                channel=Channel.ONLINE,
                title=data["title"],
                description=data["description"],
                address=data["address"],
                phone=data["phone"],
                photos=photos,
            )
        except UserError as error:
            _fail(request, error)
        else:
            messages.success(
                request, _("Reported. Your case number is %(number)s.") % {"number": case.number}
            )
            return redirect("cases:resident-case", number=case.number)
    return render(request, "cases/resident_report.html", context)


@login_required
def resident_mine(request):
    if not request.user.has_role(Role.RESIDENT):
        raise Http404
    moment = current_time()
    cases = selectors.with_clocks(Case.objects.filter(reporter=request.user).order_by("-reported_at")[:50])
    return render(
        request,
        "cases/resident_mine.html",
        {
            "rows": [(case, selectors.worst_clock(case, moment)) for case in cases],
        },
    )


@login_required
def resident_case(request, number: str):
    case = get_object_or_404(_TRACKED.filter(reporter=request.user), number=number)
    return _render_tracking(request, case, can_rate=True)


# A tracked case with what its page shows of it beside the record (its category's advice).
_TRACKED = Case.objects.select_related("category")


def _render_tracking(request, case: Case, *, can_rate: bool):
    moment = current_time()
    record = selectors.case_record(case.pk, moment, selectors.VISIT_RECORD, public_only=True)
    return render(
        request,
        "cases/track_case.html",
        {
            "case": case,
            "clocks": record.clocks,
            "events": record.events,
            "photos": record.photos,
            "appointment": record.appointment,
            "can_rate": can_rate and case.status == CaseStatus.WORK_DONE,
        },
    )


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


TRACK_SCOPE = "case-track"
TRACK_LIMIT = 5
TRACK_WINDOW = dt.timedelta(minutes=15)


def _track_keys(request, number: str) -> list[str]:
    return [f"client:{_client(request)}", f"case:{number}"]


def track(request):
    """Follow a case by its number and the last 4 digits of the phone; no login needed.

    An unknown number and a wrong suffix get the same answer. Every attempt is reserved in the throttle
    (per client and per number) BEFORE anything is looked up, atomically, so parallel guesses cannot
    overtake the count; a successful attempt is given back.
    """
    form = TrackForm(request.POST if request.method == "POST" else request.GET)
    number = form.case_number()
    error, status = "", 200
    if request.method == "POST":
        suffix = (form.cleaned_data.get("suffix") or "").strip()
        keys = _track_keys(request, number)
        allowed = throttle.hit_all(
            *(throttle.Limit(TRACK_SCOPE, key, TRACK_LIMIT, TRACK_WINDOW) for key in keys)
        )
        if not allowed:
            error, status = _("Too many attempts. Please try again in 15 minutes."), 429
        else:
            case = Case.objects.filter(number=number).select_related("category").first()
            if case is not None and len(suffix) == 4 and case.phone and case.phone[-4:] == suffix:
                for key in keys:
                    throttle.refund(TRACK_SCOPE, key)
                request.session[TRACK_SESSION_KEY] = sorted(
                    set(request.session.get(TRACK_SESSION_KEY, [])) | {case.pk}
                )
                return redirect("cases:track-case", number=case.number)
            error = _("No case matches this number and phone suffix.")
    return render(request, "cases/track.html", {"number": number, "error": error}, status=status)


def _tracked_case(request, number: str) -> Case:
    case = _TRACKED.filter(number=number).first()
    if case is None or case.pk not in request.session.get(TRACK_SESSION_KEY, []):
        raise Http404
    return case


def track_case(request, number: str):
    return _render_tracking(request, _tracked_case(request, number), can_rate=True)


@require_POST
def rate(request, number: str):
    """Feedback from the reporter: a logged-in reporter, or whoever proved the phone suffix on this device."""
    case = Case.objects.filter(number=number).first()
    if case is None:
        raise Http404
    verified = case.pk in request.session.get(TRACK_SESSION_KEY, [])
    if not verified and not permissions.is_reporter(request.user, case):
        raise Http404
    form = FeedbackForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        services.case_feedback(
            actor=request.user,
            case=case,
            satisfied=bool(data.get("satisfied")),
            rating=data.get("rating") or 0,
            comment=data.get("comment") or "",
            verified_by_phone=verified and not permissions.is_reporter(request.user, case),
        )
    except UserError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Thank you for your feedback."))
    if permissions.is_reporter(request.user, case):
        return redirect("cases:resident-case", number=case.number)
    return redirect("cases:track-case", number=case.number)
