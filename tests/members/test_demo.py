import pytest
from django.db.models import Count

from kangle import demo
from kangle.members.constants import Channel, Status
from kangle.members.models import ExpectedCount, Member, MemberWillingness

pytestmark = pytest.mark.django_db


def test_street_demo_has_about_2000_members_over_every_channel_and_point():
    # The tree, the logins and the member files (later steps add files of their own, e.g. the story's).
    ctx = demo.build(scale="street", seed=7, steps=demo.STEPS[:3])
    kangjian = Member.objects.filter(community__path__startswith=ctx.refs["street:KJ"].path)
    assert ctx.summary["members"] == kangjian.count() == 2000
    channels = dict(kangjian.values_list("channel").annotate(n=Count("pk")).order_by())
    assert set(channels) == set(Channel.values) and min(channels.values()) > 100
    assert kangjian.exclude(point=None).values("point").distinct().count() >= 25
    assert kangjian.filter(microgrid__isnull=False).count() == 2000
    assert kangjian.filter(skills__isnull=False).distinct().count() > 1000
    assert MemberWillingness.objects.filter(member__in=kangjian).values("aspect").distinct().count() == 9
    assert kangjian.exclude(availability=0).count() == 2000
    assert ExpectedCount.objects.count() == ctx.summary["expected_microgrids"] > 200
    mine = Member.objects.get(user=ctx.refs["user:kj_member"])
    assert mine.status == Status.APPROVED and mine.community.code == "KJ-C01"
