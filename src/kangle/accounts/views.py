import datetime as dt

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from kangle.accounts import services
from kangle.accounts.context_processors import LARGE_TYPE_COOKIE
from kangle.accounts.decorators import staff_required
from kangle.accounts.forms import LanguageForm, LoginForm, PasswordChangeForm, TextSizeForm, TokenIssueForm
from kangle.accounts.models import ApiToken, User
from kangle.accounts.permissions import can_manage_tokens
from kangle.core import todo, workcalendar
from kangle.core.errors import UserError
from kangle.core.markup import html_format, link_maker
from kangle.core.models import WorkerHeartbeat
from kangle.core.rawrows import bound_counts, prepared_for
from kangle.core.roles import STAFF_ROLES, Role, person_key
from kangle.core.timeutil import now, today
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint, Venue
from kangle.orgs.scope import scope_queryset
from kangle.orgs.selectors import unit_summary

# A worker that has not written its heartbeat for this long is not counted as running.
HEARTBEAT_WINDOW = dt.timedelta(minutes=1)


def login_view(request):
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        return HttpResponseRedirect(_safe_next(request, reverse("home")))
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@login_required
def password_change(request):
    """Choose one's own password; required after logging in with an administrator's one-time code."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.password_change(
                actor=request.user, new_password=form.cleaned_data["new_password"]
            )
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "forced": request.user.must_change_password},
        status=400 if form.errors else 200,
    )


# The device remembers large type before anyone logs in (a year; it holds no personal data).
LARGE_TYPE_COOKIE_AGE = 365 * 24 * 3600


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return fallback
    return target


@require_POST
def text_size(request):
    """The 大字版 switch in every phone page's header: remembered for the person and for the device."""
    form = TextSizeForm(request.POST)
    large_type = form.is_valid() and form.cleaned_data["large"] == "1"
    if request.user.is_authenticated:
        services.user_set_large_type(actor=request.user, user=request.user, large_type=large_type)
    response = HttpResponseRedirect(_safe_next(request, reverse("home")))
    response.set_cookie(
        LARGE_TYPE_COOKIE,
        "1" if large_type else "0",
        max_age=LARGE_TYPE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@require_POST
def language_switch(request):
    """The interface language switch (Django's ``set_language``); a logged-in person's choice is also kept
    on their account, so the notices and texts sent to them are written in it."""
    response = set_language(request)
    form = LanguageForm(request.POST)
    if request.user.is_authenticated and form.is_valid():
        services.user_set_language(
            actor=request.user, user=request.user, language=form.cleaned_data["language"]
        )
    return response


@require_POST
def logout_view(request):
    logout(request)
    return redirect("accounts:login")


@login_required
def home(request):
    """Each role's home page shows something true about the part of the tree the person looks after."""
    user = request.user
    if user.roles & STAFF_ROLES == {Role.GRID_LEADER} and not user.is_superuser:
        # A grid leader is a phone user: their home is their grid on the phone.
        return redirect("activities:m-grid")
    if user.is_workbench_user:
        return _workbench_home(request)
    if user.has_role(Role.EMPLOYER_PARTY_ORG):
        return render(
            request, "accounts/home_employer.html", {"units": _units_of(user, Role.EMPLOYER_PARTY_ORG)}
        )
    if user.has_role(Role.MEMBER):
        return redirect("members:m-home")
    return _phone_home(request)


def _units_of(user, role) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(pk__in=user.units_for(role)).order_by("path"))


def _workbench_home(request):
    user = request.user
    staff_roles = [row for row in user.role_rows if row[0] in STAFF_ROLES]
    owner = person_key(user)
    if user.is_superuser and not user.scope_paths:
        roots = list(OrgUnit.objects.filter(parent__isnull=True).order_by("code"))
        labelled = _labelled_units(staff_roles)
    else:
        roots, labelled = _home_units(user, owner, staff_roles)
    kinds = {value: str(label) for value, label in OrgKind.choices}  # translated once a page
    unit_link = link_maker("orgs:unit")
    sections = []
    for root in roots:
        counts, children = unit_summary(root)
        sections.append(
            {"unit": root, "counts": counts, "children": _children_rows(children, kinds, unit_link)}
        )
    # Street admins keep the holiday calendar: a year the clocks need and nobody covers is their warning.
    unpublished = (
        workcalendar.unpublished_needed(today())
        if user.is_superuser or user.has_role(Role.STREET_ADMIN)
        else []
    )
    # The counts of the person's part of the tree, the live workers and the calendar years entered, with one
    # statement compiled once per person and number of years (the moment the workers' heartbeats are counted
    # from, and the years, bound into it).
    points, venues, alive, *entered = bound_counts(
        ("home.counts", owner, len(unpublished)),
        lambda since, *years: [
            scope_queryset(user, RegistrationPoint.objects.filter(is_active=True)).values("pk"),
            scope_queryset(user, Venue.objects.filter(is_active=True)).values("pk"),
            WorkerHeartbeat.objects.filter(last_seen__gte=since).values("pk"),
            *(workcalendar.entered(year) for year in years),
        ],
        (now() - HEARTBEAT_WINDOW, *unpublished),
    )
    context = {
        "todo": _todo_lines(user),
        "sections": sections,
        "staff_roles": labelled,
        "points_count": points,
        "venues_count": venues,
        "workers_alive": alive,
        "calendar_uncovered": [year for year, found in zip(unpublished, entered, strict=True) if not found],
    }
    return render(request, "accounts/home_workbench.html", context)


