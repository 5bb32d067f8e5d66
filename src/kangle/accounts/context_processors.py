from kangle.core import navigation
from kangle.core.roles import PHONE_ROLES, Role


def roles(request):
    """The signed-in person's roles and navigation, for the base layouts."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": set()}
    user_roles = user.roles
    return {
        "user_roles": user_roles,
        "Role": Role,
        "workbench_nav": navigation.entries_for(user_roles, is_superuser=user.is_superuser, area="workbench"),
        "phone_nav": navigation.entries_for(user_roles, is_superuser=False, area="phone"),
        "uses_phone_pages": bool(user_roles & PHONE_ROLES) and not user.is_workbench_user,
    }
