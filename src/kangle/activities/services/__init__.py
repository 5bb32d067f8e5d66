"""Every write of activities, whistle calls and service records, one module per lifecycle.

Each service checks permission, locks what it must, writes, records its audit event and defers
notifications with ``transaction.on_commit``. Capacity and the waiting list are kept under a row lock on the
activity, so they hold exactly under concurrency; duplicates (a second check-in, a second answer) are
refused by unique constraints, which also hold under concurrency.

Callers use ``from kangle.activities import services`` and ``services.<name>``; the public names of the
modules are listed here.
"""

from kangle.activities.services.activities import (
    activity_cancel,
    activity_create,
    activity_set_beneficiaries,
)
from kangle.activities.services.attendance import (
    attendance_check_in,
    attendance_check_out,
    attendance_scan,
    present_minutes,
)
from kangle.activities.services.calls import (
    CollectiveListError,
    call_close,
    call_create,
    response_collective,
    response_create,
    response_grid,
)
from kangle.activities.services.records import (
    award_evidence,
    award_request,
    award_reverse,
    record_reject,
    record_self_report,
    record_staff_enter,
    record_verify,
)
from kangle.activities.services.shared import (
    AWARD_SOURCE_TYPE,
    CHECK_IN_OPENS,
    CHECK_OUT_CLOSES,
    reaches,
)
from kangle.activities.services.signups import (
    party_org_of,
    signup_cancel,
    signup_create,
    signup_household,
    signup_team,
)

__all__ = [
    "AWARD_SOURCE_TYPE",
    "CHECK_IN_OPENS",
    "CHECK_OUT_CLOSES",
    "CollectiveListError",
    "activity_cancel",
    "activity_create",
    "activity_set_beneficiaries",
    "attendance_check_in",
    "attendance_check_out",
    "attendance_scan",
    "award_evidence",
    "award_request",
    "award_reverse",
    "call_close",
    "call_create",
    "party_org_of",
    "present_minutes",
    "reaches",
    "record_reject",
    "record_self_report",
    "record_staff_enter",
    "record_verify",
    "response_collective",
    "response_create",
    "response_grid",
    "signup_cancel",
    "signup_create",
    "signup_household",
    "signup_team",
]
