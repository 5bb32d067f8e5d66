"""The generated permission matrix: every page route (URL resolver) and every API operation (OpenAPI),
called as anonymous, as staff of another street, as the secretary of another community and as the lower
roles, against objects of community A.

Invariants checked for every route:
- nobody gets a 5xx; HTML pages carry the content security policy and no inline script;
- anonymous gets nothing but the public pages (a redirect to the login, 401, 403, 404 or 405 otherwise);
- an outsider gets, for an object of community A, exactly the answer they get for an id that does not exist
  (so neither 403 nor a success can tell that it exists), and lists and forms never show A's data to them;
- the phone roles (member, resident, contractor) get no success on a workbench route for A's objects.

A route this table does not classify fails the test: whoever adds a route decides who may call it.
Endpoints that take ids in their body get their own probes (``test_ids_in_bodies_get_the_missing_answer``).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from kangle.core.roles import Role
from personas import make_user

pytestmark = pytest.mark.django_db

PUBLIC, SIGNED_IN, STAFF = "public", "signed_in", "staff"

PAGES = {
    "accounts:todo": STAFF,
    "activities:figures-export": STAFF,
    "activities:phone-sessions": SIGNED_IN,
    "drills:homes": STAFF,
    "drills:home-save": STAFF,
    "drills:drill": STAFF,
    "drills:drill-act": STAFF,
    "drills:follow-up-done": STAFF,
    "open311-discovery": PUBLIC,
    "prevention:campaign-export": STAFF,
    "prevention:campaign-spraying": STAFF,
    "reports:cockpit": STAFF,
    "reports:cockpit-export": STAFF,
    "reports:map": STAFF,
    "reports:map-data": STAFF,
    "reports:search": STAFF,
    "home": PUBLIC,
    "accounts:login": PUBLIC,
    "accounts:logout": PUBLIC,
    "accounts:tokens": SIGNED_IN,
    "accounts:token-revoke": SIGNED_IN,
    "accounts:me": SIGNED_IN,
    "accounts:text-size": PUBLIC,  # the 大字版 switch works before login (a device cookie)
    "orgs:unit": STAFF,
    "orgs:unit-add-child": STAFF,
    "orgs:unit-move": STAFF,
    "orgs:registration-points": STAFF,
    "orgs:registration-point-qr": STAFF,
    "orgs:registration-point-poster": STAFF,
    "orgs:venues": STAFF,
    "notify:inbox": SIGNED_IN,
    "notify:read": SIGNED_IN,
    "notify:code-login": PUBLIC,
    "notify:signup": PUBLIC,  # only with a number just verified by a texted code; otherwise back to it
    "members:register": PUBLIC,
    "members:place-search": PUBLIC,  # micro-grid names under a registration point, for the public form
    "members:m-home": SIGNED_IN,
    "members:me": SIGNED_IN,
    "members:me-edit": SIGNED_IN,
    "members:list": STAFF,
    "members:new": STAFF,
    "members:export": STAFF,
    "members:template": STAFF,
    "members:community-search": STAFF,  # active communities by name or code, for a transfer
    "members:detail": STAFF,
    "members:reveal": STAFF,
    "members:edit": STAFF,
    "members:action": STAFF,
    "members:import": STAFF,
    "members:import-job": STAFF,
    "members:import-progress": STAFF,
    "members:collective": STAFF,
    "members:employers": STAFF,
    "members:base-numbers": STAFF,
    "members:base-numbers-xlsx": STAFF,
    "cases:desk-queue": STAFF,
    "cases:desk-overdue": STAFF,
    "cases:desk-new": STAFF,
    "cases:desk-extension": STAFF,
    "cases:desk-detail": STAFF,
    "cases:desk-act": STAFF,
    "cases:figures": STAFF,
    "cases:figures-export": STAFF,
    "cases:contractor-list": SIGNED_IN,
    "cases:contractor-detail": SIGNED_IN,
    "cases:contractor-reveal": SIGNED_IN,
    "cases:contractor-act": SIGNED_IN,
    "cases:resident-report": SIGNED_IN,
    "cases:resident-mine": SIGNED_IN,
    "cases:resident-case": SIGNED_IN,
    "cases:track": PUBLIC,
    "cases:track-case": PUBLIC,
    "cases:rate": PUBLIC,
    "open311:services": PUBLIC,
    "open311:service": PUBLIC,
    "open311:requests": PUBLIC,
    "open311:request": PUBLIC,
    "prevention:dashboard": STAFF,
    "prevention:export": STAFF,
    "prevention:points": STAFF,
    "prevention:point-create": STAFF,
    "prevention:point-retire": STAFF,
    "prevention:rounds": STAFF,
    "prevention:round-open": STAFF,
    "prevention:round": STAFF,
    "prevention:round-close": STAFF,
    "prevention:warnings": STAFF,
    "prevention:warning-create": STAFF,
    "prevention:warning-open-case": STAFF,
    "prevention:campaigns": STAFF,
    "prevention:campaign-create": STAFF,
    "prevention:campaign": STAFF,
    "prevention:m-home": SIGNED_IN,
    "prevention:m-round": SIGNED_IN,
    "prevention:m-campaign": SIGNED_IN,
    "posts:list": STAFF,
    "posts:new": STAFF,
    "posts:detail": STAFF,
    "posts:edit": STAFF,
    "posts:status": STAFF,
    "posts:invite": STAFF,
    "posts:claim-action": STAFF,
    "posts:catalogue": STAFF,
    "posts:bulk": STAFF,
    "posts:bulk-proposal": STAFF,
    "posts:for-me": SIGNED_IN,
    "posts:mine": SIGNED_IN,
    "posts:phone-detail": SIGNED_IN,
    "posts:phone-claim": SIGNED_IN,
    "posts:notice": PUBLIC,
    "posts:notice-qr": PUBLIC,
    "activities:list": STAFF,
    "activities:create": STAFF,
    "activities:detail": STAFF,
    "activities:screen": STAFF,
    "activities:screen-qr": STAFF,
    "activities:action": STAFF,
    "activities:calls": STAFF,
    "activities:call-create": STAFF,
    "activities:call-detail": STAFF,
    "activities:records": STAFF,
    "activities:record-decide": STAFF,
    "activities:figures": STAFF,
    "activities:grid": STAFF,
    "activities:m-grid": STAFF,
    "activities:m-grid-call": STAFF,
    "activities:m-grid-todo": STAFF,
    "activities:phone-list": SIGNED_IN,
    "activities:phone-detail": SIGNED_IN,
    "activities:scan": SIGNED_IN,
    "activities:phone-calls": SIGNED_IN,
    "activities:phone-call": SIGNED_IN,
    "activities:my-records": SIGNED_IN,
    "activities:party-calls": SIGNED_IN,
    "activities:collective": SIGNED_IN,
    "activities:team-signup": SIGNED_IN,
    "points:me": SIGNED_IN,
    "points:visibility": SIGNED_IN,
    "points:benefits": SIGNED_IN,
    "points:book": SIGNED_IN,
    "points:cancel": SIGNED_IN,
    "points:pass": SIGNED_IN,
    "points:rankings": STAFF,
    "points:rules": SIGNED_IN,
    "recognition:letters": STAFF,
    "recognition:letter-draft": STAFF,
    "recognition:letter": STAFF,
    "recognition:letter-pdf": STAFF,
    "recognition:nominations": SIGNED_IN,
    "recognition:me": SIGNED_IN,
    "recognition:stories": PUBLIC,
    "recognition:story": PUBLIC,
    "accounts:password-change": SIGNED_IN,
    "cases:ref-calendar": STAFF,
    "cases:ref-calendar-year": STAFF,
    "cases:ref-categories": STAFF,
    "cases:ref-category": STAFF,
    "cases:ref-category-delete": STAFF,
    "cases:ref-category-reinstate": STAFF,
    "cases:ref-contractor": STAFF,
    "cases:ref-contractors": STAFF,
    "cases:ref-policy": STAFF,
    "members:party-org-link": STAFF,
    "members:party-orgs": STAFF,
    "members:staff-import": STAFF,
    "people:account-new": STAFF,
    "people:audit": STAFF,
    "people:audit-event": STAFF,
    "people:audit-export": STAFF,
    "people:audit-personal-data": STAFF,
    "people:grid-leader": STAFF,
    "people:list": STAFF,
    "people:role-revoke": STAFF,
    "people:unit": STAFF,
    "people:user": STAFF,
    "people:user-disable": STAFF,
    "people:user-enable": STAFF,
    "people:user-grant": STAFF,
    "people:user-reset-password": STAFF,
    "points:adjust": STAFF,
    "points:adjust-decide": STAFF,
    "points:adjust-limit": STAFF,
    "points:adjustments": STAFF,
    "points:manage-benefit": STAFF,
    "points:manage-benefits": STAFF,
    "points:pass-qr": SIGNED_IN,
    "points:pass-redeem": STAFF,
    "recognition:manage-stories": STAFF,
    "recognition:manage-story": STAFF,
    "recognition:manage-story-photo": STAFF,
    "recognition:manage-story-publish": STAFF,
    "registration-point-public": PUBLIC,
    "set_language": PUBLIC,
    "healthz": PUBLIC,
    "file": SIGNED_IN,
}
API = {
    "GET /api/v1/drills/figures": STAFF,
    "GET /api/v1/drills/homes": STAFF,
    "GET /api/v1/drills/{pk}": STAFF,
    "POST /api/v1/drills/": STAFF,
    "POST /api/v1/drills/follow-ups/{pk}/done": STAFF,
    "POST /api/v1/drills/homes": STAFF,
    "POST /api/v1/drills/homes/{pk}/groups": STAFF,
    "POST /api/v1/drills/plans": STAFF,
    "POST /api/v1/drills/plans/{pk}/assignments": STAFF,
    "POST /api/v1/drills/{pk}/contest": STAFF,
    "POST /api/v1/drills/{pk}/findings": STAFF,
    "POST /api/v1/drills/{pk}/timings": STAFF,
    "GET /api/v1/prevention/campaigns/{campaign_id}/sprayings": STAFF,
    "POST /api/v1/prevention/campaigns/{campaign_id}/sprayings": STAFF,
    "POST /api/v1/activities/calls/responses/{pk}/present": STAFF,
    "POST /api/v1/activities/sessions/{pk}/check-in": SIGNED_IN,
    "POST /api/v1/activities/sessions/{pk}/check-out": SIGNED_IN,
    "POST /api/v1/activities/{pk}/family-signups": SIGNED_IN,
    "POST /api/v1/cases/{number}/rework": STAFF,
    "GET /api/v1/accounts/me": SIGNED_IN,
    "GET /api/v1/accounts/tokens": SIGNED_IN,
    "POST /api/v1/accounts/tokens": SIGNED_IN,
    "POST /api/v1/accounts/tokens/{prefix}/revoke": SIGNED_IN,
    "GET /api/v1/orgs/units": STAFF,
    "POST /api/v1/orgs/units": STAFF,
    "GET /api/v1/orgs/units/{code}": STAFF,
    "PATCH /api/v1/orgs/units/{code}": STAFF,
    "GET /api/v1/orgs/units/{code}/children": STAFF,
    "POST /api/v1/orgs/units/{code}/move": STAFF,
    "GET /api/v1/orgs/venues": STAFF,
    "POST /api/v1/orgs/venues": STAFF,
    "GET /api/v1/orgs/registration-points": STAFF,
    "POST /api/v1/orgs/registration-points": STAFF,
    "GET /api/v1/orgs/registration-points/{code}": STAFF,
    "GET /api/v1/members/": STAFF,
    "POST /api/v1/members/": STAFF,
    "GET /api/v1/members/{pk}": STAFF,
    "POST /api/v1/members/{pk}/approve": STAFF,
    "POST /api/v1/members/{pk}/return": STAFF,
    "POST /api/v1/members/{pk}/transfer": STAFF,
    "POST /api/v1/members/{pk}/leave": STAFF,
    "GET /api/v1/cases/categories": SIGNED_IN,
    "GET /api/v1/cases/": SIGNED_IN,
    "POST /api/v1/cases/": SIGNED_IN,
    "GET /api/v1/cases/figures": STAFF,
    "GET /api/v1/cases/{number}": SIGNED_IN,
    "POST /api/v1/cases/{number}/accept": STAFF,
    "POST /api/v1/cases/{number}/dispatch": STAFF,
    "POST /api/v1/cases/{number}/contractor-accept": SIGNED_IN,
    "POST /api/v1/cases/{number}/return": SIGNED_IN,
    "POST /api/v1/cases/{number}/book": SIGNED_IN,
    "POST /api/v1/cases/{number}/contact": SIGNED_IN,
    "POST /api/v1/cases/{number}/check-in": SIGNED_IN,
    "POST /api/v1/cases/{number}/steps": SIGNED_IN,
    "POST /api/v1/cases/{number}/finish": SIGNED_IN,
    "POST /api/v1/cases/{number}/feedback": SIGNED_IN,
    "POST /api/v1/cases/{number}/close": STAFF,
    "POST /api/v1/cases/{number}/cancel": STAFF,
    "POST /api/v1/cases/{number}/pause": STAFF,
    "POST /api/v1/cases/{number}/resume": STAFF,
    "POST /api/v1/cases/{number}/extensions": SIGNED_IN,
    "POST /api/v1/cases/extensions/{pk}/decide": STAFF,
    "GET /api/v1/prevention/points": SIGNED_IN,
    "POST /api/v1/prevention/points": STAFF,
    "GET /api/v1/prevention/points/{code}": SIGNED_IN,
    "POST /api/v1/prevention/points/{code}/retire": STAFF,
    "GET /api/v1/prevention/rounds": SIGNED_IN,
    "POST /api/v1/prevention/rounds": STAFF,
    "POST /api/v1/prevention/rounds/{round_id}/close": STAFF,
    "GET /api/v1/prevention/rounds/{round_id}/readings": SIGNED_IN,
    "POST /api/v1/prevention/rounds/{round_id}/readings": SIGNED_IN,
    "GET /api/v1/prevention/warnings": STAFF,
    "POST /api/v1/prevention/warnings": STAFF,
    "POST /api/v1/prevention/warnings/from-case": STAFF,
    "GET /api/v1/prevention/warnings/{warning_id}": STAFF,
    "POST /api/v1/prevention/warnings/{warning_id}/open-case": STAFF,
    "GET /api/v1/prevention/analysis": STAFF,
    "GET /api/v1/prevention/analysis.xlsx": STAFF,
    "GET /api/v1/prevention/campaigns": SIGNED_IN,
    "POST /api/v1/prevention/campaigns": STAFF,
    "GET /api/v1/prevention/campaigns/{campaign_id}": SIGNED_IN,
    "GET /api/v1/prevention/campaigns/{campaign_id}/units": SIGNED_IN,
    "POST /api/v1/prevention/campaigns/{campaign_id}/inspect": SIGNED_IN,
    "POST /api/v1/prevention/campaigns/{campaign_id}/findings": SIGNED_IN,
    "POST /api/v1/prevention/campaigns/{campaign_id}/close": STAFF,
    "GET /api/v1/activities/": SIGNED_IN,
    "POST /api/v1/activities/": STAFF,
    "GET /api/v1/activities/figures": STAFF,
    "GET /api/v1/activities/{pk}": SIGNED_IN,
    "POST /api/v1/activities/{pk}/beneficiaries": STAFF,
    "POST /api/v1/activities/{pk}/cancel": STAFF,
    "GET /api/v1/activities/{pk}/qr-token": STAFF,
    "GET /api/v1/activities/{pk}/signups": SIGNED_IN,
    "POST /api/v1/activities/{pk}/signups": SIGNED_IN,
    "POST /api/v1/activities/{pk}/team-signups": SIGNED_IN,
    "POST /api/v1/activities/signups/{pk}/cancel": SIGNED_IN,
    "POST /api/v1/activities/{pk}/check-in": SIGNED_IN,
    "POST /api/v1/activities/{pk}/check-out": SIGNED_IN,
    "POST /api/v1/activities/{pk}/staff-check-in": STAFF,
    "POST /api/v1/activities/{pk}/staff-check-out": STAFF,
    "GET /api/v1/activities/{pk}/attendances": STAFF,
    "GET /api/v1/activities/calls": SIGNED_IN,
    "POST /api/v1/activities/calls": STAFF,
    "GET /api/v1/activities/calls/{pk}": SIGNED_IN,
    "GET /api/v1/activities/calls/{pk}/responses": SIGNED_IN,
    "POST /api/v1/activities/calls/{pk}/responses": SIGNED_IN,
    "POST /api/v1/activities/calls/{pk}/collective": SIGNED_IN,
    "POST /api/v1/activities/calls/{pk}/group": STAFF,
    "POST /api/v1/activities/calls/{pk}/close": STAFF,
    "GET /api/v1/activities/records": STAFF,
    "POST /api/v1/activities/records": STAFF,
    "POST /api/v1/activities/records/self-report": SIGNED_IN,
    "POST /api/v1/activities/records/{pk}/verify": STAFF,
    "POST /api/v1/activities/records/{pk}/reject": STAFF,
    "GET /api/v1/posts/catalogue": SIGNED_IN,
    "PATCH /api/v1/posts/catalogue/aspects/{code}": STAFF,
    "PATCH /api/v1/posts/catalogue/categories/{code}": STAFF,
    "GET /api/v1/posts/recommendations": SIGNED_IN,
    "GET /api/v1/posts/mine": SIGNED_IN,
    "POST /api/v1/posts/{pk}/claim": SIGNED_IN,
    "POST /api/v1/posts/claims/{pk}/withdraw": SIGNED_IN,
    "GET /api/v1/posts/": STAFF,
    "POST /api/v1/posts/": STAFF,
    "GET /api/v1/posts/{pk}": STAFF,
    "PATCH /api/v1/posts/{pk}": STAFF,
    "POST /api/v1/posts/{pk}/status/{action}": STAFF,
    "GET /api/v1/posts/{pk}/claims": STAFF,
    "GET /api/v1/posts/{pk}/candidates": STAFF,
    "POST /api/v1/posts/{pk}/invitations": STAFF,
    "POST /api/v1/posts/claims/{pk}/confirm": STAFF,
    "POST /api/v1/posts/claims/{pk}/remove": STAFF,
    "POST /api/v1/posts/bulk/proposals": STAFF,
    "GET /api/v1/posts/bulk/proposals/{pk}": STAFF,
    "POST /api/v1/posts/bulk/proposals/{pk}/confirm": STAFF,
    "GET /api/v1/points/rules": STAFF,
    "POST /api/v1/points/rules": STAFF,
    "PATCH /api/v1/points/rules/{rule_id}": STAFF,
    "GET /api/v1/points/me": SIGNED_IN,
    "POST /api/v1/points/me/ranking-visibility": SIGNED_IN,
    "GET /api/v1/points/members/{member_id}/ledger": SIGNED_IN,
    "POST /api/v1/points/members/{member_id}/adjustments": SIGNED_IN,
    "GET /api/v1/points/benefits": SIGNED_IN,
    "POST /api/v1/points/benefits": SIGNED_IN,
    "GET /api/v1/points/benefits/{benefit_id}/slots": SIGNED_IN,
    "POST /api/v1/points/benefits/{benefit_id}/slots": SIGNED_IN,
    "GET /api/v1/points/bookings": SIGNED_IN,
    "POST /api/v1/points/bookings": SIGNED_IN,
    "POST /api/v1/points/bookings/{booking_id}/cancel": SIGNED_IN,
    "POST /api/v1/points/passes": SIGNED_IN,
    "POST /api/v1/points/passes/use": SIGNED_IN,
    "GET /api/v1/points/rankings": SIGNED_IN,
    "GET /api/v1/recognition/letters": STAFF,
    "POST /api/v1/recognition/letters": STAFF,
    "GET /api/v1/recognition/letters/{letter_id}": STAFF,
    "PATCH /api/v1/recognition/letters/{letter_id}": STAFF,
    "POST /api/v1/recognition/letters/{letter_id}/issue": STAFF,
    "POST /api/v1/recognition/letters/{letter_id}/send": STAFF,
    "GET /api/v1/recognition/letters/{letter_id}/pdf": STAFF,
    "GET /api/v1/recognition/nominations": SIGNED_IN,
    "POST /api/v1/recognition/nominations": SIGNED_IN,
    "POST /api/v1/recognition/nominations/{nomination_id}/review": STAFF,
    "POST /api/v1/recognition/nominations/{nomination_id}/result": STAFF,
    "GET /api/v1/recognition/stories": PUBLIC,
    "POST /api/v1/recognition/stories": SIGNED_IN,
    "POST /api/v1/recognition/stories/{story_id}/publish": STAFF,
    "GET /api/v1/adjustments/requests": STAFF,
    "GET /api/v1/audit/events": STAFF,
    "GET /api/v1/audit/events/{event_id}": STAFF,
    "GET /api/v1/party-orgs/": STAFF,
    "GET /api/v1/people/assignments": STAFF,
    "GET /api/v1/people/users/{user_id}": STAFF,
    "GET /api/v1/reference/calendar": STAFF,
    "GET /api/v1/reference/calendar/{year}": STAFF,
    "GET /api/v1/reference/categories": STAFF,
    "GET /api/v1/reference/contractors": STAFF,
    "GET /api/v1/reference/contractors/{pk}": STAFF,
    "GET /api/v1/reference/policies/{code}": STAFF,
    "POST /api/v1/adjustments/": STAFF,
    "POST /api/v1/adjustments/requests/{request_id}/decide": STAFF,
    "POST /api/v1/party-orgs/accounts": STAFF,
    "POST /api/v1/party-orgs/link": STAFF,
    "POST /api/v1/people/accounts": STAFF,
    "POST /api/v1/people/roles/{assignment_id}/revoke": STAFF,
    "POST /api/v1/people/units/{code}/grid-leader": STAFF,
    "POST /api/v1/people/users/{user_id}/disable": STAFF,
    "POST /api/v1/people/users/{user_id}/enable": STAFF,
    "POST /api/v1/people/users/{user_id}/reset-password": STAFF,
    "POST /api/v1/people/users/{user_id}/roles": STAFF,
    "POST /api/v1/reference/categories": STAFF,
    "POST /api/v1/reference/categories/{code}/delete": STAFF,
    "POST /api/v1/reference/contractors": STAFF,
    "POST /api/v1/reference/contractors/{pk}/staff": STAFF,
    "POST /api/v1/staff-import/": STAFF,
    "POST /api/v1/staff-import/preview": STAFF,
    "PUT /api/v1/adjustments/limit": STAFF,
    "PUT /api/v1/reference/calendar/{year}": STAFF,
    "PUT /api/v1/reference/categories/{code}": STAFF,
    "PUT /api/v1/reference/contractors/{pk}": STAFF,
    "PUT /api/v1/reference/policies/{code}": STAFF,
}


# Distinctive texts of community A's objects: an outsider's page or answer must never contain them.
MARKERS = ["甄秘密", "秘案标记", "秘密活动标记", "秘密哨令标记", "秘密岗位标记"]
MISSING_INT = 987654321
MISSING_TEXT = "NOPE404"
MISSING_UUID = "00000000-0000-0000-0000-000000000000"
FIXED = {"action": "accept", "decision": "approve", "fmt": "json", "kind": "case-photo"}
FIXED_BY_ROUTE = {
    ("members/<int:pk>/<str:action>/", "action"): "approve",
    ("posts/<int:pk>/status/<str:action>/", "action"): "close",
    ("posts/claims/<int:pk>/<str:action>/", "action"): "confirm",
    ("activities/<int:pk>/do/<str:action>/", "action"): "check-in",
    ("activities/m/scan/<int:pk>/<str:action>/", "action"): "in",
    ("/api/v1/posts/{pk}/status/{action}", "action"): "close",
}
# (route pattern regex, parameter) → which object of community A fills it; None: no sample (a missing id).
OBJECTS = [
    (r"orgs/units/", "code", "unit"),
    (r"registration-points/", "code", "registration_point"),
    (r"^r/", "code", "registration_point"),
    (r"notice/", "code", "unit"),
    (r"members/import/", "pk", None),
    (r"members/", "pk", "member"),
    (r"posts/<int:pk>/invite/", "member_pk", "member"),
    (r"points/members/", "member_id", "member"),
    (r"extension", "pk", None),
    (r"open311/v2/services/", "code", None),
    (r"", "number", "case"),
    (r"prevention/points/", "code", "monitoring_point"),
    (r"rounds/", "pk", "round"),
    (r"rounds/", "round_id", "round"),
    (r"warnings/", "pk", None),
    (r"warnings/", "warning_id", None),
    (r"campaigns/", "pk", "campaign"),
    (r"campaigns/", "campaign_id", "campaign"),
    (r"posts/(claims|bulk)", "pk", None),
    (r"posts/", "pk", "post"),
    (r"catalogue/", "code", None),
    (r"activities/(calls|m/calls|party/calls)/", "pk", "call"),
    (r"activities/records/", "pk", "record"),
    (r"activities/signups/", "pk", None),
    (r"activities/", "pk", "activity"),
    (r"slots/", "slot_id", "slot"),
    (r"benefits/", "benefit_id", "benefit"),
    (r"files/", "pk", "case_photo"),
]


@pytest.fixture
def world(personas, settings, tmp_path):
    """One object of each kind in community A (where the personas' outsiders have no business)."""
    from cases.helpers import report
    from cases.helpers import upload as photo_upload
    from kangle.activities import services as activities
    from kangle.cases.defaults import seed
    from kangle.cases.models import CaseCategory, CasePhoto, Milestone, SlaPolicy
    from kangle.core.uploads import validate_image
    from kangle.members.constants import Channel, Status
    from kangle.members.models import Member
    from kangle.points import services as points
    from kangle.posts.models import ServiceAspect
    from kangle.prevention import services as prevention
    from kangle.prevention.models import PlaceType
    from posts.conftest import make_post
    from prevention.conftest import make_point

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    tree = personas.tree
    now = dt.datetime.now(dt.UTC)
    seed(SlaPolicy, Milestone, CaseCategory)
    termite = CaseCategory.objects.get(code="termite")
    member = Member.objects.create(
        community=tree.community_a,
        org=tree.microgrid_a,
        microgrid=tree.microgrid_a,
        user=personas.member,
        name="甄秘密",
        political_status="full",
        channel=Channel.PHONE,
        status=Status.APPROVED,
        registered_at=now,
    )
    photo = validate_image(photo_upload())
    case = report(personas, termite, now=now, photos=[photo])
    type(case).objects.filter(pk=case.pk).update(title="秘案标记")
    aspect = ServiceAspect.objects.get(code="convenience")
    activity = activities.activity_create(
        actor=personas.secretary_a,
        org=tree.community_a,
        aspect=aspect,
        title="秘密活动标记",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=2),
        capacity=5,
    )
    call = activities.call_create(
        actor=personas.secretary_a,
        org=tree.community_a,
        title="秘密哨令标记",
        place="康乐1小区",
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=2),
        people_needed=2,
        deadline=now + dt.timedelta(hours=20),
    )
    record = activities.record_self_report(
        actor=personas.member,
        title="助老",
        started_at=now - dt.timedelta(hours=3),
        minutes=60,
        aspect=aspect,
        photo=photo,
    )
    point = make_point(personas)
    inspection_round = prevention.round_open(actor=personas.secretary_a, org=tree.community_a)
    campaign = prevention.campaign_create(
        actor=personas.secretary_a,
        name="秘密巡查",
        org=tree.community_a,
        starts_on=now.date(),
        ends_on=now.date() + dt.timedelta(days=10),
        units=[tree.estate_a],
        team=[],
    )
    post = make_post(personas.secretary_a, tree.community_a, title="秘密岗位标记")
    benefit = points.benefit_create(
        actor=personas.secretary_a,
        org=tree.community_a,
        kind="resource",
        name="康乐活动室",
        resource_kind="room",
        venue=tree.venue_a,
        min_points=0,
        cost_points=0,
    )
    slot = points.slot_create(
        actor=personas.secretary_a,
        benefit=benefit,
        starts_at=now + dt.timedelta(days=3),
        ends_at=now + dt.timedelta(days=3, hours=1),
        capacity=2,
    )
    assert PlaceType.GREEN_BELT  # the point above is a green-belt bait station
    return {
        "unit": tree.community_a.code,
        "registration_point": tree.point_a.code,
        "member": member.pk,
        "case": case.number,
        "case_photo": CasePhoto.objects.get(case=case).pk,
        "activity": activity.pk,
        "call": call.pk,
        "record": record.pk,
        "monitoring_point": point.code,
        "round": inspection_round.pk,
        "campaign": campaign.pk,
        "post": post.pk,
        "benefit": benefit.pk,
        "slot": slot.pk,
    }


