"""Deterministic demo data: `kangle demo [--scale street|district|city] [--seed N]`, and `kangle up`.

The generator is shared with bench/: every benchmark builds its data here at a stated scale. Each step is
a module with ``build(ctx)``; later parts of the product add their step to ``STEPS``. Names come from
Faker's zh_CN provider and invented place names — never real people's data.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string
from faker import Faker

SCALES = ("street", "district", "city")
STREET_CODE = "XH-KJ"  # 康健街道
DEMO_PASSWORD = "kangle-demo"  # noqa: S105 - printed by `kangle up`; demo databases only

# Each step's build(ctx) runs in this order, inside one transaction.
STEPS = [
    "kangle.demo.orgs.build",
    "kangle.demo.accounts.build",
    "kangle.demo.members.build",
    # Before activities: its verified service records earn points under the rule this step creates.
    "kangle.demo.points.build",
    "kangle.demo.cases.build",
    "kangle.demo.prevention.build",
    "kangle.demo.posts.build",
    "kangle.demo.activities.build",
    "kangle.demo.loops.build",  # the care-home drill, a spraying round, a reworked case
    # Last: the week up to today, relative to the day the demo is built (see recent.py).
    "kangle.demo.recent.build",
]


@dataclass
class DemoContext:
    scale: str
    seed: int
    rng: random.Random
    faker: Faker
    # Named objects later steps need ("street:KJ", "user:kj_sec_a", …).
    refs: dict[str, Any] = field(default_factory=dict)
    # (username, role label, where) for the printed list of logins.
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)


# What the progress bar says while each step runs (steps added later fall back to their module name).
STEP_LABELS = {
    "kangle.demo.orgs.build": "组织架构 / organisation tree",
    "kangle.demo.accounts.build": "演示账号 / demo logins",
    "kangle.demo.members.build": "党员档案 / member files",
    "kangle.demo.points.build": "积分 / points",
    "kangle.demo.cases.build": "民情快办 / cases",
    "kangle.demo.prevention.build": "白蚁防治 / termite prevention",
    "kangle.demo.posts.build": "服务岗位 / service posts",
    "kangle.demo.activities.build": "活动与吹哨 / activities and calls",
    "kangle.demo.recent.build": "近期动态 / recent activity",
}
# A fast hasher while the demo's accounts are made; they all get one real hash of DEMO_PASSWORD at the end.
_BUILD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def step_label(path: str) -> str:
    return STEP_LABELS.get(path, path.rsplit(".", 2)[-2])


def build(
    *,
    scale: str = "street",
    seed: int = 2024,
    steps: list[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> DemoContext:
    """Build the demo. ``progress(done, total, label)`` is called before each step and once at the end."""
    from django.test.utils import override_settings

    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    ctx = DemoContext(scale=scale, seed=seed, rng=random.Random(seed), faker=faker)
    paths = steps or STEPS
    with _quiet_sweep(), override_settings(PASSWORD_HASHERS=_BUILD_HASHERS), transaction.atomic():
        for index, path in enumerate(paths):
            if progress is not None:
                progress(index, len(paths), step_label(path))
            import_string(path)(ctx)
    _real_password_hashes()
    # After the commit: the services queue their texts in on-commit callbacks, which have run by now.
    _settle_history()
    if progress is not None:
        progress(len(paths), len(paths), "完成 / done")
    return ctx


@contextmanager
def _quiet_sweep():
    """The demo replays the SLA sweep hundreds of times; its per-run log lines would bury the progress bar."""
    sweep_logger = logging.getLogger("kangle.cases.sla")
    level = sweep_logger.level
    sweep_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        sweep_logger.setLevel(level)


def _real_password_hashes() -> None:
    """Give every account made with the build's fast hasher one real (Argon2) hash of its password.

    Hashing once instead of per account is most of what the accounts step cost; each account still verifies
    with the password it was made with, and one made with another password gets its own hash."""
    from django.contrib.auth.hashers import check_password, make_password

    from kangle.accounts.models import User

    fast = User.objects.filter(password__startswith="md5$")  # noqa: S106 - a hash prefix, not a password
    shared = make_password(DEMO_PASSWORD)
    with _fast_hasher_known():
        matching = [
            pk for pk, hashed in fast.values_list("pk", "password") if check_password(DEMO_PASSWORD, hashed)
        ]
    User.objects.filter(pk__in=matching).update(password=shared)
    for user in fast.exclude(pk__in=matching):
        # Not the demo password: such an account cannot be logged into until an admin sets a password.
        User.objects.filter(pk=user.pk).update(password=make_password(None))


def _fast_hasher_known():
    from django.conf import settings
    from django.test.utils import override_settings

    return override_settings(PASSWORD_HASHERS=[*_BUILD_HASHERS, *settings.PASSWORD_HASHERS])


def _settle_history() -> None:
    """The demo replays months of history through the services; the texts and e-mails they queued belong to
    that past, so they are recorded as sent when they were written instead of going out on first start."""
    from django.db.models import F

    from kangle.notify.models import OutboxMessage, OutboxStatus

    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(
        status=OutboxStatus.SENT, sent_at=F("created_at")
    )


def logins_text() -> str:
    from kangle.demo.accounts import DEMO_LOGINS

    lines = [f"演示账号 / demo logins (密码 password: {DEMO_PASSWORD})"]
    for username, label, where in DEMO_LOGINS:
        lines.append(f"  {username:<16} {label}（{where}）")
    return "\n".join(lines)
