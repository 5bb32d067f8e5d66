"""Demo logins, one (or two) per role, printed by `kangle up`. The password is DEMO_PASSWORD.

They are created through the same service the people pages use (``kangle.people.services.account_create``),
by the system, with the demo password instead of a one-time code.
"""

from __future__ import annotations

from kangle.core.roles import Role
from kangle.demo import DEMO_PASSWORD
from kangle.orgs.models import OrgUnit
from kangle.people.services import account_create

# username, role, org code, what to print
DEMO_ACCOUNTS = [
    ("kj_admin", Role.STREET_ADMIN, "XH-KJ", "康健街道"),
    ("kj_area", Role.AREA_ADMIN, "KJ-A1", "康健街道第一片区"),
    ("kj_sec_a", Role.COMMUNITY_SECRETARY, "KJ-C01", "康乐居民区"),
    ("kj_sec_b", Role.COMMUNITY_SECRETARY, "KJ-C08", "南方居民区，第二片区"),
    ("kj_grid", Role.GRID_LEADER, "KJ-C01-E1-G1", "康乐居民区1小区第1网格"),
    ("kj_member", Role.MEMBER, "KJ-C01", "康乐居民区"),
    ("kj_employer", Role.EMPLOYER_PARTY_ORG, "XH-KJ", "康健街道"),
    ("hn_admin", Role.STREET_ADMIN, "XH-HN", "湖南街道"),
    ("hn_desk", Role.AREA_ADMIN, "HN-A3", "湖南街道武康片区民情快办工作站"),
    ("hn_contractor", Role.CONTRACTOR, "XH-HN", "湖南街道白蚁防治"),
    ("hn_resident", Role.RESIDENT, "HN-C08", "东湖居民区，武康片区"),
]
DEMO_LOGINS = [(username, Role(role).label, where) for username, role, _, where in DEMO_ACCOUNTS]


def build(ctx) -> None:
    units = {
        unit.code: unit for unit in OrgUnit.objects.filter(code__in={code for _, _, code, _ in DEMO_ACCOUNTS})
    }
    for username, role, code, where in DEMO_ACCOUNTS:
        issued = account_create(
            actor=None,
            username=username,
            display_name=ctx.faker.name(),
            phone=f"139{ctx.rng.randint(10000000, 99999999)}",
            role=role,
            org=units[code],
            initial_password=DEMO_PASSWORD,
        )
        ctx.refs[f"user:{username}"] = issued.user
        ctx.logins.append((username, str(Role(role).label), where))
    ctx.summary["users"] = len(DEMO_ACCOUNTS)
