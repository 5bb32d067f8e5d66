from kangle.core import navigation
from kangle.core.roles import PHONE_ROLES, Role


def roles(request):
    """The signed-in person's roles and navigation, for the base layouts."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": set()}
    user_roles = user.roles
    workbench = navigation.entries_for(user_roles, is_superuser=user.is_superuser, area="workbench")
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    return {
        "user_roles": user_roles,
        "Role": Role,
        "workbench_nav": workbench,
        "workbench_groups": navigation.grouped(workbench),
        "breadcrumb": navigation.breadcrumb(workbench, request.path, view_name),
        "phone_nav": navigation.entries_for(user_roles, is_superuser=False, area="phone"),
        "uses_phone_pages": bool(user_roles & PHONE_ROLES) and not user.is_workbench_user,
    }
