from kangle.core import navigation
from kangle.core.roles import PHONE_ROLES, Role

LARGE_TYPE_COOKIE = "kangle_large_type"  # written by accounts.views.text_size


def large_type(request) -> bool:
    """大字版: the person's own setting once logged in, the device's cookie before."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.large_type
    return request.COOKIES.get(LARGE_TYPE_COOKIE) == "1"


def roles(request):
    """The signed-in person's roles and navigation, for the base layouts."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": set(), "large_type": large_type(request)}
    user_roles = user.roles
    workbench = navigation.entries_for(user_roles, is_superuser=user.is_superuser, area="workbench")
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    return {
        "large_type": user.large_type,
        "phone_tabs": navigation.phone_tabs(user_roles),
        "user_roles": user_roles,
        "Role": Role,
        "workbench_nav": workbench,
        "workbench_groups": navigation.grouped(workbench),
        # What the groups are made from, so their markup can be kept per key (``html_parts.workbench_nav``).
        "workbench_key": navigation.answers_key(user_roles, is_superuser=user.is_superuser, area="workbench"),
        "breadcrumb": navigation.breadcrumb(workbench, request.path, view_name),
        "phone_nav": navigation.entries_for(user_roles, is_superuser=False, area="phone"),
        "uses_phone_pages": bool(user_roles & PHONE_ROLES) and not user.is_workbench_user,
    }
