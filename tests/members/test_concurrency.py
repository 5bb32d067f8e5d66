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
