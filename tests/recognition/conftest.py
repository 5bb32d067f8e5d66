from points.conftest import (  # noqa: F401 - shared fixtures
    _fast_passwords,
    household_a,
    member_a,
    member_b,
    party_org,
    rule,
)
