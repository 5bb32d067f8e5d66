"""The audit-log pages: filter, detail, Excel export (itself audited), who looked at whose personal data."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from kangle.core.exports import export_workbook, xlsx_response
from kangle.core.timeutil import local
from kangle.people import audit_log
from kangle.people.forms import AuditFilterForm

EXPORT_LIMIT = 20000


def _spec(request, *, personal_data: bool = False) -> audit_log.AuditFilter:
    data = AuditFilterForm(request.GET).filters()
    return audit_log.AuditFilter(
        person=data["person"],
        action=data["action"],
        object_type=data["object_type"],
        object_id=data["object_id"],
        org_code=data["org"],
        since=data["since"],
        until=data["until"],
        personal_data=personal_data or bool(data["personal_data"]),
    )


@login_required
def audit_list(request, personal_data: bool = False):
    spec = _spec(request, personal_data=personal_data)
    rows = audit_log.filtered(request.user, spec)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/audit_list.html",
        {"page": page, "spec": spec, "query": query.urlencode(), "personal_data": personal_data},
    )


@login_required
def audit_detail(request, event_id):
    event = audit_log.access_event(request.user, event_id)
    details = json.dumps(event.details, ensure_ascii=False, indent=2, default=str)
    return render(request, "people/audit_detail.html", {"event": event, "details": details})


@login_required
def audit_export(request):
    spec = _spec(request)
    rows = audit_log.filtered(request.user, spec)[:EXPORT_LIMIT]
    if not rows and not audit_log.events_for(request.user).exists():
        raise Http404
    headers = ["时间", "操作人", "动作", "对象类型", "对象编号", "对象", "组织路径", "详情"]
    body = (
        [
            local(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor.username if e.actor else "",
            e.verb,
            e.object_type,
            e.object_id,
            e.object_repr,
            e.org_path,
            json.dumps(e.details, ensure_ascii=False, default=str)[:2000],
        ]
        for e in rows
    )
    content = export_workbook(
        actor=request.user,
        verb="audit.export",
        object_type="core.auditevent",
        sheets=[("审计日志", headers, body)],
        org_path=audit_log.common_path(request.user),
        details={"filters": {k: v for k, v in request.GET.items()}},
    )
    return xlsx_response(content, "audit.xlsx")
