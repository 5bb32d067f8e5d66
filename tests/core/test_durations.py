"""Clock durations speak the page's language: a case's "3 h left" was Chinese on English pages too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from kangle.core.timeutil import humanise_duration

CASES = [
    (dt.timedelta(days=1, hours=3, minutes=20), "1天3小时", "1 d 3 h"),
    (dt.timedelta(days=2, minutes=5), "2天", "2 d"),
    (dt.timedelta(hours=5, minutes=45), "5小时45分钟", "5 h 45 min"),
    (dt.timedelta(hours=2), "2小时", "2 h"),
    (dt.timedelta(minutes=45, seconds=30), "45分钟", "45 min"),
    (dt.timedelta(seconds=20), "不到1分钟", "under 1 min"),
    (-dt.timedelta(hours=1, minutes=1), "1小时1分钟", "1 h 1 min"),  # overdue: by absolute value
]


@pytest.mark.parametrize(("delta", "chinese", "english"), CASES)
def test_durations_in_each_language(delta, chinese, english):
    with translation.override("zh-hans"):
        assert humanise_duration(delta) == chinese
    with translation.override("en"):
        assert humanise_duration(delta) == english
    # The words are kept per language: switching back gives Chinese again, not the last language's.
    with translation.override("zh-hans"):
        assert humanise_duration(delta) == chinese
