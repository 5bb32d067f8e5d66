"""Pages: self-registration and the member's own file (phone), and the staff workbench."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import require_staff, staff_required
from kangle.accounts.services import user_create
from kangle.core import throttle
from kangle.core.crypto import blind_index
from kangle.core.errors import UserError, form_error, message_in_language
from kangle.core.exports import XLSX, export_workbook, xlsx_response
from kangle.core.forms import errors_text
from kangle.core.markup import html_format
from kangle.core.pagination import PageInfo
from kangle.core.rawrows import pairs_of_each
from kangle.core.roles import Role, person_key
from kangle.core.text import normalise_phone, normalise_text
from kangle.members import permissions, selectors, services
from kangle.members.access import access_member
from kangle.members.constants import ACTIVE_STATUSES, PERIODS, SLOTS, Channel, Status
from kangle.members.forms import (
    CollectiveForm,
    DeskEntryForm,
    EmployerContactForm,
    ExpectedNumbersForm,
    ImportTargetForm,
    MappingForm,
    MemberActionForm,
    MemberForm,
    PartyOrgChoiceForm,
    PlaceSearchForm,
    ReasonForm,
    SelfRegistrationForm,
    TransferForm,
    UploadForm,
    aspect_choices,
)
from kangle.members.importing import (
    HEAVY_COLUMNS,
    import_preview,
    import_request_commit,
    import_set_mapping,
    import_upload,
)
from kangle.members.models import Employer, EmployerPartyOrg, ImportJob, Member, Skill
from kangle.members.panels import panels_for
from kangle.members.validation import FIELD_LABELS, chinese_label, english_label
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.orgs.selectors import subtree_q


def _initial_from(member: Member) -> dict:
    return {
        "name": member.name,
        "gender": member.gender,
        "birth_year": member.birth_year or "",
        "phone": member.phone,
        "id_number": member.id_number,
        "political_status": member.political_status,
        "employer": member.employer.name if member.employer_id else "",
        "party_org": member.party_org.name if member.party_org_id else "",
        "position": member.position,
        "address": member.address,
        "community": member.community.code,
        "microgrid": member.microgrid.code if member.microgrid_id else "",
        "skills": list(member.skills.values_list("code", flat=True)),
        "skills_other": member.skills_other,
        "availability": [code for index, code in SLOTS if member.has_slot(index)],
        "willingness": list(member.willingness.values_list("aspect__code", flat=True)),
        "hours_per_month": member.hours_per_month,
        "household": "\n".join(f"{h.name}({h.get_relation_display()})" for h in member.household.all()),
    }


# --- Phone: self-registration and the member's own file ---------------------------------
def register(request):
    """报到 step 1 on the phone, from a registration point's QR code (?point=CODE) or the public link: who
    and where. Skills, times and household are step 2, in 我的档案, once the person is in."""
    point = _point_of(request)
    if (
        request.user.is_authenticated
        and selectors.own_file(request.user)
        and selectors.own_file(request.user).is_active_file
    ):
        return redirect("members:me")
    under = point.org if point is not None else None
    searching = request.method == "POST" and PlaceSearchForm.terms(request)["find_place"]
    data = request.POST if request.method == "POST" else None
    form = SelfRegistrationForm(data, communities_under=under)
    if not request.user.is_authenticated:
        form.fields["password"].required = True
    else:
        del form.fields["password"]
    if under is not None and under.kind == OrgKind.COMMUNITY:
        form.fields["community"].initial = under.code
    if request.method == "POST" and not searching and form.is_valid():
        try:
            user = request.user if request.user.is_authenticated else None
            registration = _register_self(request, form, point, user)
        except UserError as exc:
            form_error(form, exc, message=message_in_language(exc))
        else:
            if not request.user.is_authenticated:
                login(
                    request,
                    registration.member.user,
                    backend="kangle.accounts.backends.UsernameOrPhoneBackend",
                )
            messages.success(request, _("Your registration has been received; the community will review it."))
            return redirect("members:m-home")
    context = {"form": form, "point": point, **_place_context(request, under)}
    return render(request, "members/register.html", context)


def _point_of(request) -> RegistrationPoint | None:
    code = PlaceSearchForm.terms(request)["point"]
    if not code:
        return None
    point = RegistrationPoint.objects.select_related("org").filter(code=code, is_active=True).first()
    if point is None:
        raise Http404
    return point


def _place_context(request, under: OrgUnit | None, *, current: OrgUnit | None = None) -> dict:
    """The micro-grid search of the form: what was typed and what it found (kept across a refused submit)."""
    terms = PlaceSearchForm.terms(request)
    query, community = normalise_text(terms["place_query"]), terms["community"]
    scope = under
    if community:
        chosen = OrgUnit.objects.filter(code=community, kind=OrgKind.COMMUNITY).first()
        if chosen is not None and (under is None or chosen.is_within(under)):
            scope = chosen
    places = selectors.microgrids_matching(query, under=scope) if query else []
    chosen_code = terms["microgrid"] or (current.code if current is not None else "")
    if chosen_code and not any(place["code"] == chosen_code for place in places):
        # Keep the chosen micro-grid on screen even when the search text changed since.
        kept = OrgUnit.objects.filter(code=chosen_code, kind=OrgKind.MICROGRID).first()
        if kept is not None and (scope is None or kept.is_within(scope)):
            places = [{"code": kept.code, "label": kept.name}, *places]
    return {"place_query": query, "place_choices": places, "searched": bool(query), "periods": PERIODS}


def place_search(request):
    """The micro-grid matches for the registration form's search box (htmx swaps them in)."""
    point = _point_of(request)
    context = _place_context(request, point.org if point is not None else None)
    return render(
        request,
        "members/_place_choices.html",
        {"places": context["place_choices"], "searched": context["searched"], "chosen": ""},
    )


