"""Deterministic demo data: `kangle demo [--scale street|district|city] [--seed N]`, and `kangle up`.

The generator is shared with bench/: every benchmark builds its data here at a stated scale. Each step is
a module with ``build(ctx)``; later parts of the product add their step to ``STEPS``. Names come from
Faker's zh_CN provider and invented place names — never real people's data.
"""

from __future__ import annotations

import random
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


def build(*, scale: str = "street", seed: int = 2024, steps: list[str] | None = None) -> DemoContext:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    ctx = DemoContext(scale=scale, seed=seed, rng=random.Random(seed), faker=faker)
    with transaction.atomic():
        for path in steps or STEPS:
            import_string(path)(ctx)
    # After the commit: the services queue their texts in on-commit callbacks, which have run by now.
    _settle_history()
    return ctx


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
