"""The one gate in front of workbench pages: signed in (else the login page) and staff (else 403).

Whether the object a page names is in the viewer's part of the tree is the page's own ``access_<entity>``
call (a 404 outside it); this decorator only says that the page is for staff at all.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def require_staff(request) -> None:
    """The same gate inside a view, for a path that only staff may take (403 for anyone else)."""
    if not getattr(request.user, "is_workbench_user", False):
        raise PermissionDenied


def staff_required(view):
    @wraps(view)
    def staff_only(request, *args, **kwargs):
        require_staff(request)
        return view(request, *args, **kwargs)

    return login_required(staff_only)