REGISTER_SCOPE = "member-register"
REGISTER_LIMIT_PER_CLIENT = 10
REGISTER_LIMIT_PER_PHONE = 5
REGISTER_WINDOW = dt.timedelta(hours=1)


def _register_self(request, form, point, user):
    """Register the person on the phone. An anonymous sign-up is throttled per client address and per phone
    number, and never says whether a number already has an account: with the account's password it
    registers that account (and counts towards its login lockout like any login); otherwise it answers as
    a failed login does."""
    from django.contrib.auth import authenticate
    from django.db import transaction

    raw = form.raw()
    if user is None:
        phone = normalise_phone(raw.get("phone"))
        client = request.META.get("REMOTE_ADDR", "") or "unknown"
        allowed = throttle.hit_all(
            throttle.Limit(REGISTER_SCOPE, f"client:{client}", REGISTER_LIMIT_PER_CLIENT, REGISTER_WINDOW),
            throttle.Limit(REGISTER_SCOPE, f"phone:{phone}", REGISTER_LIMIT_PER_PHONE, REGISTER_WINDOW),
        )
        if not allowed:
            raise UserError(
                "too_many_attempts",
                gettext_lazy("Too many attempts; please try again in an hour"),
                status=429,
            )
        from kangle.accounts.models import User

        if phone and User.objects.filter(phone_hash=blind_index(phone)).exists():
            user = authenticate(request, username=phone, password=form.cleaned_data["password"])
            if user is None:
                raise UserError(
                    "register_refused",
                    gettext_lazy(
                        "Cannot register with this mobile number and password. If you have an account, log in first"
                    ),
                    field="password",
                )
    with transaction.atomic():
        if user is None:
            user = user_create(
                actor=None,
                # Not the phone number: usernames are stored in clear. People log in with their phone.
                username=f"m{secrets.token_hex(6)}",
                password=form.cleaned_data["password"],
                display_name=raw.get("name", ""),
                phone=phone,
            )
        return services.member_register(actor=user, data=raw, channel=Channel.PHONE, point=point, user=user)


@login_required
def me(request):
    member = selectors.own_file(request.user)
    if member is None:
        return render(request, "members/me_none.html")
    return render(request, "members/me.html", {"member": member, "history": member.history.all()})


