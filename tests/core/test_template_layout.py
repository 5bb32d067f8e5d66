"""Templates one element per line (.ci/check_template_layout.py): every template follows the rule, and the
fix lays a crowded line out without touching message ids, scripts or the text of an element."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_template_layout", ROOT / ".ci/check_template_layout.py")
checker = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = checker
_spec.loader.exec_module(checker)


def test_every_template_has_one_element_per_line():
    crowded = {
        str(path.relative_to(ROOT)): [p.line for p in checker.layout(path.read_text(encoding="utf-8"))[1]]
        for path in checker.templates()
    }
    assert len(crowded) > 100  # the templates were found
    assert {path: lines for path, lines in crowded.items() if lines} == {}


def test_fix_breaks_a_table_row_by_row_and_keeps_template_tags_with_their_element():
    source = (
        '  <tbody>{% for r in rows %}<tr><td>{{ r.name }}</td><td><a href="{{ r.url }}">{{ r.n }}</a></td></tr>'
        "{% empty %}<tr><td>—</td></tr>{% endfor %}</tbody>\n"
    )
    fixed, problems = checker.layout(source)
    assert fixed == (
        "  <tbody>\n"
        "  {% for r in rows %}<tr>\n"
        "  <td>{{ r.name }}</td>\n"
        '  <td><a href="{{ r.url }}">{{ r.n }}</a></td>\n'
        "  </tr>\n"
        "  {% empty %}<tr>\n"
        "  <td>—</td>\n"
        "  </tr>\n"
        "  {% endfor %}</tbody>\n"
    )
    assert [p.tag for p in problems] == ["<tr>", "<td>", "<td>", "</tr>", "<tr>", "<td>", "</tr>", "</tbody>"]
    assert checker.layout(fixed) == (fixed, [])  # idempotent


def test_inline_elements_and_a_conditional_block_stay_on_their_line():
    source = (
        '{% if x %}<p class="muted">{% translate "From" %} <input name="a"> <b>1</b></p>{% endif %}\n'
        '<label>{% translate "Unit" %} <select name="u"></select> <a href="/">?</a></label>\n'
    )
    assert checker.layout(source) == (source, [])


def test_message_ids_scripts_and_preformatted_text_are_kept_as_written():
    source = (
        "<div>{% blocktranslate %}<p>one</p><p>two</p>{% endblocktranslate %}</div>\n"
        "<div><script>if (a<b) { x = '<div>'; }</script></div>\n"
        "{# <div><p>not a tag</p></div> #}\n"
        '<td title="<div>">x</td>\n'
    )
    fixed, problems = checker.layout(source)
    assert "{% blocktranslate %}<p>one</p><p>two</p>{% endblocktranslate %}" in fixed
    assert "<script>if (a<b) { x = '<div>'; }</script>" in fixed
    assert "{# <div><p>not a tag</p></div> #}" in fixed
    assert '<td title="<div>">x</td>' in fixed
    assert fixed.count("\n") == 6  # only the script was moved to a line of its own
    assert checker.layout(fixed) == (fixed, [])


def test_check_reports_the_line_and_the_tag(tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text("<h1>Title</h1>\n<ul><li>a</li><li>b</li></ul>\n", encoding="utf-8")
    assert checker.main([str(page)]) == 1
    assert f"{page}:2: <li> should begin its line" in capsys.readouterr().out
    assert checker.main(["--fix", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == "<h1>Title</h1>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
    assert checker.main([str(page)]) == 0
