"""The JSON API under /api/v1/: one NinjaAPI, a router per app, one error format.

Authentication: a browser session (with CSRF for writes) or `Authorization: Bearer <token>` issued by a
street admin. Errors are JSON: {"code": ..., "message": "<中文>", "message_en": "<English>"}.
"""

from __future__ import annotations

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from kangle.accounts.api import router as accounts_router
from kangle.accounts.services import token_authenticate
from kangle.activities.api import router as activities_router
from kangle.cases.api import router as cases_router
from kangle.core.errors import UserError
from kangle.core.renderers import ORJSONRenderer
from kangle.members.api import router as members_router
from kangle.orgs.api import router as orgs_router
from kangle.points.api import router as points_router
from kangle.posts.api import router as posts_router
from kangle.prevention.api import router as prevention_router
from kangle.recognition.api import router as recognition_router


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
            request.kangle_token_auth = True
        return user


api = NinjaAPI(
    title="kangle API",
    version="1",
    description="康乐吾家 · 民情快办 — everything a page can do. Errors: {code, message (中文), message_en}.",
    urls_namespace="api",
    auth=[TokenAuth(), django_auth],
    docs_url="/docs",
    renderer=ORJSONRenderer(),
)


def _error(request, status: int, code: str, zh: str, en: str, **extra):
    return api.create_response(
        request, {"code": code, "message": zh, "message_en": en, **extra}, status=status
    )


@api.exception_handler(UserError)
def user_error(request, exc: UserError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(
        request, 404, "not_found", "未找到，或不在您的管辖范围内", "Not found, or outside your scope"
    )


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return _error(
        request,
        401,
        "unauthorized",
        "需要登录或有效的 API 令牌",
        "A session or a valid API token is required",
    )


@api.exception_handler(ValidationError)
def invalid_input(request, exc: ValidationError):
    fields = []
    for error in exc.errors:
        location = [
            str(part) for part in error.get("loc", []) if part not in ("body", "query", "path", "payload")
        ]
        fields.append({"field": ".".join(location), "problem": error.get("msg", "")})
    names = "、".join(item["field"] for item in fields if item["field"]) or "请求"
    return _error(
        request,
        422,
        "invalid_input",
        f"输入有误：{names}",
        f"Invalid input: {names.replace('、', ', ')}",
        fields=fields,
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "error", str(exc), str(exc))


api.add_router("/accounts", accounts_router)
api.add_router("/orgs", orgs_router)
api.add_router("/members", members_router)
api.add_router("/cases", cases_router)
api.add_router("/prevention", prevention_router)
api.add_router("/activities", activities_router)
api.add_router("/posts", posts_router)
api.add_router("/points", points_router)
api.add_router("/recognition", recognition_router)