@login_required
def phone_home(request):
    """首页 of a member on the phone: their next things, each from the app that owns it."""
    member = selectors.own_file(request.user)
    if member is None:
        return render(request, "members/me_none.html")
    context = {"member": member, "panels": panels_for(request, member, place="home")}
    return render(request, "members/phone_home.html", context)


@login_required
def me_edit(request):
    member = selectors.own_file(request.user)
    if member is None or not member.is_active_file:
        raise Http404
    form = MemberForm(request.POST or None, initial=_initial_from(member), communities_under=member.community)
    form.fields["community"].disabled = True
    searching = request.method == "POST" and PlaceSearchForm.terms(request)["find_place"]
    if request.method == "POST" and not searching and form.is_valid():
        data = form.raw()
        data.pop("community", None)
        try:
            services.member_update(actor=request.user, member=member, data=data)
        except UserError as exc:
            form_error(form, exc, message=message_in_language(exc))
        else:
            messages.success(request, _("Your file has been saved."))
            return redirect("members:me")
    places = _place_context(request, member.community, current=member.microgrid)
    return render(request, "members/me_edit.html", {"form": form, "member": member, **places})


# --- Workbench --------------------------------------------------------------------------
def _member_row(row: dict, channels: dict, statuses: dict, prefix: str) -> str:
    """One row of the member list, built in Python: the page shows 50, and the template engine spent most
    of the page's time resolving their variables one by one."""
    return html_format(
        '<tr data-member="{}"><td><a href="{}{}/">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        '<td>{}</td><td data-status="{}">{}</td></tr>\n',
        row["id"],
        prefix,
        row["id"],
        row["name"],
        row["phone_mask"],
        row["community__name"],
        row["microgrid__name"] or "—",
        channels.get(row["channel"], row["channel"]),
        row["point__name"] or "—",
        row["status"],
        statuses.get(row["status"], row["status"]),
    )


@staff_required
def member_list(request):
    params = {
        key: request.GET.get(key, "").strip()
        for key in ("community", "microgrid", "skill", "status", "channel")
    }
    actor = request.user
    phone = normalise_phone(request.GET.get("phone", ""))
    filters = {**params, "phone_hash": blind_index(phone) if phone else ""}
    given = tuple(name for name, value in filters.items() if value)

    def matching(*values):
        return selectors.filter_members(selectors.members_for(actor), **dict(zip(given, values, strict=True)))

    # Plain values for the rows (nothing decrypted: the phone mask is a stored column), read with SQL
    # compiled once per person and filters; labels looked up once, not through get_FOO_display per row.
    page, found = PageInfo.shaped(
        ("members.page", person_key(actor), given),
        lambda *values: selectors.list_rows(
            actor, matching(*values), dict(zip(given, values, strict=True)).get("community", "")
        ),
        tuple(filters[name] for name in given),
        request.GET.get("page"),
        50,
        counted=matching,  # without the joins of the shown columns
    )
    # Labels as plain text once per page, not a translation lookup per row.
    channels = {value: str(label) for value, label in Channel.choices}
    statuses = {value: str(label) for value, label in Status.choices}
    prefix = reverse("members:list")
    markup = [_member_row(row, channels, statuses, prefix) for row in selectors.with_phone_masks(found)]
    context = {
        "page": page,
        "rows": mark_safe("".join(markup)),  # noqa: S308 - every value is escaped by html_format
        "has_rows": bool(markup),
        "params": params,
        "phone": phone,
        "statuses": Status.choices,
        "channels": Channel.choices,
        # (value, label) pairs for the filters' drop-downs ({% select_options %}), read with SQL compiled
        # once (per person for the communities of their subtree), both by one statement.
        **pairs_of_each(
            {
                "communities": (
                    ("members.page.communities", person_key(actor)),
                    lambda: (
                        scope_queryset(actor, OrgUnit.objects.filter(kind=OrgKind.COMMUNITY), "path")
                        .order_by("path")
                        .values("code", "name")
                    ),
                ),
                "skills": (
                    ("members.page.skills",),
                    lambda: Skill.objects.filter(is_active=True).values("code", "name"),
                ),
            }
        ),
    }
    return render(request, "members/list.html", context)


