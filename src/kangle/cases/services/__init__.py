"""Every change to a case, by lifecycle: intake, dispatch, the visit, finishing (feedback, rework, close),
holding the clocks (pause, resume, extension, cancel); ``clocks`` stores the SLA clocks and ``common`` holds
what every step shares.

Each service checks permission, locks the case row, checks the transition against ``TRANSITIONS``, writes
the change, a timeline event (``CaseEvent``) and an audit event, and writes its notices in the same
transaction. Callers use ``from kangle.cases import services`` and ``services.<name>``.
"""

from kangle.cases.services.clocks import (
    clocks_start,
    clocks_start_rework,
    milestone_escalation_at,
    milestone_warn_at,
)
from kangle.cases.services.common import (
    TRANSITIONS,
    desk_users,
    escalation_recipients,
    users_notify,
)
from kangle.cases.services.dispatch import (
    case_accept,
    case_contractor_accept,
    case_dispatch,
    case_return,
    default_contractor,
)
from kangle.cases.services.finish import case_close, case_feedback, case_finish, case_rework
from kangle.cases.services.hold import (
    MAX_EXTENSION_HOURS,
    case_cancel,
    case_pause,
    case_resume,
    extension_decide,
    extension_request,
)
from kangle.cases.services.intake import (
    MAX_DESCRIPTION,
    address_key,
    case_number_next,
    case_report,
    duplicate_numbers,
    open_duplicates,
)
from kangle.cases.services.visit import (
    MAX_SLOT_HOURS,
    case_book,
    case_check_in,
    case_contact,
    case_record_step,
    case_reveal_contact,
)

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_EXTENSION_HOURS",
    "MAX_SLOT_HOURS",
    "TRANSITIONS",
    "address_key",
    "case_accept",
    "case_book",
    "case_cancel",
    "case_check_in",
    "case_close",
    "case_contact",
    "case_contractor_accept",
    "case_dispatch",
    "case_feedback",
    "case_finish",
    "case_number_next",
    "case_record_step",
    "case_report",
    "case_return",
    "case_reveal_contact",
    "case_pause",
    "case_resume",
    "case_rework",
    "clocks_start",
    "clocks_start_rework",
    "default_contractor",
    "desk_users",
    "escalation_recipients",
    "extension_decide",
    "extension_request",
    "milestone_escalation_at",
    "milestone_warn_at",
    "duplicate_numbers",
    "open_duplicates",
    "users_notify",
]
