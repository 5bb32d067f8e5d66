"""The one thing reports writes: a street's map base layer."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.roles import Role
from kangle.core.timeutil import resolve_now
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope
from kangle.reports.models import StreetSettings


def clean_tile_url(value: str) -> str:
    """An http(s) XYZ template with {z}, {x} and {y}; anything else (javascript:, data:, file:…) is refused."""
    url = (value or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(
            "invalid_tile_url", _("The tile URL must start with http:// or https://"), field="tile_url"
        )
    if not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise UserError(
            "invalid_tile_url", _("The tile URL needs the {z}, {x} and {y} placeholders"), field="tile_url"
        )
    if any(character in url for character in "\"'<> \\"):
        raise UserError(
            "invalid_tile_url", _("The tile URL contains characters that are not allowed"), field="tile_url"
        )
    return url


def street_settings_set(
    *,
    actor,
    street: OrgUnit,
    tile_url: str,
    attribution: str = "",
    sms_digest: bool = False,
    now: dt.datetime | None = None,
) -> StreetSettings:
    moment = resolve_now(now)
    if street.kind != OrgKind.STREET or not in_scope(actor, street.path):
        raise Http404
    if not (actor.is_superuser or actor.has_role(Role.STREET_ADMIN, within=street)):
        raise NotAllowed(_("Only the street admin sets the base map"))
    url = clean_tile_url(tile_url)
    attribution = (attribution or "").strip()[:200]
    with transaction.atomic():
        setting, _created = StreetSettings.objects.select_for_update().get_or_create(
            street=street, defaults={"updated_at": moment}
        )
        setting.tile_url, setting.attribution, setting.updated_at = url, attribution, moment
        setting.sms_digest = bool(sms_digest)
        setting.save(update_fields=["tile_url", "attribution", "sms_digest", "updated_at"])
        audit.record(
            actor=actor,
            verb="street_settings.set",
            obj=street,
            now=moment,
            details={"tile_url": url, "sms_digest": setting.sms_digest},
        )
    return setting