def _member_in_scope(request, pk) -> Member:
    require_staff(request)
    return access_member(
        request.user,
        pk,
        queryset=Member.objects.select_related(
            "community",
            "estate",
            "microgrid",
            "building_group",
            "employer",
            "party_org",
            "point",
            "org",
            "user",
        ),
    )


@login_required
def member_detail(request, pk):
    member = _member_in_scope(request, pk)
    can_manage = permissions.can_manage_member(request.user, member.community)
    context = {
        "member": member,
        "history": member.history.select_related("actor", "community"),
        "wishes": member.willingness.select_related("aspect"),
        "can_manage": can_manage,
        "can_reveal": permissions.can_reveal(request.user, member.community),
        "reason_form": ReasonForm(),
        # Its drop-down is read only for those who see it (the actions are a manager's).
        "transfer_form": TransferForm(offered=selectors.communities_offered(request.user))
        if can_manage
        else None,
        "panels": panels_for(request, member),
    }
    return render(request, "members/detail.html", context)


@staff_required
def community_search(request):
    """The communities a transfer may go to that match what was typed (htmx swaps them into the drop-down)."""
    query = normalise_text(request.GET.get("community_query", ""))
    # Nothing typed (the box cleared): the person's own communities again, as the page first listed them.
    found = selectors.communities_matching(query) if query else selectors.communities_offered(request.user)
    return render(request, "members/_community_options.html", {"found": found})


@login_required
def member_edit(request, pk):
    """Staff correct a file (the member's own edits go through the phone page)."""
    member = _member_in_scope(request, pk)
    if not permissions.can_manage_member(request.user, member.community) or member.status == Status.LEFT:
        raise PermissionDenied
    form = MemberForm(request.POST or None, initial=_initial_from(member))
    form.fields["community"].queryset = scope_queryset(
        request.user, OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, is_active=True), "path"
    ).order_by("path")
    form.fields["microgrid"].queryset = scope_queryset(
        request.user, OrgUnit.objects.filter(kind=OrgKind.MICROGRID, is_active=True), "path"
    ).order_by("path")
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=request.user, member=member, data=form.raw())
        except UserError as exc:
            form_error(form, exc, message=message_in_language(exc))
        else:
            messages.success(request, _("Your file has been saved."))
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/edit.html", {"form": form, "member": member})


@login_required
@require_POST
def member_reveal(request, pk):
    member = _member_in_scope(request, pk)
    try:
        revealed = services.member_reveal(actor=request.user, member=member)
    except UserError as exc:
        if exc.status == 403:
            raise PermissionDenied from None
        raise
    return render(request, "members/_revealed.html", {"revealed": revealed, "member": member})


@login_required
@require_POST
def member_action(request, pk, action):
    member = _member_in_scope(request, pk)
    if action not in ("approve", "return", "leave", "transfer"):
        raise Http404
    form = MemberActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return redirect("members:detail", pk=member.pk)
    reason = form.cleaned_data["reason"]
    try:
        if action == "approve":
            services.member_approve(actor=request.user, member=member)
            messages.success(request, _("Approved."))
        elif action == "return":
            services.member_return(actor=request.user, member=member, reason=reason)
            messages.success(request, _("Returned to the member with your reason."))
        elif action == "leave":
            services.member_leave(actor=request.user, member=member, reason=reason)
            messages.success(request, _("Marked as left."))
        else:
            target = form.cleaned_data["to_community"]
            if target is None:
                raise UserError("invalid_community", gettext_lazy("Choose a community"), field="to_community")
            services.member_transfer(actor=request.user, member=member, to_community=target, reason=reason)
            messages.success(request, _("Transferred."))
    except UserError as exc:
        if exc.status == 403:
            raise PermissionDenied from None
        messages.error(request, str(exc))
    if action == "transfer" and not selectors.members_for(request.user).filter(pk=member.pk).exists():
        return redirect("members:list")
    return redirect("members:detail", pk=member.pk)


