import threading

import pytest
from django.db import connection

from kangle.members import services
from kangle.members.constants import Channel
from kangle.members.models import Member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_channels_registering_one_person_at_once_leave_one_file(personas):
    """The same phone arrives through the phone page and a desk at the same moment: one file, one refusal."""
    barrier = threading.Barrier(2)
    outcomes = []

    def register(actor, channel):
        try:
            barrier.wait()
            services.member_register(
                actor=actor,
                channel=channel,
                user=None,
                data={
                    "name": "同一人",
                    "phone": "13811112222",
                    "political_status": "full",
                    "community": personas.tree.community_a,
                },
            )
            outcomes.append("created")
        except services.DuplicateFile:
            outcomes.append("duplicate")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=register, args=(None, Channel.PHONE)),
        threading.Thread(target=register, args=(personas.secretary_a, Channel.DESK)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Member.objects.filter(phone_hash=Member.objects.get().phone_hash).count() == 1


def test_two_workers_anonymising_at_once_each_file_once(personas, settings):
    import datetime as dt

    from kangle.core.models import AuditEvent

    settings.KANGLE_MEMBER_RETENTION_DAYS = 30
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(20):
        member = services.member_register(
            actor=personas.secretary_a,
            channel=Channel.DESK,
            now=moment,
            data={
                "name": f"离开{i}",
                "phone": f"1380000{i:04d}",
                "political_status": "full",
                "community": personas.tree.community_a,
                "household": "王芳(配偶)",
            },
        ).member
        services.member_leave(actor=personas.secretary_a, member=member, now=moment)
    barrier = threading.Barrier(2)
    counts = []

    def run():
        try:
            barrier.wait()
            counts.append(services.anonymise_left_members(now=moment + dt.timedelta(days=31)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 20
    assert Member.objects.filter(anonymised_at__isnull=False).count() == 20
    assert sum(e.details["count"] for e in AuditEvent.objects.filter(verb="member.anonymise")) == 20