# --- walking the routes ---------------------------------------------------------------------------------
def page_routes() -> list[tuple[str, str]]:
    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
                yield name, prefix + str(pattern.pattern)

    return [
        (name, pattern)
        for name, pattern in walk(get_resolver().url_patterns)
        if not pattern.startswith(("admin/", "api/v1/", "^"))
    ]


def api_routes() -> list[tuple[str, str]]:
    from kangle.api import api

    schema = api.get_openapi_schema()
    return [(method.upper(), path) for path, operations in schema["paths"].items() for method in operations]


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\{(\w+)\}")


def fill(route: str, world: dict) -> tuple[str, str | None, bool]:
    """(path with A's objects, path with a missing object instead, whether an object of A is in it)."""
    owned, missing_used = False, False
    with_object, with_missing = route, route
    for match in PARAM.finditer(route):
        converter, name = match.group(1) or "", match.group(2) or match.group(3)
        fixed = FIXED_BY_ROUTE.get((route, name), FIXED.get(name))
        if fixed is not None:
            value = missing = fixed
        else:
            source = next(
                (obj for regex, param, obj in OBJECTS if param == name and re.search(regex, route)), None
            )
            absent = (
                MISSING_UUID
                if converter == "uuid"
                else (
                    str(MISSING_INT) if converter == "int" or name.endswith(("pk", "_id")) else MISSING_TEXT
                )
            )
            if source is not None:
                value, missing, owned = str(world[source]), absent, True
            else:
                value = missing = absent
                missing_used = True
        with_object = with_object.replace(match.group(0), value, 1)
        with_missing = with_missing.replace(match.group(0), missing, 1)
    del missing_used
    return "/" + with_object.lstrip("/"), ("/" + with_missing.lstrip("/")) if owned else None, owned