@staff_required
def member_new(request):
    """Staff-assisted entry at a registration point; a second arrival of the same person offers a merge."""
    points = scope_queryset(request.user, RegistrationPoint.objects.filter(is_active=True)).select_related(
        "org"
    )
    form = DeskEntryForm(request.POST or None, communities_under=None)
    form.fields["point"].queryset = points
    form.fields["community"].queryset = scope_queryset(
        request.user, OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, is_active=True), "path"
    ).order_by("path")
    form.fields["microgrid"].queryset = scope_queryset(
        request.user, OrgUnit.objects.filter(kind=OrgKind.MICROGRID, is_active=True), "path"
    ).order_by("path")
    duplicate = None
    if request.method == "POST" and form.is_valid():
        merge_into = None
        if form.cleaned_data.get("merge_into"):
            merge_into = get_in_scope_or_404(
                request.user, Member.objects.all(), "org__path", pk=form.cleaned_data["merge_into"]
            )
        try:
            registration = services.member_register(
                actor=request.user,
                data=form.raw(),
                channel=Channel.DESK,
                point=form.cleaned_data.get("point"),
                merge_into=merge_into,
            )
        except services.DuplicateFile as exc:
            duplicate = exc
            if not exc.visible:
                form.add_error("phone", str(exc))
        except UserError as exc:
            if exc.status == 403:
                raise PermissionDenied from None
            form_error(form, exc, message=message_in_language(exc))
        else:
            messages.success(
                request, _("Merged into the existing file.") if registration.merged else _("Registered.")
            )
            return redirect("members:detail", pk=registration.member.pk)
    return render(request, "members/new.html", {"form": form, "duplicate": duplicate})


def _common_path(units) -> str:
    """The deepest org path every unit lies under (for an export covering several units)."""
    paths = [unit.path for unit in units]
    if not paths:
        return ""
    common = paths[0]
    while common and not all(path.startswith(common) for path in paths):
        common = common[: common.rstrip("/").rfind("/") + 1]
    return common


# The member-file fields an export lists, between the file number and its channel and status.
EXPORT_FIELDS = (
    "name",
    "gender",
    "birth_year",
    "phone",
    "id_number",
    "political_status",
    "employer",
    "party_org",
    "position",
    "address",
    "community",
    "microgrid",
    "skills",
    "willingness",
    "hours_per_month",
)


def _export_row(m: Member, reveal: bool) -> list:
    return [
        m.pk,
        m.name,
        m.get_gender_display(),
        m.birth_year,
        m.phone if reveal else m.masked_phone,
        m.id_number if reveal else m.masked_id_number,
        m.get_political_status_display(),
        m.employer.name if m.employer_id else "",
        m.party_org.name if m.party_org_id else "",
        m.position,
        m.address if reveal else m.masked_address,
        m.community.name,
        m.microgrid.name if m.microgrid_id else "",
        "、".join(s.name for s in m.skills.all()),
        "、".join(w.aspect.name for w in m.willingness.all()),
        m.hours_per_month,
        m.get_channel_display(),
        m.get_status_display(),
    ]


