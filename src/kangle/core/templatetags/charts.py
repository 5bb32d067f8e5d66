"""One way to put an ECharts chart on a page.

``{% chart "aspect-chart" "aspects" chart height=360 hours=_("Verified hours") %}`` renders
core/chart.html: a container naming the chart's kind, its data written once with ``json_script`` (or, with
``src=``, the same-origin URL the data is fetched from) and its translated labels as ``data-label-*``
attributes. core/static/core/charts.js (loaded by core/chart_scripts.html) finds every container and draws
it with the option builder of its kind. No chart page carries a script or a style of its own.
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("core/chart.html")
def chart(chart_id, kind, data=None, height=320, src="", **labels):
    return {
        "chart_id": chart_id,
        "kind": kind,
        "data": data,
        "source_id": f"{chart_id}-data",
        "src": src,
        "height": int(height),
        "labels": labels,
    }