# --- calling -----------------------------------------------------------------------------------------------
def call(client: Client, method: str, path: str):
    if method == "GET":
        response = client.get(path)
        if response.status_code == 405:
            response = client.post(path)
        return response
    return client.generic(method, path, data="{}", content_type="application/json")


def code_of(response) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            body = response.json()
        except ValueError:
            return ""
        return body.get("code", "") if isinstance(body, dict) else ""
    return ""


def text_of(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    raw = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            return json.dumps(json.loads(raw), ensure_ascii=False)
        except ValueError:
            return raw
    return raw


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def check_html(label: str, response, problems: list[str]) -> None:
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        if "script-src 'self'" not in response.get("Content-Security-Policy", ""):
            problems.append(f"{label}: no content security policy")
        if INLINE_SCRIPT.search(text_of(response)):
            problems.append(f"{label}: inline script")


def test_every_route_is_classified():
    pages = {name for name, _ in page_routes()}
    api = {f"{method} {path}" for method, path in api_routes()}
    assert sorted(pages - set(PAGES)) == [], "unclassified page routes: decide who may call them"
    assert sorted(api - set(API)) == [], "unclassified API operations: decide who may call them"
    assert sorted(set(PAGES) - pages) == [] and sorted(set(API) - api) == [], "stale entries"


def test_permission_matrix(personas, world):
    other_street_admin = make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street)
    clients = {"anonymous": Client()}
    for label, user in {
        "other street": other_street_admin,
        "other community": personas.secretary_b,
        "member": personas.member,
        "resident": personas.resident,
        "contractor": personas.contractor,
    }.items():
        clients[label] = Client()
        clients[label].force_login(user)
    outsiders, phone_roles = ("other street", "other community"), ("member", "resident", "contractor")
    routes = [(PAGES[name], "GET", pattern) for name, pattern in page_routes()] + [
        (API[f"{method} {path}"], method, path) for method, path in api_routes()
    ]
    problems: list[str] = []
    counted = {"routes": len(routes), "with an object of A": 0, "requests": 0}
    for kind, method, route in routes:
        path, missing_path, owned = fill(route, world)
        counted["with an object of A"] += owned
        answers = {}
        for label, client in clients.items():
            if label in phone_roles and not (kind == STAFF and owned):
                continue
            response = call(client, method, path)
            counted["requests"] += 1
            answers[label] = response
            where = f"{method} {path} as {label}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
            check_html(where, response, problems)
        anonymous = answers["anonymous"]
        if kind != PUBLIC and 200 <= anonymous.status_code < 300:
            problems.append(f"{method} {path} as anonymous: {anonymous.status_code}")
        if kind == PUBLIC:
            continue
        for label in outsiders:
            response = answers[label]
            if owned:
                control = call(clients[label], method, missing_path)
                counted["requests"] += 1
                if (response.status_code, code_of(response)) != (control.status_code, code_of(control)):
                    problems.append(
                        f"{method} {path} as {label}: {response.status_code} {code_of(response)}, but "
                        f"{control.status_code} {code_of(control)} for a missing id"
                    )
                if 200 <= response.status_code < 300:
                    problems.append(f"{method} {path} as {label}: {response.status_code} on A's object")
            if response.status_code == 200:
                body = text_of(response)
                leaked = [marker for marker in MARKERS if marker in body]
                if leaked:
                    problems.append(f"{method} {path} as {label} shows {leaked}")
        if kind == STAFF and owned:
            for label in phone_roles:
                if 200 <= answers[label].status_code < 300:
                    problems.append(f"{method} {path} as {label}: {answers[label].status_code}")
    print(f"permission matrix: {counted}")
    assert counted["routes"] > 250 and counted["with an object of A"] > 100
    assert problems == []