@staff_required
def member_export(request):
    """Excel of the (filtered) list: masked unless the user may reveal; always audited."""
    units = scope_queryset(request.user, OrgUnit.objects.all(), "path")
    code = request.GET.get("community", "")
    unit = units.filter(code=code).first() if code else None
    if code and unit is None:
        raise Http404
    roots = [unit] if unit else list(OrgUnit.objects.filter(path__in=request.user.scope_paths))
    if not request.user.is_superuser and (
        not roots or not all(permissions.can_export(request.user, u) for u in roots)
    ):
        raise PermissionDenied
    reveal = request.GET.get("reveal") == "1"
    if (
        reveal
        and not request.user.is_superuser
        and not all(permissions.can_reveal(request.user, u) for u in roots)
    ):
        raise PermissionDenied
    params = {
        key: request.GET.get(key, "").strip()
        for key in ("community", "microgrid", "skill", "status", "channel")
    }
    rows = (
        selectors.filter_members(selectors.members_for(request.user), **params)
        .select_related("community", "microgrid", "point", "employer", "party_org")
        .prefetch_related("skills", "willingness__aspect")
        .order_by("community__path", "name", "pk")
    )
    headers = ["编号", *(chinese_label(f) for f in EXPORT_FIELDS), "报到渠道", "状态"]
    body = [_export_row(m, reveal) for m in rows.iterator(chunk_size=2000)]
    content = export_workbook(
        actor=request.user,
        verb="member.export",
        object_type="members.member",
        sheets=[("在职党员", headers, body)],
        org_path=unit.path if unit else _common_path(roots),
        details={"unmasked": reveal, "filters": params},
    )
    return xlsx_response(content, "members.xlsx")


@login_required
def template_download(request):
    from kangle.members.spreadsheets import template_bytes

    response = HttpResponse(
        template_bytes(
            list(Skill.objects.filter(is_active=True).values_list("name", flat=True)),
            [name for _code, name in aspect_choices()],
        ),
        content_type=XLSX,
    )
    response["Content-Disposition"] = 'attachment; filename="member-import-template.xlsx"'
    return response


# --- Import and collective registration -------------------------------------------------
def _upload(request, *, org, party_org=None):
    upload = request.FILES["file"]
    from kangle.members.spreadsheets import check_size

    check_size(upload.size)
    return import_upload(
        actor=request.user, org=org, filename=upload.name, content=upload.read(), party_org=party_org
    )


@staff_required
def import_start(request):
    units = scope_queryset(
        request.user,
        OrgUnit.objects.filter(kind__in=[OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY]),
        "path",
    ).order_by("path")
    form = UploadForm(request.POST or None, request.FILES or None)
    target = ImportTargetForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        if not target.is_valid():
            form.add_error(None, errors_text(target))
        else:
            org = target.cleaned_data["org"]
            try:
                job = _upload(request, org=org)
            except UserError as exc:
                if exc.status == 403:
                    raise PermissionDenied from None
                at_file = UserError(exc.code, exc.message, field="file", status=exc.status, **exc.params)
                form_error(form, at_file, message=message_in_language(at_file))
            else:
                return redirect("members:import-job", pk=job.pk)
    recent = (
        ImportJob.objects.filter(created_by=request.user).defer(*HEAVY_COLUMNS).select_related("org")[:10]
    )
    return render(request, "members/import_start.html", {"form": form, "units": units, "recent": recent})


def _job_for(request, pk) -> ImportJob:
    # The upload and its parsed rows are loaded only by the services that read them.
    job = get_object_or_404(
        ImportJob.objects.defer("content", "parsed").select_related("org", "party_org__employer"), pk=pk
    )
    if job.party_org_id:
        if job.party_org.account_id != request.user.pk:
            raise Http404
    else:
        require_staff(request)
        get_in_scope_or_404(request.user, OrgUnit.objects.all(), "path", pk=job.org_id)
    return job


@login_required
def import_job(request, pk):
    job = _job_for(request, pk)
    if request.method == "POST":
        form = MappingForm(request.POST, labels=FIELD_LABELS)
        if not form.is_valid():
            messages.error(request, errors_text(form))
            return redirect("members:import-job", pk=job.pk)
        try:
            if "mapping" in request.POST:
                job = import_set_mapping(actor=request.user, job=job, mapping=form.mapping_value())
                job = import_preview(actor=request.user, job=job)
            elif "commit" in request.POST:
                job = import_request_commit(actor=request.user, job=job)
        except UserError as exc:
            if exc.status == 403:
                raise PermissionDenied from None
            messages.error(request, str(exc))
        return redirect("members:import-job", pk=job.pk)
    fields = [(f, (chinese_label(f), english_label(f)), job.mapping.get(f)) for f in FIELD_LABELS]
    context = {
        "job": job,
        "fields": fields,
        "headers": list(enumerate(job.headers)),
        "bad_row_count": job.bad_row_count or len({e["row"] for e in job.errors}),
        "errors": job.errors,
        "more_errors": max(0, job.error_count - len(job.errors)),
    }
    template = "members/import_job.html"
    return render(request, template, context)


