"""The demo data for 湖南街道 yields the article's figures through the analysis, from records alone."""

import pytest
from django.db.models import Count

from kangle import demo
from kangle.cases.models import Case, CaseStatus, Channel
from kangle.demo.prevention import DEMO_PERIOD
from kangle.orgs.models import OrgUnit
from kangle.prevention import analysis, selectors
from kangle.prevention.models import Campaign, MonitoringPoint, Reading, Warning

pytestmark = pytest.mark.django_db


def test_demo_gives_the_articles_figures():
    demo.build(
        scale="street",
        seed=2024,
        steps=[
            "kangle.demo.orgs.build",
            "kangle.demo.accounts.build",
            "kangle.demo.cases.build",
            "kangle.demo.prevention.build",
        ],
    )
    hunan = OrgUnit.objects.get(code="XH-HN")
    period = analysis.Period(*DEMO_PERIOD)
    result = analysis.analyse(hunan, period)
    assert result.count == 105
    assert (result.mom.earlier, result.mom.pct) == (150, -30)
    assert "共收到白蚁预警105例，环比下降30%" in result.brief
    assert "绝大多数" in result.brief and "集中在老旧房屋和绿化地带" in result.brief
    # Every warning is a record with a source: readings, residents' cases, the campaign and patrols.
    sources = dict(Warning.objects.filter(period.q()).values_list("source").annotate(n=Count("id")))
    assert sources == {"monitoring": 12, "resident_case": 20, "patrol": 73}
    assert MonitoringPoint.objects.count() == 6
    assert Reading.objects.filter(warning__isnull=False).count() == 30
    campaign = Campaign.objects.get()
    summary = selectors.campaign_summary(campaign)
    assert (summary["estates"], summary["lanes"]) == (89, 224)
    assert (summary["inspected"], summary["nests"], summary["treated"], summary["cases_closed"]) == (
        313,
        15,
        15,
        15,
    )
    assert campaign.team.count() == 5
    assert Case.objects.filter(channel=Channel.PREVENTION, status=CaseStatus.CLOSED).count() == 15