def _children_rows(children, kinds: dict[str, str], unit_link) -> SafeString:
    """A section's child units as table rows, built in Python (``core.markup``): a street's home lists a
    few dozen, and the template engine spent more on their link, kind and count than on the rest of the
    section."""
    return SafeString(
        "".join(
            html_format(
                '<tr>\n<td><a href="{}">{}</a></td>\n<td>{}</td>\n<td>{}</td>\n</tr>\n',
                unit_link(child.code),
                child.name,
                kinds.get(child.kind, child.kind),
                below,
            )
            for child, below in children
        )
    )


def _home_units(user, owner: tuple, staff_roles) -> tuple[list[OrgUnit], list[tuple[str, OrgUnit]]]:
    """The roots of the person's part of the tree (a unit inside another of theirs is shown within it) and
    their staff roles with their units: one read, compiled once per person and staff role units."""
    role_units = tuple(org_id for _role, _path, org_id in staff_roles)
    paths = tuple(user.scope_paths)
    units = prepared_for(
        ("home.units", owner, role_units),
        lambda: OrgUnit.objects.filter(Q(path__in=paths) | Q(pk__in=role_units)).order_by("path"),
        parameters=0,
    ).all()
    tops = [unit for unit in units if unit.path in paths]
    roots = [
        unit for unit in tops if not any(unit.path != other.path and unit.is_within(other) for other in tops)
    ]
    return roots, _labelled_units(staff_roles, {unit.pk: unit for unit in units})


def _todo_lines(user) -> SafeString:
    """The person's to-do lines as list items, built in Python (``core.markup``); empty when nothing waits."""
    moment = now()
    return SafeString(
        "".join(
            html_format(
                '<li class="todo-line urgency-{}" data-todo="{}">\n'
                '<a href="{}"><b class="todo-count">{}</b> {}</a>\n'
                '<span class="muted">{}{}</span>\n</li>\n',
                line.urgency,
                line.key,
                line.url,
                line.count_text,
                line.label,
                todo.age_label(line.oldest, moment),
                f" · {line.detail}" if line.detail else "",
            )
            for line in todo.lines_for(user, now=moment)
        )
    )


@staff_required
def todo_lines(request):
    """The to-do list alone, for the home page's htmx polling."""
    return render(request, "accounts/_todo.html", {"todo": _todo_lines(request.user)})


def _labelled_units(rows, units: dict[int, OrgUnit] | None = None) -> list[tuple[str, OrgUnit]]:
    """Each role row's label and unit; the units read here unless the caller read them already."""
    if units is None:
        units = OrgUnit.objects.in_bulk([org_id for _role, _path, org_id in rows])
    return [(Role(role).label, units[org_id]) for role, _path, org_id in rows]


def _phone_home(request):
    user = request.user
    places = _labelled_units(user.role_rows)
    points = []
    member_units = _units_of(user, Role.MEMBER)
    if member_units:
        # Registration points of the member's community and of the areas and street above it.
        paths = {code for unit in member_units for code in unit.ancestor_codes()}
        points = list(
            RegistrationPoint.objects.filter(org__code__in=paths, is_active=True).select_related(
                "venue", "org"
            )
        )
    return render(request, "accounts/home_phone.html", {"places": places, "points": points})


@login_required
def me(request):
    """我的: the person, their roles, everything of theirs not in the tab bar, settings and logging out."""
    return render(request, "accounts/me_phone.html", {"places": _labelled_units(request.user.role_rows)})


@login_required
def tokens(request):
    if not can_manage_tokens(request.user):
        raise Http404
    form = TokenIssueForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        target = User.objects.filter(username=form.cleaned_data["username"].strip()).first()
        if target is None:
            form.add_error("username", _("No user with this username."))
        else:
            try:
                _row, issued = services.token_issue(
                    actor=request.user, user=target, name=form.cleaned_data["name"]
                )
            except UserError as exc:
                form.add_error(exc.field or None, str(exc))
            else:
                form = TokenIssueForm()
    rows = ApiToken.objects.select_related("user", "created_by").order_by("-created_at")
    if not request.user.is_superuser:
        rows = rows.filter(created_by=request.user) | rows.filter(user=request.user)
    return render(request, "accounts/tokens.html", {"form": form, "issued": issued, "tokens": rows[:200]})


@login_required
@require_POST
def token_revoke(request, prefix):
    if not can_manage_tokens(request.user):
        raise Http404
    rows = ApiToken.objects.all()
    if not request.user.is_superuser:
        rows = rows.filter(created_by=request.user)
    token = get_object_or_404(rows, prefix=prefix)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")
