"""Templates one element per line: fail when a line of a template starts a second block-level element.

The rule, for every ``src/kangle/*/templates/**/*.html``: a start tag of a block-level element (div, p,
table, tr, td, li, option, h1…h6, form, script, …) and an end tag of one whose start tag is on an earlier
line each begin their line, after its indentation and any template tags ({% … %}, {# … #}) before them. So
``<tbody>{% for r in rows %}<tr><td>…</td><td>…</td></tr>{% endfor %}</tbody>`` becomes six lines
(``<tbody>``, ``{% for r in rows %}<tr>``, ``<td>…</td>`` twice, ``</tr>``, ``{% endfor %}</tbody>``), and
``{% if x %}<p>…</p>{% endif %}`` or ``<li><a href="…">…</a></li>`` stays one. Inline elements (a, b, span,
label, input, button, select, img, …) stay with their text. The text of script, style, pre and textarea
elements, of {% blocktranslate %} (a message id) and of comments is left as it is.

``--fix`` breaks each offending line before the offending tag (before the template tags that lead to it),
indents the new line like the line it came from and drops the spaces before the break; whitespace between block-level elements does not change what a page
shows. The fix is deterministic and idempotent: fixing a fixed tree changes nothing.

    python .ci/check_template_layout.py            # check every template; exit 1 on a problem
    python .ci/check_template_layout.py --fix      # rewrite every template to the rule
    python .ci/check_template_layout.py --fix FILE ...
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "colgroup",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "link",
        "main",
        "meta",
        "nav",
        "noscript",
        "ol",
        "optgroup",
        "option",
        "p",
        "pre",
        "script",
        "section",
        "style",
        "summary",
        "table",
        "tbody",
        "td",
        "template",
        "tfoot",
        "th",
        "thead",
        "title",
        "tr",
        "ul",
    ]
)
VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
)
RAW_TEXT = frozenset(["script", "style", "pre", "textarea"])
# Template constructs whose whole body is kept as written (a message id, a comment, verbatim text).
RAW_TAGS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}
RAW_TAGS["verbatim"] = "endverbatim"

TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")
TEMPLATE_OPEN = re.compile(r"\{[%{#]")
TEMPLATE_CLOSE = {"{%": "%}", "{{": "}}", "{#": "#}"}


@dataclass
class Token:
    kind: str  # text, template ({% %}, {# #}), variable ({{ }}), start, end, raw (script…), other
    text: str
    name: str = ""


def _template_end(source: str, at: int) -> int:
    close = TEMPLATE_CLOSE[source[at : at + 2]]
    end = source.find(close, at + 2)
    return len(source) if end < 0 else end + 2


def _tag_end(source: str, at: int) -> int:
    """The index after the ``>`` closing the tag at ``at``: template constructs and quotes skipped."""
    i, quote = at + 1, ""
    while i < len(source):
        if source.startswith(("{%", "{{", "{#"), i):
            i = _template_end(source, i)
            continue
        char = source[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == ">":
            return i + 1
        i += 1
    return len(source)


def tokens(source: str) -> list[Token]:
    found: list[Token] = []
    i = 0
    while i < len(source):
        if source.startswith("<!--", i):
            end = source.find("-->", i)
            end = len(source) if end < 0 else end + 3
            found.append(Token("other", source[i:end]))
            i = end
            continue
        if source.startswith(("{%", "{{", "{#"), i):
            end = _template_end(source, i)
            text = source[i:end]
            if text.startswith("{{"):
                found.append(Token("variable", text))
                i = end
                continue
            word = text[2:-2].split()
            closing = RAW_TAGS.get(word[0]) if word else None
            if closing:
                # Everything up to the closing tag stays as written.
                match = re.compile(r"\{%\s*" + closing + r"\b.*?%\}", re.S).search(source, end)
                end = match.end() if match else len(source)
                text = source[i:end]
            found.append(Token("template", text))
            i = end
            continue
        if source[i] == "<" and (match := TAG_NAME.match(source, i)):
            end = _tag_end(source, i)
            name = match.group(1).lower()
            kind = "end" if source[i + 1] == "/" else "start"
            found.append(Token(kind, source[i:end], name))
            i = end
            if kind == "start" and name in RAW_TEXT and not found[-1].text.endswith("/>"):
                close = re.compile(r"</" + name + r"\s*>", re.I).search(source, i)
                stop = close.start() if close else len(source)
                found.append(Token("raw", source[i:stop]))
                i = stop
            continue
        # Text up to the next tag or template construct.
        following = [p for p in (source.find("<", i + 1), _next_template(source, i + 1)) if p >= 0]
        end = min(following) if following else len(source)
        found.append(Token("text", source[i:end]))
        i = end
    return found


def _next_template(source: str, at: int) -> int:
    match = TEMPLATE_OPEN.search(source, at)
    return match.start() if match else -1


@dataclass
class Problem:
    line: int
    tag: str


def layout(source: str) -> tuple[str, list[Problem]]:
    """The source laid out one block-level element per line, and the problems found in the original."""
    out: list[Token] = []
    problems: list[Problem] = []
    line_in, line_out = 1, 1
    content = False  # the current output line has something other than indentation and template tags
    indent = source[: len(source) - len(source.lstrip(" \t"))]
    open_blocks: list[tuple[str, int]] = []  # (element name, output line of its start tag)
    previous = Token("text", "")

    def break_line() -> None:
        # Template tags right before the break move to the new line with the element they lead to.
        at = len(out)
        while (
            at
            and "\n" not in out[at - 1].text
            and (
                out[at - 1].kind == "template"
                or (out[at - 1].kind == "text" and not out[at - 1].text.strip())
            )
        ):
            at -= 1
        moved = [t for t in out[at:] if t.kind == "template"]
        del out[at:]
        if out and out[-1].kind == "text":
            out[-1] = Token("text", out[-1].text.rstrip(" \t"))
        out.append(Token("text", "\n" + indent))
        out.extend(moved)

    for token in tokens(source):
        breaks = False
        if previous.kind == "raw":
            pass  # the end tag of a script, style or pre element stays where it is
        elif token.kind == "start" and token.name in BLOCK:
            breaks = content
        elif token.kind == "end" and token.name in BLOCK:
            opened_on = None
            for index in range(len(open_blocks) - 1, -1, -1):
                if open_blocks[index][0] == token.name:
                    opened_on = open_blocks[index][1]
                    del open_blocks[index:]
                    break
            breaks = content and opened_on != line_out
        if breaks:
            problems.append(Problem(line_in, token.text.split()[0].rstrip(">") + ">"))
            break_line()
            line_out += 1
            content = False
        out.append(token)
        if token.kind == "start" and token.name in BLOCK - VOID and not token.text.endswith("/>"):
            open_blocks.append((token.name, line_out))
        newlines = token.text.count("\n")
        line_in += newlines
        line_out += newlines
        if newlines:
            tail = token.text[token.text.rfind("\n") + 1 :]
            if token.kind == "text":
                indent = tail[: len(tail) - len(tail.lstrip(" \t"))]
            content = token.kind not in ("text", "template") or bool(tail.strip())
        elif token.kind != "template" and (token.kind != "text" or token.text.strip()):
            content = True
        previous = token
    return "".join(t.text for t in out), problems


def templates() -> list[Path]:
    return sorted(ROOT.glob("src/kangle/*/templates/**/*.html"))


def main(argv: list[str]) -> int:
    fix = "--fix" in argv
    paths = [Path(a) for a in argv if a != "--fix"] or templates()
    count = 0
    for path in paths:
        source = path.read_text(encoding="utf-8")
        laid_out, problems = layout(source)
        if not problems:
            continue
        count += len(problems)
        if fix:
            path.write_text(laid_out, encoding="utf-8")
            print(f"{path}: {len(problems)} line breaks added")
        else:
            shown = path.relative_to(ROOT) if path.is_absolute() and path.is_relative_to(ROOT) else path
            for problem in problems:
                print(f"{shown}:{problem.line}: {problem.tag} should begin its line (one element per line)")
    if count and not fix:
        print(f"{count} problems; `python .ci/check_template_layout.py --fix` lays the templates out")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
