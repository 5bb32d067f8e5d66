"""The workbench's one search box: members by name or phone, cases by number or address, within scope.

Phones and addresses are encrypted at rest, so they are matched exactly through their keyed hashes (after the
same normalisation the services apply when they store them); names and case numbers match by substring.
Every lookup goes through the ORM with parameters, so the text typed is data, never SQL or markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kangle.cases import selectors as case_selectors
from kangle.cases.models import Case, CaseCategory
from kangle.cases.services import address_key
from kangle.core.crypto import blind_index
from kangle.core.text import normalise_phone, normalise_text
from kangle.members import selectors as member_selectors
from kangle.members.models import Member

MAX_QUERY = 50
LIMIT = 20


@dataclass
class Results:
    query: str
    members: list[Member] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.members or self.cases)


def search(user, raw: str) -> Results:
    query = normalise_text(raw or "")[:MAX_QUERY].strip()
    results = Results(query=query)
    if not query:
        return results
    phone = normalise_phone(query)
    members = member_selectors.members_for(user).defer("id_number", "address")
    if phone and phone.isdigit() and len(phone) >= 11:
        members = members.filter(phone_hash=blind_index(phone))
    else:
        members = members.filter(name__icontains=query)
    results.members = list(members.order_by("name", "pk")[:LIMIT])

    keys = [key for key in (address_key(category, query) for category in CaseCategory.objects.all()) if key]
    cases = case_selectors.staff_cases(user).select_related("category", "org")
    by_number = cases.filter(number__icontains=query.upper()[:20])
    by_address = cases.filter(address_hash__in=keys) if keys else cases.none()
    results.cases = list((by_number | by_address).order_by("-reported_at", "-id")[:LIMIT])
    return results
