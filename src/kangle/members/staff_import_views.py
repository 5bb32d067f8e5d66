"""The staff-list import page: upload, preview with per-row errors, then create all accounts or none."""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from kangle.core.errors import UserError
from kangle.members import staff_import
from kangle.members.spreadsheets import check_size
from kangle.people.permissions import can_manage_people

# The previewed file waits in the session (small staff lists) until the person confirms it.
SESSION_KEY = "kangle_staff_import"


@login_required
def staff_import_page(request):
    if not can_manage_people(request.user):
        raise Http404
    context: dict = {}
    status = 200
    try:
        if request.method == "POST" and "commit" in request.POST:
            pending = request.session.get(SESSION_KEY)
            if not pending:
                raise UserError("nothing_to_import", _("Upload and preview a file first"), field="file")
            content = base64.b64decode(pending["content"])
            context["issued"] = staff_import.staff_import_commit(
                actor=request.user, content=content, filename=pending["filename"]
            )
            request.session.pop(SESSION_KEY, None)
        elif request.method == "POST":
            upload = request.FILES.get("file")
            if upload is None:
                raise UserError("no_file", _("Choose a file"), field="file")
            check_size(upload.size)
            content = upload.read()
            rows = staff_import.staff_import_preview(
                actor=request.user, content=content, filename=upload.name
            )
            context["rows"] = rows
            context["has_errors"] = any(row.errors for row in rows)
            if not context["has_errors"]:
                request.session[SESSION_KEY] = {
                    "content": base64.b64encode(content).decode("ascii"),
                    "filename": upload.name,
                }
            else:
                request.session.pop(SESSION_KEY, None)
                status = 400
    except UserError as exc:
        context["error"] = str(exc)
        status = exc.status if exc.status != 403 else 400
    return render(request, "members/staff_import.html", context, status=status)