@login_required
def import_progress(request, pk):
    job = _job_for(request, pk)
    return render(request, "members/_progress.html", {"job": job})


@login_required
def collective(request):
    """集体报到: an employer Party organisation enters or uploads its list; members are linked to it."""
    if not permissions.is_collective_registrar(request.user):
        raise PermissionDenied
    party_orgs = EmployerPartyOrg.objects.filter(account=request.user).select_related("employer")
    form = CollectiveForm(request.POST or None, request.FILES or None)
    choice = PartyOrgChoiceForm(request.POST or None, party_orgs=party_orgs)
    if request.method == "POST" and form.is_valid() and not choice.is_valid():
        form.add_error(None, errors_text(choice))
    elif request.method == "POST" and form.is_valid():
        party_org = choice.cleaned_data["party_org"]
        units = OrgUnit.objects.filter(pk__in=request.user.units_for("employer_party_org")).order_by("path")
        try:
            if not units:
                raise PermissionDenied
            if form.cleaned_data.get("file"):
                job = _upload(request, org=units[0], party_org=party_org)
            else:
                content = _rows_as_csv(form.cleaned_data.get("rows", ""))
                job = import_upload(
                    actor=request.user,
                    org=units[0],
                    filename="list.csv",
                    content=content,
                    party_org=party_org,
                )
            job = import_preview(actor=request.user, job=job)
        except UserError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("members:import-job", pk=job.pk)
    return render(request, "members/collective.html", {"form": form, "party_orgs": party_orgs})


def _rows_as_csv(text: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "手机号", "政治面貌", "居民区", "职务"])
    for line in (text or "").splitlines():
        if line.strip():
            writer.writerow([part.strip() for part in line.replace("\t", ",").replace("，", ",").split(",")])
    return buffer.getvalue().encode("utf-8")


# --- Base numbers -----------------------------------------------------------------------
def _base_unit(request) -> OrgUnit:
    require_staff(request)
    code = request.GET.get("unit", "")
    units = scope_queryset(
        request.user,
        OrgUnit.objects.filter(kind__in=[OrgKind.DISTRICT, OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY]),
        "path",
    )
    if code:
        return get_object_or_404(units, code=code)
    unit = units.order_by("depth", "path").first()
    if unit is None:
        raise Http404
    return unit


@login_required
def base_numbers(request):
    unit = _base_unit(request)
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        try:
            from kangle.members.spreadsheets import check_size

            check_size(upload.size)
            saved, errors = services.expected_import(
                actor=request.user, unit=unit, content=upload.read(), filename=upload.name
            )
        except UserError as exc:
            if exc.status == 403:
                raise PermissionDenied from None
            messages.error(request, str(exc))
        else:
            for error in errors[:50]:
                messages.error(
                    request, f"第 {error['row']} 行：{error['zh']} / row {error['row']}: {error['en']}"
                )
            if saved:
                messages.success(request, _("Expected numbers saved."))
        return redirect(f"{request.path}?unit={unit.code}")
    if request.method == "POST":
        _save_expected(request, unit)
        return redirect(f"{request.path}?unit={unit.code}")
    numbers = selectors.base_numbers(unit)
    charts = selectors.distribution(unit)
    context = {
        "numbers": numbers,
        "charts": charts,
        "unit": unit,
        "can_edit": permissions.can_set_expected(request.user, unit),
    }
    return render(request, "members/base_numbers.html", context)