# --- ids in request bodies --------------------------------------------------------------------------------
def test_ids_in_bodies_get_the_missing_answer(personas, world):
    """The secretary of community B, on her own activity and call, sends ids of community A's people and
    places in request bodies and query strings: each answer equals the answer for an id that does not exist,
    and names nothing of A's."""
    from kangle.activities import services as activities
    from kangle.posts.models import ServiceAspect

    tree = personas.tree
    now = dt.datetime.now(dt.UTC)
    own_activity = activities.activity_create(
        actor=personas.secretary_b,
        org=tree.community_b,
        aspect=ServiceAspect.objects.get(code="convenience"),
        title="桂林苑活动",
        starts_at=now + dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=2),
        capacity=5,
    )
    own_call = activities.call_create(
        actor=personas.secretary_b,
        org=tree.community_b,
        title="桂林苑哨令",
        place="桂林苑1小区",
        starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3),
        people_needed=2,
        deadline=now + dt.timedelta(minutes=50),
    )
    member, missing = world["member"], MISSING_INT
    probes = [
        ("POST", f"/api/v1/activities/{own_activity.pk}/staff-check-in", lambda pk: {"member": pk}),
        ("POST", f"/api/v1/activities/{own_activity.pk}/staff-check-out", lambda pk: {"member": pk}),
        ("POST", f"/api/v1/activities/calls/{own_call.pk}/group", lambda pk: {"member_ids": [pk]}),
        ("GET", "/api/v1/points/rankings", lambda unit: {"dimension": "community", "unit": unit}),
    ]
    client = Client()
    client.force_login(personas.secretary_b)
    problems = []
    for method, path, body in probes:
        values = (tree.community_a.code, MISSING_TEXT) if "rankings" in path else (member, missing)
        answers = []
        for value in values:
            if method == "GET":
                answers.append(client.get(path, body(value)))
            else:
                answers.append(client.post(path, body(value), content_type="application/json"))
        seen, control = answers
        if (seen.status_code, code_of(seen)) != (control.status_code, code_of(control)):
            problems.append(
                f"{path}: {seen.status_code} {code_of(seen)} vs {control.status_code} for a missing id"
            )
        if 200 <= seen.status_code < 300 or any(marker in text_of(seen) for marker in MARKERS):
            problems.append(f"{path}: accepted or named an id of community A")
    # The duplicate-case hint: the same address text in community B names no case of community A.
    from kangle.cases.models import Case

    address = Case.objects.get(number=world["case"]).address
    created = client.post(
        "/api/v1/cases/",
        {
            "category": "termite",
            "org": tree.estate_b.code,
            "channel": "walk_in",
            "title": "飞蚁",
            "resident_name": "李先生",
            "phone": "13812345678",
            "address": address,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    if world["case"] in created.json()["duplicates"]:
        problems.append("the duplicate hint named a case of community A")
    assert problems == []
