"""The JSON API under /api/v1/: one NinjaAPI, a router per app, one error format.

Authentication: a browser session (with CSRF for writes) or `Authorization: Bearer <token>` issued by a
street admin. Errors are JSON: {"code": ..., "message": "<中文>", "message_en": "<English>"}.
"""

from __future__ import annotations

import functools
import json
import logging
import threading

from django.core.exceptions import PermissionDenied
from django.core.signals import got_request_exception
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth
from pydantic import BaseModel

from kangle.accounts.api import router as accounts_router
from kangle.accounts.services import token_authenticate
from kangle.activities.api import router as activities_router
from kangle.cases.api import router as cases_router
from kangle.cases.reference_api import router as reference_router
from kangle.core.errors import UserError
from kangle.core.renderers import ORJSONRenderer
from kangle.drills.api import router as drills_router
from kangle.members.api import router as members_router
from kangle.members.party_api import router as party_orgs_router
from kangle.members.staff_import_api import router as staff_import_router
from kangle.orgs.api import router as orgs_router
from kangle.people.api import router as people_router
from kangle.people.audit_api import router as audit_router
from kangle.points.adjustments_api import router as adjustments_router
from kangle.points.api import router as points_router
from kangle.posts.api import router as posts_router
from kangle.prevention.api import router as prevention_router
from kangle.recognition.api import router as recognition_router

logger = logging.getLogger("kangle.api")

# Every integer column is a signed 64-bit one; a list is never paged deeper than this.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
PAGING_MAX = 10**12
PAGING_SOURCE = "ninja_pagination"
OUT_OF_RANGE = "数值超出范围 / number out of range"
NOT_AN_OBJECT = "请求体必须是 JSON 对象 / the request body must be a JSON object"


class TokenAuth(HttpBearer):
    """A request that brings a Bearer header is judged by it alone: a malformed or unknown token is a 401,
    never a fall-through to the session check (which would answer a CSRF 403). Other schemes (a proxy's
    Basic login, say) are left to the session."""

    def __call__(self, request):
        if not request.headers.get("Authorization", "").lower().startswith("bearer"):
            return None
        user = super().__call__(request)
        if not user:
            raise AuthenticationError()
        return user

    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
            request.kangle_token_auth = True
        return user


class KangleAPI(NinjaAPI):
    """The NinjaAPI with its OpenAPI document built once per process (it only changes with the code)."""

    _schema_lock = threading.Lock()

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        cache = self.__dict__.setdefault("_schema_cache", {})
        if key not in cache:
            with self._schema_lock:
                if key not in cache:
                    cache[key] = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return cache[key]


def _out_of_range(value, location: tuple) -> list[tuple]:
    """Where in a validated input an integer lies outside what the database can hold."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        paging = location[:1] == (PAGING_SOURCE,)
        low, high = (0, PAGING_MAX) if paging else (INT64_MIN, INT64_MAX)
        return [location] if not low <= value <= high else []
    if isinstance(value, BaseModel):
        return [
            found
            for name in type(value).model_fields
            for found in _out_of_range(getattr(value, name, None), (*location, name))
        ]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _out_of_range(item, (*location, str(key)))]
    if isinstance(value, list | tuple | set | frozenset):
        return [
            found for index, item in enumerate(value) for found in _out_of_range(item, (*location, index))
        ]
    return []


def _body_is_not_an_object(request, values: dict) -> bool:
    """An operation that reads a schema from a JSON body got a number, string or array instead (ninja's
    schemas read attributes, so such a body would otherwise pass with every field at its default)."""
    if not any(isinstance(value, BaseModel) for value in values.values()):
        return False
    # Only JSON bodies: a multipart upload's stream has been read already and is not ours to re-read.
    if request.method in ("GET", "HEAD") or not (request.content_type or "").endswith("json"):
        return False
    try:
        return bool(request.body) and not isinstance(json.loads(request.body), dict)
    except ValueError:
        return False


def checked_input(view):
    """Applied to every operation after ninja validated its input: the checks pydantic's types cannot
    express here, each a 422 in the API's error format."""

    @functools.wraps(view)
    def run(request, *args, **values):
        if _body_is_not_an_object(request, values):
            raise ValidationError([{"loc": ("body",), "msg": NOT_AN_OBJECT, "type": "object_type"}])
        too_large = [found for name, value in values.items() for found in _out_of_range(value, (name,))]
        if too_large:
            raise ValidationError(
                [{"loc": loc, "msg": OUT_OF_RANGE, "type": "int_range"} for loc in too_large]
            )
        return view(request, *args, **values)

    return run


api = KangleAPI(
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
            str(part)
            for part in error.get("loc", [])
            if part not in ("body", "query", "path", "payload", PAGING_SOURCE)
        ]
        fields.append({"field": ".".join(location), "problem": error.get("msg", "")})
    names = "、".join(item["field"] for item in fields if item["field"])
    return _error(
        request,
        422,
        "invalid_input",
        f"输入有误：{names or '请求'}",
        f"Invalid input: {names.replace('、', ', ') or 'request'}",
        fields=fields,
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "error", str(exc), str(exc))


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return _error(request, 403, "forbidden", "没有权限执行此操作", "You may not do this")


@api.exception_handler(Exception)
def server_error(request, exc: Exception):
    """Anything unexpected: logged with its traceback (and signalled, as Django does for pages), and
    answered in the API's JSON format rather than an HTML page."""
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    got_request_exception.send(sender=None, request=request)
    return _error(
        request,
        500,
        "server_error",
        "服务器内部错误，请稍后再试；问题已记录",
        "Internal server error; it has been logged, please try again later",
    )


ROUTERS = (
    ("/accounts", accounts_router),
    ("/orgs", orgs_router),
    ("/people", people_router),
    ("/audit", audit_router),
    ("/members", members_router),
    ("/party-orgs", party_orgs_router),
    ("/staff-import", staff_import_router),
    ("/cases", cases_router),
    ("/reference", reference_router),
    ("/prevention", prevention_router),
    ("/drills", drills_router),
    ("/activities", activities_router),
    ("/posts", posts_router),
    ("/points", points_router),
    ("/adjustments", adjustments_router),
    ("/recognition", recognition_router),
)
for prefix, router in ROUTERS:
    router.add_decorator(checked_input, mode="operation")
    api.add_router(prefix, router)
