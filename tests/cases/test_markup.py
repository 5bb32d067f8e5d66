"""The case pages' repeated markup built in Python: clock badges and timeline items escape every value, and
a public timeline names nobody."""

from __future__ import annotations

import datetime as dt

from kangle.cases.markup import clock_badge, timeline_items
from kangle.cases.selectors import ClockView

AT = dt.datetime(2026, 6, 20, 4, 5, tzinfo=dt.UTC)  # 12:05 in Shanghai


def _clock(colour: str, hours: int = 3) -> ClockView:
    return ClockView(
        name="<上门>",
        code="onsite",
        deadline=AT,
        state="running",
        colour=colour,
        met_at=None,
        span=dt.timedelta(hours=hours),
    )


def test_badges_say_the_state_and_escape_the_milestone():
    badge = clock_badge(_clock("bad", 2))
    assert 'class="sla sla-bad"' in badge and 'data-colour="bad"' in badge
    assert 'title="&lt;上门&gt; · 06-20 12:05"' in badge
    assert badge.endswith(">已超时 2小时</span>")
    assert clock_badge(None) == ""
    assert "—" in clock_badge(_clock("off"))


def _event(**values) -> dict:
    base = {
        "id": 1,
        "kind": "dispatched",
        "at": AT,
        "actor_id": 7,
        "actor__display_name": "<script>desk</script>",
        "actor__username": "desk1",
        "step": "",
        "note": "",
    }
    return base | values


def test_timeline_items_escape_and_hide_the_actor_on_public_pages():
    events = [
        _event(note="<b>白蚁</b>"),
        _event(id=2, kind="checked_in", actor_id=None, actor__display_name=None, actor__username=None),
        _event(id=3, kind="step", step="treated", actor__display_name=""),
    ]
    photos = {2: [11, 12], 99: [13]}
    staff = timeline_items(events, photos)
    assert staff.count("<li ") == 3 and '<li data-kind="dispatched">' in staff
    assert "2026-06-20 12:05 · &lt;script&gt;desk&lt;/script&gt;" in staff
    assert "· desk1" in staff  # no display name: the username, as User.__str__ gives it
    assert "— &lt;b&gt;白蚁&lt;/b&gt;" in staff and "<b>已派单</b>" in staff and " · 灭杀处理" in staff
    assert staff.count('<img src="/files/case-photo/') == 2 and "case-photo/13" not in staff
    assert staff.index("case-photo/11") < staff.index("case-photo/12")
    public = timeline_items(events, photos, public=True)
    assert "desk" not in public and "2026-06-20 12:05" in public and "case-photo/11" in public
    assert "<li>" in timeline_items([])


def test_badges_made_with_a_pages_words_match_badges_made_alone_in_each_language():
    # The queue resolves the words and the zone once a page (BadgeWords); every colour must read the same
    # as a badge made on its own, in the language active when the page made its words.
    from django.utils import translation

    from kangle.cases.markup import BadgeWords

    for language, overdue in (("zh-hans", "已超时 2小时"), ("en", "Overdue 2 h")):
        with translation.override(language):
            words = BadgeWords()
            for colour in ("bad", "warn", "ok", "paused", "done", "late", "off"):
                clock = _clock(colour, 2)
                assert clock_badge(clock, words) == clock_badge(clock)
            assert clock_badge(_clock("bad", 2), words).endswith(f">{overdue}</span>")


# What the clocks table's rows were as a template, the oracle for the rows built in Python.
_CLOCK_ROWS_TEMPLATE = """{% load case_parts %}{% for clock in clocks %}<tr>
<td>{{ clock.name }}</td>
<td>{{ clock.deadline|date:"Y-m-d H:i" }}</td>
<td>{% clock_badge clock %}{% if clock.met_at %} <span class="muted">{{ clock.met_at|date:"m-d H:i" }}</span>{% endif %}</td>
</tr>{% endfor %}"""


def test_clock_rows_are_what_the_template_made_of_them():
    from django.template import engines
    from django.utils import translation

    from kangle.cases.markup import clock_rows

    met = ClockView("<到场> & 查看", "onsite", AT, "met", "done", AT + dt.timedelta(minutes=3))
    late = ClockView("完成", "done", AT - dt.timedelta(days=400), "met_late", "late", AT)
    clocks = [_clock("bad", 2), _clock("ok", 30), met, late, _clock("paused")]
    template = engines["django"].from_string(_CLOCK_ROWS_TEMPLATE)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert str(clock_rows(clocks)) == template.render({"clocks": clocks})
    assert clock_rows([]) == ""
