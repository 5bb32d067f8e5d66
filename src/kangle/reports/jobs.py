"""New work reaches staff: one inbox notice when their to-do grows, and — if their street chose it — one
text a day summing the to-do up. Never one text per item.

Run by `kangle worker` every few minutes. Each person's state row is updated compare-and-set, so two workers
running the job at once send each notice and each day's digest once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override, pgettext

from kangle.accounts.models import RoleAssignment, User
from kangle.core import todo
from kangle.core.roles import STAFF_ROLES
from kangle.core.timeutil import resolve_now
from kangle.notify.services import notify_user, queue_sms
from kangle.reports import geo
from kangle.reports.models import StreetSettings, TodoState

logger = logging.getLogger("kangle.reports.todo")
# The digest goes out from this local hour on (people read it at the start of the working day).
DIGEST_HOUR = 8


def todo_notices(*, now: dt.datetime | None = None, **_kwargs) -> dict:
    moment = resolve_now(now)
    local = timezone.localtime(moment)
    staff_ids = (
        RoleAssignment.objects.filter(role__in=STAFF_ROLES, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    digest_streets = set(StreetSettings.objects.filter(sms_digest=True).values_list("street_id", flat=True))
    told = texted = 0
    for user in User.objects.filter(pk__in=staff_ids).order_by("pk"):
        # Written in the person's own language.
        with override(user.language or settings.LANGUAGE_CODE):
            lines = todo.lines_for(user, now=moment)
            counts = {line.key: line.count for line in lines}
            with transaction.atomic():
                state, created = TodoState.objects.select_for_update().get_or_create(
                    user=user, defaults={"counts": counts, "checked_at": moment}
                )
                previous = {} if created else state.counts
                grown = [line for line in lines if line.count > previous.get(line.key, 0)]
                state.counts, state.checked_at = counts, moment
                state.save(update_fields=["counts", "checked_at"])
                if grown:
                    notify_user(
                        recipient=user,
                        title=_("New work waiting for you"),
                        body=_counts(grown),
                        link="/",
                        now=moment,
                    )
                    told += 1
                street = geo.street_of_user(user)
                wants_digest = street is not None and street.pk in digest_streets and user.phone
                if wants_digest and lines and local.hour >= DIGEST_HOUR and state.digest_on != local.date():
                    state.digest_on = local.date()
                    state.save(update_fields=["digest_on"])
                    summary = _counts(lines)
                    queue_sms(
                        phone=user.phone,
                        text=_("Your to-do today: %(summary)s") % {"summary": summary},
                        reference=f"todo-digest:{user.pk}:{local.date()}",
                        now=moment,
                    )
                    texted += 1
    result = {"notified": told, "digests": texted}
    if told or texted:
        logger.info("to-do notices: %s", result)
    return result


def _counts(lines) -> str:
    return pgettext("list separator", "; ").join(f"{line.label} {line.count_text}" for line in lines)