def _save_expected(request, unit: OrgUnit) -> None:
    """The 底数 typed on the page, one per micro-grid (or community) under ``unit``; a number that is not a
    whole number refuses the whole form."""
    units = scope_queryset(request.user, OrgUnit.objects.filter(subtree_q(unit.path)), "path")
    form = ExpectedNumbersForm(
        request.POST,
        units=dict(units.filter(kind__in=[OrgKind.COMMUNITY, OrgKind.MICROGRID]).values_list("code", "name")),
    )
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return
    saved = 0
    for code, expected in form.expected().items():
        target = units.get(code=code)
        try:
            services.expected_set(actor=request.user, org=target, expected=expected)
            saved += 1
        except UserError as exc:
            if exc.status == 403:
                raise PermissionDenied from None
            messages.error(request, f"{target.name}：{exc}")
    if saved:
        messages.success(request, _("Expected numbers saved."))


@staff_required
def employers(request):
    """Employers and their Party organisations: the contact details letters are sent to."""
    may_edit = (
        request.user.is_superuser
        or request.user.has_role(Role.STREET_ADMIN)
        or request.user.has_role(Role.AREA_ADMIN)
    )
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        form = EmployerContactForm(request.POST)
        if not form.is_valid():
            if "employer" in form.errors:
                raise Http404
            messages.error(request, errors_text(form))
            return redirect("members:employers")
        employer = get_object_or_404(Employer, pk=form.cleaned_data["employer"])
        try:
            services.employer_update(actor=request.user, employer=employer, **form.contact_fields())
        except UserError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Contact details saved."))
        return redirect("members:employers")
    page = Paginator(Employer.objects.prefetch_related("party_orgs").order_by("name"), 50).get_page(
        request.GET.get("page")
    )
    # How many of each employer's active members live in the viewer's part of the tree: counted from that
    # part's files (a street's 2,000), not by joining every employer to the city's files.
    counts = dict(
        selectors.files_for(request.user)
        .filter(status__in=ACTIVE_STATUSES, employer__in=[employer.pk for employer in page])
        .values_list("employer_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for employer in page:
        employer.n = counts.get(employer.pk, 0)
    return render(request, "members/employers.html", {"page": page, "may_edit": may_edit})


@login_required
def base_numbers_xlsx(request):
    unit = _base_unit(request)
    numbers = selectors.base_numbers(unit)
    charts = selectors.distribution(unit)

    def pct(value):
        return "" if value is None else value

    summary = [
        [
            a["unit"]["name"],
            a["communities"],
            a["expected"],
            a["registered"],
            a["pending"],
            pct(a["coverage"]),
        ]
        for a in numbers["areas"]
    ]
    total = numbers["total"]
    summary.append(
        [
            "合计",
            total["communities"],
            total["expected"],
            total["registered"],
            total["pending"],
            pct(total["coverage"]),
        ]
    )
    per_community = [
        [
            c["unit"]["name"],
            c["unit"]["code"],
            c["expected"],
            c["registered"],
            c["pending"],
            pct(c["coverage"]),
        ]
        for c in numbers["communities"]
    ]
    per_grid = [
        [
            c["unit"]["name"],
            g["unit"]["name"],
            g["unit"]["code"],
            g["expected"],
            g["registered"],
            pct(g["coverage"]),
        ]
        for c in numbers["communities"]
        for g in c["grids"]
    ]
    heat = [[charts["days"][d], charts["periods"][p], n] for d, p, n in charts["heatmap"]]
    content = export_workbook(
        actor=request.user,
        verb="base_number.export",
        object_type="orgs.orgunit",
        org_path=unit.path,
        details={"unit": unit.code},
        sheets=[
            ("汇总", ["片区", "居民区数", "底数", "已报到", "待审核", "覆盖率%"], summary),
            ("居民区", ["居民区", "编码", "底数", "已报到", "待审核", "覆盖率%"], per_community),
            ("微网格", ["居民区", "微网格", "编码", "底数", "已报到", "覆盖率%"], per_grid),
            ("专业特长", ["特长", "人数"], [list(s) for s in charts["skills"]]),
            ("服务时间", ["星期", "时段", "人数"], heat),
            ("服务意愿", ["服务方面", "人数"], [list(w) for w in charts["willingness"]]),
        ],
    )
    return xlsx_response(content, f"base-numbers-{unit.code}.xlsx")
