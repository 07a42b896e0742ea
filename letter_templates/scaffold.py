"""Start a letter template that does not exist yet (the .docx files are the source staff edit).

The committed CODE.LANG.docx files in this folder are what the office owns and edits in
Word. This script made their first version, so that every template starts with the same
layout (letterhead, window-envelope address block, footer with the letter code). It only
ever creates a missing template (a new letter, or one deleted to start over): it never
replaces an existing file, since that would lose the staff's edits.

    python letter_templates/scaffold.py [CODE ...]
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from pyxl.adapters.letter_docx import normalize_docx

HERE = Path(__file__).resolve().parent
NAVY = RGBColor(0x1F, 0x3A, 0x5F)
GREY = RGBColor(0x59, 0x59, 0x59)
FONT = "Calibri"

# Page geometry for a #10 window envelope (window 4 1/2" x 1 1/8", 7/8" from the left and
# 1/2" from the bottom; a letter folded in thirds shows page 2.05"-3.15" from the top).
TOP, BOTTOM, LEFT, RIGHT = 0.5, 0.75, 0.95, 0.85
LETTERHEAD_HEIGHT = 1.5  # from the top margin: the address block starts 2.0" from the top
ADDRESS_HEIGHT = 1.2
ADDRESS_WIDTH = 4.45  # 0.95" + 4.45" = 5.4": nothing else shows through the window


@dataclass
class Letter:
    subject: str
    greeting: str
    paragraphs: list[str]
    details: list[tuple[str, str]] = field(default_factory=list)  # label, value (a box)
    after: list[str] = field(default_factory=list)  # paragraphs after the details
    bullets: list[str] = field(default_factory=list)
    closing: str = ""
    rights_title: str = ""
    rights: list[str] = field(default_factory=list)


@dataclass
class Words:
    """The fixed words of the layout, per language."""

    date: str
    case: str
    reply_by: str
    reply_note: str
    phone: str
    hours: str
    case_manager: str
    page: str
    sincerely: str
    equal_opportunity: str
    language_help: str


WORDS = {
    "en": Words(
        date="Date",
        case="Case number",
        reply_by="Please reply by",
        reply_note="Call or visit your case manager by this date.",
        phone="Phone",
        hours="Office hours",
        case_manager="Your case manager",
        page="Page",
        sincerely="Sincerely,",
        equal_opportunity=(
            "Equal opportunity employer/program. Auxiliary aids and services are available "
            "upon request to individuals with disabilities. Relay service: dial 711."
        ),
        language_help=(
            "If you need this letter in another language or format, or an interpreter, call "
            "us. It is free."
        ),
    ),
    "es": Words(
        date="Fecha",
        case="Número de caso",
        reply_by="Responda a más tardar el",
        reply_note="Llame o visite a su administrador de caso a más tardar ese día.",
        phone="Teléfono",
        hours="Horario de oficina",
        case_manager="Su administrador de caso",
        page="Página",
        sincerely="Atentamente,",
        equal_opportunity=(
            "Empleador/programa con igualdad de oportunidades. Hay ayudas y servicios "
            "auxiliares disponibles a petición para personas con discapacidades. Servicio de "
            "retransmisión: marque 711."
        ),
        language_help=(
            "Si necesita esta carta en otro idioma o formato, o un intérprete, llámenos. Es gratis."
        ),
    ),
}

APPOINTMENT_EN = [
    ("Date", "{{ appointment_date }}"),
    ("Time", "{{ appointment_time }}"),
    ("Place", "{{ appointment_place }}"),
]
APPOINTMENT_ES = [
    ("Fecha", "{{ appointment_date }}"),
    ("Hora", "{{ appointment_time }}"),
    ("Lugar", "{{ appointment_place }}"),
]
HEARING_EN = (
    "You have the right to ask for a fair hearing if you disagree with a decision about your "
    "case. You can ask by phone, in person or in writing at any of our offices. You may bring "
    "a friend, a relative, a lawyer or another person to help you."
)
HEARING_ES = (
    "Usted tiene derecho a pedir una audiencia imparcial si no está de acuerdo con una decisión "
    "sobre su caso. Puede pedirla por teléfono, en persona o por escrito en cualquiera de "
    "nuestras oficinas. Puede traer a un amigo, un familiar, un abogado u otra persona para "
    "que le ayude."
)
GOOD_CAUSE_EN = (
    "Good cause means a reason you could not take part that was beyond your control, such as "
    "illness, a family emergency, no child care or no transportation, or domestic violence."
)
GOOD_CAUSE_ES = (
    "Causa justificada significa una razón fuera de su control por la que no pudo participar, "
    "como una enfermedad, una emergencia familiar, no tener cuidado de niños o transporte, o "
    "violencia doméstica."
)

LETTERS: dict[str, dict[str, Letter]] = {
    "APPT": {
        "en": Letter(
            subject="Notice of your {{ appointment_type }} appointment",
            greeting="Dear {{ client_name }}:",
            paragraphs=[
                "We tried to reach you by phone about your referral to Work Services and could "
                "not reach you. You have an appointment with your case manager:",
            ],
            details=[("Appointment", "{{ appointment_type }}"), *APPOINTMENT_EN],
            after=[
                "At this appointment we will talk about your goals, your work history and what "
                "help you need to get and keep a job. Please bring:",
            ],
            bullets=[
                "a photo ID and your Social Security card",
                "any pay stubs or work schedule you have",
                "information about your child care, if you have it",
            ],
            closing="If you cannot come at this time, call us by {{ reply_by }} to set a new time.",
            rights_title="Important",
            rights=[
                "Taking part in Work Services is a condition of receiving Temporary Assistance. "
                "If you do not come to this appointment and do not have good cause, we may ask "
                "the eligibility office to reduce your cash assistance. " + GOOD_CAUSE_EN,
                HEARING_EN,
            ],
        ),
        "es": Letter(
            subject="Aviso de su cita: {{ appointment_type }}",
            greeting="Estimado/a {{ client_name }}:",
            paragraphs=[
                "Intentamos comunicarnos con usted por teléfono sobre su remisión a los "
                "Servicios de Trabajo, pero no pudimos localizarle. Tiene una cita con su "
                "administrador de caso:",
            ],
            details=[("Cita", "{{ appointment_type }}"), *APPOINTMENT_ES],
            after=[
                "En esta cita hablaremos de sus metas, su historial de trabajo y la ayuda que "
                "necesita para conseguir y mantener un empleo. Por favor traiga:",
            ],
            bullets=[
                "una identificación con foto y su tarjeta de Seguro Social",
                "talones de pago u horario de trabajo, si los tiene",
                "información sobre su cuidado de niños, si la tiene",
            ],
            closing="Si no puede venir a esta hora, llámenos a más tardar el {{ reply_by }} "
            "para fijar otra hora.",
            rights_title="Importante",
            rights=[
                "Participar en los Servicios de Trabajo es una condición para recibir la "
                "Asistencia Temporal. Si no viene a esta cita y no tiene causa justificada, "
                "podemos pedir a la oficina de elegibilidad que reduzca su asistencia en "
                "efectivo. " + GOOD_CAUSE_ES,
                HEARING_ES,
            ],
        ),
    },
    "TX-NONCOMP": {
        "en": Letter(
            subject="Notice of non-cooperation with Choices",
            greeting="Dear {{ client_name }}:",
            paragraphs=[
                "Our records show that you did not take part in your Choices work activities "
                "as required:",
            ],
            details=[("What happened", "{{ violation }}"), ("Date", "{{ violation_date }}")],
            after=[
                "You must contact your case manager by {{ reply_by }}. You can show that you "
                "will cooperate by coming to your scheduled activities and turning in your "
                "participation hours. If something kept you from taking part, tell us: you may "
                "have good cause. " + GOOD_CAUSE_EN,
            ],
            closing="If you do not contact us by {{ reply_by }}, or if we find that you did "
            "not have good cause, we will ask the Texas Health and Human Services Commission "
            "to apply a penalty to your case.",
            rights_title="What the penalty means and your rights",
            rights=[
                "The penalty is a full-family sanction: your family's TANF cash assistance "
                "stops for at least one month, or until you cooperate, whichever is longer. "
                "Child care you need for your activities can continue.",
                "You have the right to appeal. If you disagree with this notice, tell your "
                "case manager or any Workforce Solutions office, by phone, in person or in "
                "writing, and ask for a hearing. " + HEARING_EN.split(". ", 1)[1],
            ],
        ),
        "es": Letter(
            subject="Aviso de falta de cooperación con Choices",
            greeting="Estimado/a {{ client_name }}:",
            paragraphs=[
                "Nuestros registros muestran que usted no participó en sus actividades de "
                "trabajo de Choices como se requiere:",
            ],
            details=[("Qué pasó", "{{ violation }}"), ("Fecha", "{{ violation_date }}")],
            after=[
                "Debe comunicarse con su administrador de caso a más tardar el {{ reply_by }}. "
                "Puede demostrar que va a cooperar asistiendo a sus actividades programadas y "
                "entregando sus horas de participación. Si algo le impidió participar, "
                "díganos: puede tener causa justificada. " + GOOD_CAUSE_ES,
            ],
            closing="Si no se comunica con nosotros a más tardar el {{ reply_by }}, o si "
            "determinamos que no tuvo causa justificada, pediremos a la Comisión de Salud y "
            "Servicios Humanos de Texas que aplique una sanción a su caso.",
            rights_title="Lo que significa la sanción y sus derechos",
            rights=[
                "La sanción es para toda la familia: la asistencia en efectivo de TANF de su "
                "familia se suspende por lo menos un mes, o hasta que usted coopere, lo que "
                "sea más largo. El cuidado de niños que necesita para sus actividades puede "
                "continuar.",
                "Usted tiene derecho a apelar. Si no está de acuerdo con este aviso, dígalo a "
                "su administrador de caso o en cualquier oficina de Workforce Solutions, por "
                "teléfono, en persona o por escrito, y pida una audiencia. "
                + HEARING_ES.split(". ", 1)[1],
            ],
        ),
    },
    "SNAP-OUTREACH": {
        "en": Letter(
            subject="SNAP Employment and Training: your orientation",
            greeting="Dear {{ client_name }}:",
            paragraphs=[
                "You receive SNAP food benefits and you were referred to the SNAP Employment "
                "and Training program on {{ pool_date }}. The program helps you find work, "
                "get training and meet the SNAP work rules. Please come to an orientation:",
            ],
            details=APPOINTMENT_EN,
            after=[
                "If you cannot come at this time, call us by {{ reply_by }} to set another "
                "time. If you think you should not have to take part (for example, because of "
                "a disability, caring for a young child or working 30 hours a week), tell us.",
            ],
            rights_title="Important",
            rights=[
                "If you are required to take part and do not, without good cause, you can "
                "lose your SNAP benefits: for 1 month the first time, 3 months the second time "
                "and 6 months the third time, or until you take part, whichever is longer. "
                "Adults without dependents can get SNAP for only 3 months in 3 years unless "
                "they work or take part in a work program at least 80 hours a month.",
                HEARING_EN,
                "This institution is an equal opportunity provider.",
            ],
        ),
        "es": Letter(
            subject="Empleo y Capacitación de SNAP: su orientación",
            greeting="Estimado/a {{ client_name }}:",
            paragraphs=[
                "Usted recibe beneficios de alimentos de SNAP y fue referido/a al programa de "
                "Empleo y Capacitación de SNAP el {{ pool_date }}. El programa le ayuda a "
                "encontrar trabajo, recibir capacitación y cumplir con los requisitos de "
                "trabajo de SNAP. Por favor venga a una orientación:",
            ],
            details=APPOINTMENT_ES,
            after=[
                "Si no puede venir a esta hora, llámenos a más tardar el {{ reply_by }} para "
                "fijar otra hora. Si cree que no debe participar (por ejemplo, por una "
                "discapacidad, por cuidar a un niño pequeño o porque trabaja 30 horas a la "
                "semana), díganos.",
            ],
            rights_title="Importante",
            rights=[
                "Si debe participar y no lo hace sin causa justificada, puede perder sus "
                "beneficios de SNAP: 1 mes la primera vez, 3 meses la segunda y 6 meses la "
                "tercera, o hasta que participe, lo que sea más largo. Los adultos sin "
                "dependientes pueden recibir SNAP solo 3 meses en 3 años, a menos que trabajen "
                "o participen en un programa de trabajo por lo menos 80 horas al mes.",
                HEARING_ES,
                "Esta institución es un proveedor que ofrece igualdad de oportunidades.",
            ],
        ),
    },
    "OR-ENGAGE": {
        "en": Letter(
            subject="We missed you on {{ missed_date }}",
            greeting="Dear {{ client_name }}:",
            paragraphs=[
                "You were scheduled for an activity in your JOBS case plan on {{ missed_date }} "
                "and you did not come. We did not hear from you before, so we want to make "
                "sure you are all right.",
                "{% if next_activity_date %}Your next scheduled activity is on "
                "{{ next_activity_date }}. {% endif %}Please call your case manager by "
                "{{ reply_by }} so we can talk about what happened and what would help.",
                "If something is getting in the way, such as child care, transportation, "
                "health or a family problem, tell us. We can often help, and it may be good "
                "cause for missing the activity.",
            ],
            rights_title="Good to know",
            rights=[
                "Taking part in your case plan is part of receiving TANF. If you stop taking "
                "part without good cause, we will first offer you a re-engagement meeting "
                "before any change to your benefits.",
            ],
        ),
        "es": Letter(
            subject="Le esperábamos el {{ missed_date }}",
            greeting="Estimado/a {{ client_name }}:",
            paragraphs=[
                "Usted tenía programada una actividad de su plan de caso de JOBS el "
                "{{ missed_date }} y no vino. No supimos de usted antes, así que queremos "
                "asegurarnos de que está bien.",
                "{% if next_activity_date %}Su próxima actividad programada es el "
                "{{ next_activity_date }}. {% endif %}Por favor llame a su administrador de "
                "caso a más tardar el {{ reply_by }} para hablar de lo que pasó y de lo que le "
                "ayudaría.",
                "Si algo se lo impide, como el cuidado de niños, el transporte, la salud o un "
                "problema familiar, díganos. Muchas veces podemos ayudar, y puede ser causa "
                "justificada por haber faltado.",
            ],
            rights_title="Para su información",
            rights=[
                "Participar en su plan de caso es parte de recibir TANF. Si deja de participar "
                "sin causa justificada, primero le ofreceremos una reunión de "
                "reincorporación antes de cualquier cambio en sus beneficios.",
            ],
        ),
    },
    "OR-CONCIL": {
        "en": Letter(
            subject="Re-engagement appointment",
            greeting="Dear {{ client_name }}:",
            paragraphs=[
                "You have not been taking part in the activities in your JOBS case plan, and "
                "we have not been able to reach you. We have set up a re-engagement "
                "(conciliation) meeting with you:",
            ],
            details=APPOINTMENT_EN,
            after=[
                "At this meeting we will review your case plan with you, talk about what has "
                "made it hard to take part, and offer screenings for health, mental health, "
                "alcohol or drug use, domestic violence and learning needs if you want them. "
                "You may bring someone with you.",
            ],
            closing="If you cannot come at this time, call us by {{ reply_by }}. " + GOOD_CAUSE_EN,
            rights_title="What happens next and your rights",
            rights=[
                "If you do not come, or if the team finds that you did not have good cause, "
                "your TANF benefit may be reduced by a disqualification. You can ask to take "
                "part again at any time.",
                HEARING_EN,
            ],
        ),
        "es": Letter(
            subject="Cita de reincorporación",
            greeting="Estimado/a {{ client_name }}:",
            paragraphs=[
                "Usted no ha participado en las actividades de su plan de caso de JOBS y no "
                "hemos podido comunicarnos con usted. Hemos programado una reunión de "
                "reincorporación (conciliación) con usted:",
            ],
            details=APPOINTMENT_ES,
            after=[
                "En esta reunión revisaremos su plan de caso, hablaremos de lo que le ha "
                "dificultado participar y le ofreceremos evaluaciones de salud, salud mental, "
                "uso de alcohol o drogas, violencia doméstica y necesidades de aprendizaje si "
                "las desea. Puede traer a alguien con usted.",
            ],
            closing="Si no puede venir a esta hora, llámenos a más tardar el {{ reply_by }}. "
            + GOOD_CAUSE_ES,
            rights_title="Lo que pasa después y sus derechos",
            rights=[
                "Si no viene, o si el equipo determina que no tuvo causa justificada, su "
                "beneficio de TANF puede reducirse por una descalificación. Puede pedir volver "
                "a participar en cualquier momento.",
                HEARING_ES,
            ],
        ),
    },
    "DQ-NOTICE": {
        "en": Letter(
            subject="Notice of penalty (disqualification)",
            greeting="Dear {{ client_name }}:",
            paragraphs=[
                "You did not take part in the activities required for your cash assistance, "
                "and no good cause was found. A penalty has been applied to your case:",
            ],
            details=[
                ("Penalty level", "{{ penalty_level }}"),
                ("Starts on", "{{ effective_date }}"),
            ],
            after=[
                "{% if penalty_step %}This is step {{ penalty_step }} of the penalty "
                "ladder. {% endif %}{% if penalty_percent %}Your benefit is reduced by "
                "{{ penalty_percent }}. {% endif %}The penalty continues until you take part "
                "again.",
                "How to end the penalty: call your case manager and ask to take part again. "
                "You can do this at any time. When you have taken part in every activity in "
                "your case plan for two weeks in a row, the penalty ends and your benefit is "
                "restored from that date.",
            ],
            closing="Please contact your case manager by {{ reply_by }} to make a plan.",
            rights_title="Your hearing rights",
            rights=[
                HEARING_EN,
                "If you ask for a hearing before the penalty starts, you may be able to keep "
                "your benefit at the same amount until the hearing decision. The benefit "
                "notice from the eligibility office tells you the deadline to ask.",
            ],
        ),
        "es": Letter(
            subject="Aviso de sanción (descalificación)",
            greeting="Estimado/a {{ client_name }}:",
            paragraphs=[
                "Usted no participó en las actividades requeridas para su asistencia en "
                "efectivo y no se encontró causa justificada. Se aplicó una sanción a su "
                "caso:",
            ],
            details=[
                ("Nivel de sanción", "{{ penalty_level }}"),
                ("Empieza el", "{{ effective_date }}"),
            ],
            after=[
                "{% if penalty_step %}Este es el paso {{ penalty_step }} de la escala de "
                "sanciones. {% endif %}{% if penalty_percent %}Su beneficio se reduce en "
                "{{ penalty_percent }}. {% endif %}La sanción continúa hasta que vuelva a "
                "participar.",
                "Cómo terminar la sanción: llame a su administrador de caso y pida volver a "
                "participar. Puede hacerlo en cualquier momento. Cuando haya participado en "
                "todas las actividades de su plan de caso durante dos semanas seguidas, la "
                "sanción termina y su beneficio se restablece desde esa fecha.",
            ],
            closing="Por favor comuníquese con su administrador de caso a más tardar el "
            "{{ reply_by }} para hacer un plan.",
            rights_title="Su derecho a una audiencia",
            rights=[
                HEARING_ES,
                "Si pide una audiencia antes de que empiece la sanción, puede conservar su "
                "beneficio en la misma cantidad hasta la decisión. El aviso de beneficios de "
                "la oficina de elegibilidad le indica la fecha límite para pedirla.",
            ],
        ),
    },
    "YOUTH-REENG": {
        "en": Letter(
            subject="We want to help you keep going",
            greeting="Dear {{ client_name }}:",
            paragraphs=[
                "We have not heard from you since {{ last_activity_date }}, and we tried to "
                "reach you by phone. You are still part of the WIOA Youth program, and we "
                "want to help you reach your education and career goals.",
                "Please contact your case manager by {{ reply_by }}, or come to any of our "
                "centers:",
                "{%p for c in centers %}",
                "{{ c.name }}: {{ c.address }}, {{ c.city_line }}. {{ c.phone }}. {{ c.hours }}.",
                "{%p endfor %}",
                "If your plans have changed (a new job, school, a move or a family matter), "
                "let us know. We can adjust your plan or schedule a planned break.",
            ],
            rights_title="Good to know",
            rights=[
                "If we do not hear from you and you receive no services for 90 days, you will "
                "be exited from the program. You can still contact us for follow-up help.",
            ],
        ),
        "es": Letter(
            subject="Queremos ayudarle a seguir adelante",
            greeting="Estimado/a {{ client_name }}:",
            paragraphs=[
                "No hemos sabido de usted desde el {{ last_activity_date }} e intentamos "
                "llamarle por teléfono. Usted sigue siendo parte del programa WIOA para "
                "Jóvenes y queremos ayudarle a alcanzar sus metas de estudio y de carrera.",
                "Por favor comuníquese con su administrador de caso a más tardar el "
                "{{ reply_by }}, o venga a cualquiera de nuestros centros:",
                "{%p for c in centers %}",
                "{{ c.name }}: {{ c.address }}, {{ c.city_line }}. {{ c.phone }}. {{ c.hours }}.",
                "{%p endfor %}",
                "Si sus planes cambiaron (un nuevo trabajo, la escuela, una mudanza o un "
                "asunto familiar), díganos. Podemos ajustar su plan o programar una pausa "
                "planificada.",
            ],
            rights_title="Para su información",
            rights=[
                "Si no sabemos de usted y no recibe servicios durante 90 días, saldrá del "
                "programa. Aún puede comunicarse con nosotros para recibir ayuda de "
                "seguimiento.",
            ],
        ),
    },
}
TITLES = {
    "APPT": ("Appointment notice", "Aviso de cita"),
    "TX-NONCOMP": ("Notice of non-cooperation", "Aviso de falta de cooperación"),
    "SNAP-OUTREACH": ("SNAP E&T outreach", "Invitación de SNAP E&T"),
    "OR-ENGAGE": ("Engagement note", "Nota de participación"),
    "OR-CONCIL": ("Re-engagement appointment", "Cita de reincorporación"),
    "DQ-NOTICE": ("Penalty notice", "Aviso de sanción"),
    "YOUTH-REENG": ("Re-engagement letter", "Carta de reincorporación"),
}


# ---------------------------------------------------------------- layout helpers


def _font(run, size: float = 10.5, bold: bool = False, colour: RGBColor | None = None) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold
    if colour is not None:
        run.font.color.rgb = colour


def _spacing(p: Paragraph, before: float = 0, after: float = 6, line: float = 1.08) -> None:
    p.paragraph_format.space_before = Pt(before)
    p.paragraph_format.space_after = Pt(after)
    p.paragraph_format.line_spacing = line


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _text(p: Paragraph, text: str, size: float = 10.5, bold: bool = False, colour=None) -> None:
    """Add text as runs; **x** is bold. A Jinja tag is never split across runs."""
    at = 0
    for m in _BOLD.finditer(text):
        if m.start() > at:
            _font(p.add_run(text[at : m.start()]), size, bold, colour)
        _font(p.add_run(m.group(1)), size, True, colour)
        at = m.end()
    if at < len(text):
        _font(p.add_run(text[at:]), size, bold, colour)


def _cell_paragraph(cell: _Cell, first: bool) -> Paragraph:
    return cell.paragraphs[0] if first else cell.add_paragraph()


def _cell_lines(cell: _Cell, lines: list[tuple[str, float, bool, RGBColor | None]]) -> None:
    for i, (text, size, bold, colour) in enumerate(lines):
        p = _cell_paragraph(cell, i == 0)
        _spacing(p, after=0, line=1.0)
        _text(p, text, size, bold, colour)


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "nil")
        borders.append(e)
    table._tbl.tblPr.append(borders)


def _shade(cell: _Cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _box(cell: _Cell, colour: str = "1F3A5F", size: int = 8) -> None:
    borders = OxmlElement("w:tcBorders")
    for edge in ("top", "left", "bottom", "right"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "single")
        e.set(qn("w:sz"), str(size))
        e.set(qn("w:color"), colour)
        borders.append(e)
    cell._tc.get_or_add_tcPr().append(borders)


def _fixed_table(doc, widths: list[float], height: float | None = None):
    table = doc.add_table(rows=1, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False  # a fixed layout (w:tblLayout)
    _no_borders(table)
    _widths(table, widths)
    if height is not None:
        table.rows[0].height = Inches(height)
        table.rows[0].height_rule = WD_ROW_HEIGHT_RULE.EXACTLY
    return table


def _widths(table, widths: list[float]) -> None:
    """Column widths in the grid (LibreOffice reads these) and in every cell (Word does)."""
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Inches(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Inches(width)


def _page_field(p: Paragraph, size: float) -> None:
    field_ = OxmlElement("w:fldSimple")
    field_.set(qn("w:instr"), " PAGE ")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), str(int(size * 2)))
    rpr.append(sz)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field_.append(run)
    p._p.append(field_)


# ---------------------------------------------------------------- one template


def build(code: str, lang: str, path: Path) -> None:
    letter = LETTERS[code][lang]
    words = WORDS[lang]
    title = TITLES[code][0 if lang == "en" else 1]
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    doc.core_properties.title = f"{code} letter template ({lang})"
    doc.core_properties.subject = title
    doc.core_properties.author = "pyxl letter templates"
    doc.core_properties.comments = "Edit in Word. Fields: see letter_templates/README.md."
    doc.core_properties.language = lang

    section = doc.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    section.top_margin, section.bottom_margin = Inches(TOP), Inches(BOTTOM)
    section.left_margin, section.right_margin = Inches(LEFT), Inches(RIGHT)
    section.header_distance, section.footer_distance = Inches(0.3), Inches(0.35)
    # Each letter restarts its page numbers (one section per letter in a print file).
    pg = OxmlElement("w:pgNumType")
    pg.set(qn("w:start"), "1")
    section._sectPr.append(pg)

    # Letterhead: the office on the left, the letter's identity on the right.
    head = _fixed_table(doc, [4.45, 2.25], LETTERHEAD_HEIGHT)
    office, ident = head.rows[0].cells
    _cell_lines(
        office,
        [
            ("{{ office_name }}", 14, True, NAVY),
            ("{{ office_address }}", 10, False, None),
            ("{{ office_city_line }}", 10, False, None),
            (f"{words.phone}: {{{{ office_phone }}}}", 10, False, None),
            (f"{words.hours}: {{{{ office_hours }}}}", 9, False, GREY),
        ],
    )
    _cell_lines(
        ident,
        [
            (title, 12, True, NAVY),
            ("{{ program }}", 9, False, GREY),
            (f"{words.date}: {{{{ letter_date }}}}", 10, False, None),
            (f"{words.case}: {{{{ case_id }}}}", 10, True, None),
        ],
    )
    for p in ident.paragraphs:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    # Window-envelope address block, and the reply-by box outside the window.
    addr = _fixed_table(doc, [ADDRESS_WIDTH, 2.25], ADDRESS_HEIGHT)
    address, reply = addr.rows[0].cells
    _cell_lines(
        address,
        [("{{ client_name }}", 11, False, None), ("{{ mailing_address }}", 11, False, None)],
    )
    for p in address.paragraphs:
        p.paragraph_format.left_indent = Inches(0.1)
    p0 = address.paragraphs[0]
    p0.paragraph_format.space_before = Pt(6)
    _box(reply)
    _shade(reply, "EEF2F7")
    _cell_lines(
        reply,
        [
            (words.reply_by, 10, True, NAVY),
            ("{{ reply_by }}", 12, True, None),
            (words.reply_note, 8.5, False, GREY),
        ],
    )
    for p in reply.paragraphs:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    reply.paragraphs[0].paragraph_format.space_before = Pt(4)

    p = doc.add_paragraph()
    _spacing(p, before=10, after=8)
    _text(p, letter.subject, 12.5, True, NAVY)
    p = doc.add_paragraph()
    _spacing(p)
    _text(p, letter.greeting)
    for text in letter.paragraphs:
        p = doc.add_paragraph()
        _spacing(p)
        _text(p, text)
    if letter.details:
        box = doc.add_table(rows=len(letter.details), cols=2)
        box.autofit = False
        _no_borders(box)
        _widths(box, [1.6, 5.1])
        for (label, value), row in zip(letter.details, box.rows, strict=True):
            _shade(row.cells[0], "EEF2F7")
            _shade(row.cells[1], "EEF2F7")
            _cell_lines(row.cells[0], [(label, 10.5, True, NAVY)])
            _cell_lines(row.cells[1], [(value, 10.5, True, None)])
        doc.add_paragraph().paragraph_format.space_after = Pt(0)
    for text in letter.after:
        p = doc.add_paragraph()
        _spacing(p)
        _text(p, text)
    for text in letter.bullets:
        p = doc.add_paragraph(style="List Bullet")
        _spacing(p, after=2)
        _text(p, text)
    if letter.closing:
        p = doc.add_paragraph()
        _spacing(p, before=4)
        _text(p, letter.closing)

    # Signature: the case manager.
    p = doc.add_paragraph()
    _spacing(p, before=6, after=2)
    _text(p, words.sincerely)
    for i, line in enumerate(
        [
            "{{ case_manager }}",
            words.case_manager,
            f"{words.phone}: {{{{ case_manager_phone }}}}",
            "{{ case_manager_email }}",
        ]
    ):
        p = doc.add_paragraph()
        _spacing(p, before=14 if i == 0 else 0, after=0, line=1.0)
        _text(p, line, 10.5, i == 0)

    # Rights and notices, in a shaded box.
    rights = _fixed_table(doc, [6.7])
    cell = rights.rows[0].cells[0]
    _shade(cell, "F2F2F2")
    _box(cell, "7F7F7F", 4)
    lines = [(letter.rights_title, 10, True, NAVY)] if letter.rights_title else []
    lines += [(text, 9, False, None) for text in letter.rights]
    lines += [(words.language_help, 9, False, None), (words.equal_opportunity, 8, False, GREY)]
    _cell_lines(cell, lines)
    for p in cell.paragraphs[1:]:
        p.paragraph_format.space_before = Pt(3)
    doc.paragraphs[-1].paragraph_format.space_after = Pt(0)
    rights_gap = rights._tbl.getprevious()
    if rights_gap is not None and rights_gap.tag == qn("w:p"):
        Paragraph(rights_gap, doc._body).paragraph_format.space_after = Pt(10)

    # Footer on every page: this letter's identifiers (a merged print file keeps them).
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.LEFT
    _text(
        footer,
        "{{ letter_code }} v{{ letter_version }} · " + lang.upper() + " · "
        f"{words.case} {{{{ case_id }}}} · {words.page} ",
        8,
        False,
        GREY,
    )
    _page_field(footer, 8)
    # Word wants a paragraph after a closing table; keep it tiny so it never adds a page.
    end = doc.add_paragraph()
    _spacing(end, after=0, line=1.0)
    end.paragraph_format.space_before = Pt(0)
    doc.save(path)
    _drop_thumbnail(path)
    normalize_docx(path)  # python-docx appends properties out of schema order


def _drop_thumbnail(path: Path) -> None:
    """python-docx's default package carries a thumbnail of its own blank page: drop it."""
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members:
            if info.filename == "docProps/thumbnail.jpeg":
                continue
            if info.filename == "_rels/.rels":
                data = re.sub(rb'<Relationship [^>]*Target="docProps/thumbnail.jpeg"/>', b"", data)
            if info.filename == "[Content_Types].xml":
                data = re.sub(rb'<Default Extension="jpeg"[^>]*/>', b"", data)
            out.writestr(info, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("codes", nargs="*", default=sorted(LETTERS))
    args = parser.parse_args(argv)
    for code in args.codes:
        for lang in ("en", "es"):
            path = HERE / f"{code}.{lang}.docx"
            if path.exists():
                print(f"{path.name} exists (staff may have edited it): left as it is")
                continue
            build(code, lang, path)
            print(f"wrote {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
