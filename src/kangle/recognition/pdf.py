"""The commendation letter as a PDF (A4, formal red-header layout) with an embedded Chinese font.

Font: Noto Serif CJK SC from Debian's ``fonts-noto-cjk`` package (the CI installs it), located at run time;
``KANGLE_CJK_FONT`` may point at another OpenType/TrueType file (``KANGLE_CJK_FONT_INDEX`` for the face in a
collection). fpdf2 embeds only the glyphs used, so a letter is a few dozen kilobytes.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos

from kangle.core.errors import UserError

# (file, face index of Simplified Chinese in the collection)
CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/noto/NotoSerifCJK-Regular.ttc", 2),
]
BOLD_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
]
RED = (192, 0, 0)
# fontTools logs every subsetting step at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)
DIGITS = "〇一二三四五六七八九"


class FontMissing(UserError):
    status = 503

    def __init__(self):
        super().__init__(
            "font_missing",
            _(
                "No Chinese font found to make the letter's PDF; "
                "install fonts-noto-cjk (apt-get install fonts-noto-cjk) or set KANGLE_CJK_FONT"
            ),
        )


def find_font(bold: bool = False) -> tuple[str, int]:
    configured = settings.KANGLE_CJK_FONT_BOLD if bold else settings.KANGLE_CJK_FONT
    if configured:
        if not Path(configured).is_file():
            raise FontMissing()
        return configured, settings.KANGLE_CJK_FONT_INDEX
    for path, index in BOLD_CANDIDATES if bold else CANDIDATES:
        if Path(path).is_file():
            return path, index
    if bold:
        return find_font(False)
    raise FontMissing()


def chinese_date(day: dt.date) -> str:
    """二〇二六年十一月二十九日"""

    def number(n: int) -> str:
        if n < 10:
            return DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")

    year = "".join(DIGITS[int(c)] for c in str(day.year))
    return f"{year}年{number(day.month)}月{number(day.day)}日"


def _add_fonts(pdf: FPDF) -> None:
    path, index = find_font()
    bold_path, bold_index = find_font(bold=True)
    pdf.add_font("cjk", "", path, collection_font_number=index)
    pdf.add_font("cjk", "B", bold_path, collection_font_number=bold_index)


def render_letter(
    *, number: str, salutation: str, body: str, signature: str, issued_on: dt.date, summary_lines: list[str]
) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(28, 25, 26)
    pdf.set_auto_page_break(True, margin=25)
    _add_fonts(pdf)
    pdf.set_title(f"表扬信 {number}")
    pdf.set_author(signature)
    pdf.add_page()

    # Red header: the issuing body, the title, the number and a red rule.
    pdf.set_text_color(*RED)
    pdf.set_font("cjk", "B", 22)
    pdf.cell(0, 14, signature, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", "", 12)
    pdf.set_text_color(0, 0, 0)
    pdf.cell(0, 9, number, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.8)
    y = pdf.get_y() + 2
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_y(y + 8)

    pdf.set_font("cjk", "B", 24)
    pdf.cell(0, 14, "表  扬  信", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    pdf.set_font("cjk", "", 14)
    pdf.cell(0, 10, f"{salutation}：", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for paragraph in [p.strip() for p in body.split("\n") if p.strip()]:
        pdf.multi_cell(
            0, 9, "\u3000\u3000" + paragraph, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.ln(1)

    pdf.ln(12)
    pdf.cell(0, 10, signature, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 10, chinese_date(issued_on), align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if summary_lines:
        pdf.ln(10)
        pdf.set_draw_color(160, 160, 160)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(3)
        pdf.set_font("cjk", "", 10.5)
        pdf.cell(0, 7, "附：服务记录摘要（据康乐吾家平台已核实记录）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for line in summary_lines:
            pdf.multi_cell(0, 6.5, line, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
