"""The ICO report pack as a Word document (python-docx): headings per section, gaps in red."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from docx import Document
from docx.shared import RGBColor

from services.breach.ico_pack import ICO_FORM_URL, Section
from services.dates import format_uk

RED = RGBColor(0xC4, 0x31, 0x4B)


def pack_docx(reference: str, school: str, sections: Sequence[Section], *, now: datetime) -> bytes:
    """The pack as .docx bytes: one heading per section, each question in bold, its answer or the gap in red."""
    document = Document()
    document.add_heading(f"ICO breach report: {reference}", level=0)
    document.add_paragraph(f"{school or 'Your school'} \u2014 prepared {format_uk(now)} UK time. Copy each answer into the "
                           f"ICO's online form ({ICO_FORM_URL}). Answers in red are not known yet or need you.")
    for number, section in enumerate(sections, start=1):
        document.add_heading(f"{number}. {section.title}", level=1)
        for answer in section.answers:
            document.add_paragraph().add_run(answer.question).bold = True
            if answer.value:
                document.add_paragraph(answer.value)
            if answer.gap:
                document.add_paragraph().add_run(answer.gap).font.color.rgb = RED
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
