"""Demo caseload: realistic, deterministic rows for every input sheet of the workbook.

`generate()` returns, for each sheet in `SHEET_NAMES`, a list of rows; each row is a
list of values in exactly the order of `schema.SHEETS[name].headers` (dates as
`datetime.date`, Yes/No as `bool`, numbers as int/float, computed columns `None`).

The data is shaped so that every deadline rule in ../shared/domain.md section 1 has
on-time, late, missed and not-yet-due cases on `as_of` (rule ids are cited where the
data is shaped for a rule). Roughly 80% of clients are compliant with their monthly
contact rule in the `as_of` month and the month before; the other 20% have gaps.

Everything comes from `random.Random` instances seeded from `seed` (one per sheet, so
scaling the contacts does not change the clients). No network, no global random state.
Internally dates are day ordinals (ints); they become `date` objects only in the rows.

Speed: the hot loops (contacts, hours) use `rng.random()` arithmetic and cached date
objects, so 100,000 clients with 1,000,000 contacts take a few seconds.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Generic, TypeVar

from pyxl.adapters import schema, speed
from pyxl.domain import model
from pyxl.domain.calendar import edate

__all__ = [
    "AS_OF",
    "HOURS_WEEKS",
    "SHEET_NAMES",
    "DemoData",
    "InjectedProblem",
    "generate",
]

AS_OF = date(2026, 11, 23)
# The two reference sheets a demo needs, then every input sheet, in workbook order.
SHEET_NAMES = ("Branches", "Staff", *(sheet.name for sheet in schema.INPUT_SHEETS))
HOURS_WEEKS = 10  # weeks of Hours kept per client: all of last month and this month (T-05)

WORK_FIRST = model.Program.ATAP_WORK_FIRST.value
FAMILIES_FIRST = model.Program.ATAP_FAMILIES_FIRST.value
CHOICES = model.Program.TX_CHOICES.value
SNAP = model.Program.TX_SNAP_ET.value
YOUTH = model.Program.TX_WIOA_YOUTH.value
JOBS = model.Program.OR_JOBS.value
ALASKA = (WORK_FIRST, FAMILIES_FIRST)
TANF_PROGRAMS = frozenset({WORK_FIRST, FAMILIES_FIRST, CHOICES, JOBS})
HOURS_PROGRAMS = frozenset({WORK_FIRST, FAMILIES_FIRST, CHOICES, SNAP, JOBS})  # TANF and SNAP


# ---------------------------------------------------------------- public result types


@dataclass(frozen=True)
class InjectedProblem:
    """One deliberate data problem put in by `generate(messy=True)`."""

    sheet: str
    index: int  # 0-based position in the sheet's row list
    column: str
    value: object
    problem: str

    @property
    def row(self) -> int:
        """Worksheet row number (1-based) once the rows are written under the headers."""
        return schema.HEADER_ROW + 1 + self.index


class DemoData(dict[str, list[list[object]]]):
    """Rows per sheet name (a plain dict to callers) plus the problems injected, if any."""

    problems: list[InjectedProblem]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.problems = []


# ---------------------------------------------------------------- reference data


@dataclass(frozen=True)
class _Office:
    branch: str
    state: str
    office_name: str
    address: str
    city: str
    postal_code: str
    phone: str
    hours: str
    hours_es: str
    opens: str
    closes: str
    supervisor: str
    case_managers: tuple[str, ...]  # four per branch
    email_domain: str
    area_codes: tuple[str, ...]
    places: tuple[tuple[str, tuple[str, ...], int], ...]  # (city, ZIP codes, weight)
    streets: tuple[str, ...]
    name_groups: tuple[tuple[str, int], ...]  # (group, weight)
    spanish_share: float  # of Hispanic clients who want Spanish


def _items(text: str) -> tuple[str, ...]:
    """'a, b, c' -> ('a', 'b', 'c'): keeps the long reference lists compact and readable."""
    return tuple(part.strip() for part in text.split(","))


def _weighted(text: str) -> tuple[tuple[str, int], ...]:
    """'anglo 28, hispanic 11' -> (('anglo', 28), ('hispanic', 11))."""
    pairs = (item.rsplit(" ", 1) for item in _items(text))
    return tuple((name, int(weight)) for name, weight in pairs)


# Reserved `.example` domains and 555-01xx numbers: realistic, but never a real inbox or phone.
_OFFICES = {
    "AK": _Office(
        branch="Anchorage",
        state="AK",
        office_name="Division of Public Assistance – Anchorage Work Services",
        address="3601 C St, Suite 320",
        city="Anchorage",
        postal_code="99503",
        phone="(907) 555-0140",
        hours="Mon–Fri 8:00 AM–4:30 PM",
        hours_es="lunes a viernes, de 8:00 a. m. a 4:30 p. m.",
        opens="8:00 AM",
        closes="4:30 PM",
        supervisor="Janet Oktollik",
        case_managers=("Rebecca Ahgeak", "Daniel Kozevnikoff", "Lisa Tran", "Samuel Erickson"),
        email_domain="dpa.alaska.example",
        area_codes=("907",),
        places=(
            ("Anchorage", _items("99501, 99503, 99504, 99507, 99508, 99515, 99517"), 85),
            ("Eagle River", ("99577",), 10),
            ("Chugiak", ("99567",), 5),
        ),
        streets=_items(
            "Muldoon Rd, Boniface Pkwy, E Northern Lights Blvd, E Tudor Rd, Spenard Rd, C St,"
            " Lake Otis Pkwy, Debarr Rd, Bragaw St, Arctic Blvd, Minnesota Dr, Fireweed Ln,"
            " Mountain View Dr, Old Seward Hwy, E 15th Ave, Reka Dr"
        ),
        name_groups=_weighted(
            "anglo 28, alaska_native 30, samoan 8, filipino 8, hmong 6, african_american 9,"
            " hispanic 11"
        ),
        spanish_share=0.35,
    ),
    "TX": _Office(
        branch="Houston Northeast",
        state="TX",
        office_name="Workforce Solutions – Houston Northeast",
        address="9800 Homestead Rd, Suite 100",
        city="Houston",
        postal_code="77016",
        phone="(713) 555-0150",
        hours="Mon–Fri 8:00 AM–5:00 PM",
        hours_es="lunes a viernes, de 8:00 a. m. a 5:00 p. m.",
        opens="8:00 AM",
        closes="5:00 PM",
        supervisor="Gloria Villarreal",
        # the last one is the youth specialist: most WIOA Youth cases go to her
        case_managers=("Marcus Johnson", "Yolanda Treviño", "Diana Nguyen", "Keisha Robinson"),
        email_domain="wrksolutions.example",
        area_codes=("713", "281", "832", "346"),
        places=(
            ("Houston", _items("77016, 77028, 77078, 77093, 77050, 77013, 77026"), 75),
            ("Humble", ("77338", "77396"), 15),
            ("Channelview", ("77530",), 10),
        ),
        streets=_items(
            "Homestead Rd, Mesa Dr, Tidwell Rd, Lockwood Dr, Little York Rd, Jensen Dr,"
            " Parker Rd, Wallisville Rd, Aldine Mail Route Rd, Hirsch Rd, Lyons Ave, Kelley St,"
            " Cavalcade St, Mount Houston Rd, Lakewood Dr"
        ),
        name_groups=_weighted(
            "hispanic 45, african_american 26, anglo 11, vietnamese 10, nigerian 8"
        ),
        spanish_share=0.6,
    ),
    "OR": _Office(
        branch="Portland East",
        state="OR",
        office_name="Oregon DHS Self-Sufficiency – Portland East Branch",
        address="10615 SE Cherry Blossom Dr",
        city="Portland",
        postal_code="97216",
        phone="(503) 555-0160",
        hours="Mon–Fri 8:00 AM–5:00 PM",
        hours_es="lunes a viernes, de 8:00 a. m. a 5:00 p. m.",
        opens="8:00 AM",
        closes="5:00 PM",
        supervisor="Karen Lindqvist",
        case_managers=("Hodan Warsame", "Brian McAllister", "Svetlana Kovalenko", "Rosa Gutiérrez"),
        email_domain="odhs.oregon.example",
        area_codes=("503", "971"),
        places=(
            ("Portland", _items("97216, 97220, 97230, 97233, 97236, 97266"), 75),
            ("Gresham", ("97030", "97080"), 20),
            ("Fairview", ("97024",), 5),
        ),
        streets=_items(
            "SE Division St, NE Glisan St, SE Stark St, SE Powell Blvd, NE Halsey St,"
            " SE 122nd Ave, NE 148th Ave, SE 82nd Ave, NE Sandy Blvd, SE Holgate Blvd,"
            " SE Foster Rd, SE 162nd Ave, NE Prescott St, SE Burnside St"
        ),
        name_groups=_weighted(
            "anglo 34, hispanic 22, african_american 10, vietnamese 10, somali 8, slavic 10,"
            " alaska_native 2, samoan 4"
        ),
        spanish_share=0.55,
    ),
}
_STATE_OF = {
    WORK_FIRST: "AK",
    FAMILIES_FIRST: "AK",
    CHOICES: "TX",
    SNAP: "TX",
    YOUTH: "TX",
    JOBS: "OR",
}
# Program mix: about a third of the caseload per state.
_PROGRAM_WEIGHTS = (
    (WORK_FIRST, 20),
    (FAMILIES_FIRST, 14),
    (CHOICES, 16),
    (SNAP, 11),
    (YOUTH, 9),
    (JOBS, 30),
)

# (female first names, male first names, last names) per name group. A few names carry
# apostrophes, hyphens and accents on purpose: they are what breaks naive code.
_NAMES = {
    "hispanic": (
        _items(
            "María, Guadalupe, Rosa, Ana, Yesenia, Daniela, Alejandra, Marisol, Lucía, Jazmín,"
            " Esmeralda, Verónica, Adriana, Maria, Leticia"
        ),
        _items("José, Juan, Luis, Carlos, Jesús, Miguel, Jorge, Ángel, Francisco, Óscar, Jose"),
        _items(
            "García, Hernández, Martínez, Lopez, Gonzalez, Rodríguez, Perez, Sánchez, Ramírez,"
            " Flores, Gomez, Treviño, Peña, Castillo, Villarreal, De la Cruz, Ruiz, Mendoza,"
            " Guerrero-Salinas, Garza"
        ),
    ),
    "african_american": (
        _items(
            "Keisha, Tamika, Aaliyah, Shanice, Latoya, Imani, Destiny, Jasmine, Ebony, Brianna,"
            " Ja'Nae, Monique"
        ),
        _items("DeShawn, Jamal, Terrell, Marcus, Darnell, Tyrone, Andre, Malik, Xavier, D'Andre"),
        _items(
            "Washington, Jackson, Jefferson, Robinson, Williams, Johnson, Harris, Thomas, Brown,"
            " Freeman, Coleman, Banks, Moore-Gaines"
        ),
    ),
    "anglo": (
        _items(
            "Ashley, Jessica, Amanda, Brittany, Sarah, Megan, Heather, Kayla, Emily, Mary-Kate,"
            " Crystal, Amber"
        ),
        _items("Michael, Joshua, Tyler, Dustin, Cody, Brandon, Justin, Ryan, Kyle, Travis"),
        _items(
            "Smith, Miller, Anderson, Thompson, Clark, O'Brien, O'Neil, McAllister, Baker,"
            " Nelson, Carlson, Peterson, Smith-Jones, Walker, Johansen"
        ),
    ),
    "alaska_native": (
        _items("Agnes, Mary, Martha, Elsie, Nellie, Rose, Sophie, Dorothy, Lena, Qaiyaan"),
        _items("Moses, Nick, Peter, Alexie, Wassilie, Oscar, Jacob, Willie, Evan"),
        _items(
            "Kashevaroff, Nanalook, Ahkivgak, Oozevaseuk, Evon, Kameroff, Ivanoff, Nicolai,"
            " Kokrine, Tocktoo, Sookiayak, Attungana, Active, Charlie, Andrew, Kawagley"
        ),
    ),
    "samoan": (
        _items("Lupe, Malia, Sina, Talia, Fetu"),
        _items("Tavita, Sione, Ioane, Lealofi, Pita"),
        _items("Tuiasosopo, Fa'amausili, Leota, Sapolu, Faleolo, Mata'afa"),
    ),
    "filipino": (
        _items("Maricel, Jocelyn, Rowena, Kristine, Liezl"),
        _items("Rodel, Jomar, Arnel, Ramon, Jun"),
        _items("Dela Cruz, Santos, Reyes, Bautista, Villanueva, Manalo"),
    ),
    "hmong": (
        _items("Mai, Pa Houa, Yer, Kia, Nou"),
        _items("Tou, Pao, Fong, Neng, Chue"),
        _items("Vang, Xiong, Lee, Yang, Thao, Moua"),
    ),
    "vietnamese": (
        _items("Lan, Thuy, Hanh, Ngọc, Trang, Linh, Thúy"),
        _items("Minh, Tuan, Duc, Long, Khoa, Huy"),
        _items("Nguyen, Tran, Le, Pham, Huynh, Vo, Dang, Bui, Nguyễn"),
    ),
    "somali": (
        _items("Hodan, Fadumo, Ayaan, Hawa, Sahra, Ifrah, Asli"),
        _items("Abdirahman, Mohamed, Abdi, Ahmed, Hassan, Yusuf"),
        _items("Abdi, Hassan, Mohamed, Warsame, Farah, Osman, Jama, Ali"),
    ),
    "slavic": (
        _items("Oksana, Svetlana, Natalia, Yulia, Olena"),
        _items("Vasiliy, Dmitriy, Sergey, Andriy, Mykola"),
        _items("Kovalenko, Shevchenko, Petrov, Bondarenko, Tkachuk, Melnyk"),
    ),
    "nigerian": (
        _items("Chiamaka, Ngozi, Funmilayo, Adaeze"),
        _items("Oluwaseun, Chukwuemeka, Babatunde, Emeka"),
        _items("Okafor, Adeyemi, Okonkwo, Eze, Balogun"),
    ),
}
# Exactly one client is a couple named together, the way some two-parent TANF cases are
# entered: the "&" must survive XML letters and CSV exports.
_AMPERSAND_NAME = ("Maria & Jose", "Gutierrez")
_NEXT_APPOINTMENT = {  # what an open case typically has booked next
    WORK_FIRST: "Case review",
    FAMILIES_FIRST: "Home visit",
    CHOICES: "Case review",
    SNAP: "Case review",
    YOUTH: "Plan update",
    JOBS: "Activity",
}
_RECENT_DAYS_BACK = (4, 0, 3, 5, 1, 2)
_CLIENT_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

_TIMES = _items(
    "8:30 AM, 9:00 AM, 9:30 AM, 10:00 AM, 10:30 AM, 11:00 AM, 1:00 PM, 1:30 PM, 2:00 PM,"
    " 2:30 PM, 3:00 PM, 3:30 PM"
)

# Hours: activities per program (all from model.ACTIVITIES) and typical weekly hours.
_ACTIVITIES = {
    WORK_FIRST: _items(
        "Job search and job readiness, Unsubsidized employment, Work experience,"
        " Community service, Vocational educational training"
    ),
    FAMILIES_FIRST: _items(
        "Job skills training, Education related to employment, Secondary school or GED,"
        " Community service, Job search and job readiness"
    ),
    CHOICES: _items(
        "Job search and job readiness, Unsubsidized employment, Vocational educational training,"
        " Work experience, On-the-job training, Subsidized private employment"
    ),
    SNAP: _items(
        "Job search and job readiness, Work experience, Community service, Job skills training"
    ),
    JOBS: _items(
        "Job search and job readiness, Unsubsidized employment, Subsidized public employment,"
        " Work experience, Vocational educational training, Child care for community service,"
        " Secondary school or GED"
    ),
}
_WEEKLY_HOURS = {  # (low, high) target hours a week across the client's activities
    WORK_FIRST: (30, 40),  # 40 hours expected
    FAMILIES_FIRST: (8, 20),
    CHOICES: (25, 35),  # 45 CFR 261.31: 30 a week
    SNAP: (18, 24),  # ABAWD: 20 a week, 80 a month
    JOBS: (18, 32),
}

# Method mixes for contacts that are not shaped for a rule (repeats = weights).
_EXTRA_METHODS = {
    WORK_FIRST: ("In person",) * 5 + ("Phone",) * 5 + ("Voicemail", "Text", "Letter"),
    FAMILIES_FIRST: ("In person",) * 4 + ("Phone",) * 5 + ("Home visit", "Voicemail", "Letter"),
    CHOICES: ("Phone",) * 5 + ("In person",) * 3 + ("Letter", "E-mail", "Text", "Voicemail"),
    SNAP: ("Phone",) * 5 + ("In person",) * 2 + ("Letter",) * 2 + ("Text", "Voicemail"),
    # Y-04: youth mostly in person; letters, postcards and e-mails never get an answer here
    YOUTH: ("In person",) * 6 + ("Phone",) * 2 + ("School visit", "Letter", "Postcard", "E-mail"),
    JOBS: ("Phone",) * 5 + ("Letter",) * 2 + ("Home visit",) * 2 + ("In person", "Voicemail"),
}
# Chance that an attempt by this method is a two-way contact (one-way methods never are).
_SUCCESS = {
    "In person": 1.0,
    "Phone": 0.8,
    "Home visit": 0.7,
    "School visit": 0.95,
    "Letter": 0.0,
    "Postcard": 0.0,
    "E-mail": 0.5,
    "Text": 0.6,
    "Voicemail": 0.0,
}
_EXTRA_PURPOSES = ("Engagement", "Appointment notice", "Follow-up", "Other", "Monthly review")
_NOTES = {
    "Monthly review": (
        "Reviewed goals and next steps.",
        "Discussed barriers; childcare in place.",
        "Reviewed plan steps; client on track.",
        "Transportation issue resolved.",
    ),
    "Engagement": (
        "Explained program requirements.",
        "Client agreed to attend orientation.",
        "Scheduled first appointment.",
    ),
    "Re-engagement": (
        "Left message about missed activity.",
        "Asked client to call back.",
        "Discussed missed activity and next scheduled date.",
    ),
    "Disengaged search": (
        "Re-engagement letter with center contact information.",
        "No answer at primary or alternate number.",
    ),
    "Follow-up": ("Employed; asked about wages and hours.", "Checked in after exit."),
}
_SUPPORT_NOTES = ("Bus pass", "Work clothes", "Child care", "Gas card", "Tools for work")
_GAP_NOTES = {
    "Delay before training": "Training cohort starts next term; services resume then.",
    "Own health or medical condition": "Surgery and recovery; doctor's note on file.",
    "Caring for a family member": "Caring for a parent after surgery; resumes after.",
    "Temporary move or military service": "National Guard training; returns after.",
}


_T = TypeVar("_T")


class _Weighted(Generic[_T]):
    """Weighted pick from precomputed cumulative weights (`random.choices` rebuilds them
    on every call, which shows up when picking for 100,000 clients)."""

    __slots__ = ("cumulative", "items", "total")

    def __init__(self, pairs: tuple[tuple[_T, int], ...]):
        self.items = tuple(item for item, _ in pairs)
        running, self.cumulative = 0, []
        for _, weight in pairs:
            running += weight
            self.cumulative.append(running)
        self.total = running

    def pick(self, r: float) -> _T:
        """The item for a uniform number r in [0, 1)."""
        return self.items[bisect(self.cumulative, r * self.total)]


_PROGRAM_PICKER = _Weighted(_PROGRAM_WEIGHTS)
_NAME_GROUP_PICKER = {state: _Weighted(o.name_groups) for state, o in _OFFICES.items()}
_PLACE_PICKER = {
    state: _Weighted(tuple(((city, zips), w) for city, zips, w in o.places))
    for state, o in _OFFICES.items()
}


@cache
def _slug(text: str) -> str:
    """ASCII e-mail part: 'Nguyễn' -> 'nguyen', "O'Neil" -> 'oneil', 'Dela Cruz' -> 'delacruz'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


# add(service, start, end=None, qualifying=False, reason=None, notes=None): one Services row
_AddService = Callable[..., None]
# add(kind, date, status="Kept", called=None, where=office, notes=None): one Appointments row
_AddAppointment = Callable[..., None]


# ---------------------------------------------------------------- the internal case record


@dataclass(slots=True, eq=False)
class _Case:
    """A client plus the hidden "profile" that shapes its child rows. Dates are ordinals."""

    index: int
    case_id: str
    program: str
    office: _Office
    case_manager: str
    ref: int
    person_id: str = ""
    first: str = ""
    last: str = ""
    language: str = "English"
    sex: str = "F"
    dob: int = 0
    selective_service_no: str | None = None
    engaged: bool = True
    previous_cm: str | None = None
    cm_change: int | None = None
    track_change: int | None = None
    closure: int | None = None
    address: str = ""
    city: str = ""
    postal_code: str = ""
    phone: str = ""
    email: str | None = None
    # --- profile
    recent: bool = False  # referred in the last 5 days
    unreached: bool = False  # recent and no first contact yet: A-01 / T-03 still open
    gap_months: frozenset[int] = frozenset()  # month keys with the monthly contact rule unmet
    contact_rate: float = 1.0  # contacts a month on top of the monthly one
    first_contact: int | None = None  # set by the contacts generator
    ea: int | None = None  # Alaska EA service date
    ea_retrigger: int | None = None  # EA after a CM or track change
    fssp_expiry: int | None = None  # latest FSSP expiry
    fssp_dates: list[int] = field(default_factory=list)  # FSSP plan dates (update appointments)
    orientation: int | None = None  # Texas orientation date
    orientation_status: str = ""
    iss_reviews: list[int] = field(default_factory=list)  # WIOA ISS and its reviews
    youth_state: str = ""  # active / countdown / gap / future / exited
    last_activity: int | None = None  # WIOA: last successful contact for disengaged youth
    no_shows: list[tuple[int, bool]] = field(default_factory=list)  # (date, called ahead)
    quiet: list[tuple[int, int]] = field(default_factory=list)  # no unshaped contacts here

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def end(self) -> int:
        """The closure date, or a far-future day while open (callers cap it at as_of)."""
        return self.closure if self.closure is not None else 1 << 30


# ---------------------------------------------------------------- the generator


class _Generator:
    """Builds the caseload in dependency order: cases, then services (EA, orientation,
    ISS and youth exit dates), plans (FSSP dates), appointments (no-shows), and last the
    hours and contacts, which read what the others decided."""

    def __init__(self, n_clients: int, as_of: date, seed: int, contacts_per_client: float | None):
        if n_clients < 1:
            raise ValueError("n_clients must be at least 1")
        if contacts_per_client is not None and contacts_per_client < 0:
            raise ValueError("contacts_per_client must be 0 or more")
        self.n = n_clients
        self.seed = seed
        self.cpc = contacts_per_client
        self.today = as_of.toordinal()
        # Date objects and month keys cached for every day the generated rows can hold.
        self.base = self.today - 800
        self.days = [date.fromordinal(o) for o in range(self.base, self.today + 400)]
        self.month_of = [d.year * 12 + d.month - 1 for d in self.days]
        self.this_month = self.month(self.today)
        self.last_month = self.this_month - 1
        first_key, last_key = self.month_of[0], self.month_of[-1] + 1
        self._month_starts = {
            k: date(k // 12, k % 12 + 1, 1).toordinal() for k in range(first_key, last_key + 2)
        }
        self.cases: list[_Case] = []
        self._ampersand_given = False
        self._youth_gap_count = 0

    # --- dates -------------------------------------------------------------

    def rng(self, part: str) -> random.Random:
        return random.Random(f"pyxl-demo/{self.seed}/{part}")

    def day(self, o: int | None) -> date | None:
        return None if o is None else self.days[o - self.base]

    def month(self, o: int) -> int:
        return self.month_of[o - self.base]

    def month_start(self, key: int) -> int:
        start = self._month_starts.get(key)
        return start if start is not None else date(key // 12, key % 12 + 1, 1).toordinal()

    def month_end(self, key: int) -> int:
        return self.month_start(key + 1) - 1

    @staticmethod
    def weekday(o: int) -> int:
        return (o + 6) % 7  # Monday = 0, as date.weekday()

    def next_business_day(self, o: int) -> int:
        """Next weekday. Holidays are left out: a weekday is never later than the business day."""
        w = (o + 6) % 7
        return o + (3 if w == 4 else 2 if w == 5 else 1)

    def add_business_days(self, o: int, n: int) -> int:
        for _ in range(n):
            o = self.next_business_day(o)
        return o

    def weekday_before(self, o: int) -> int:
        """The day itself, or the Friday before a weekend day."""
        w = (o + 6) % 7
        return o - (w - 4) if w > 4 else o

    def on_weekday(self, o: int, lo: int, hi: int) -> int:
        """Move a weekend day to the Friday before or the Monday after, inside [lo, hi]."""
        w = (o + 6) % 7
        if w < 5:
            return o
        friday = o - (w - 4)
        if friday >= lo:
            return friday
        monday = o + (7 - w)
        return monday if monday <= hi else o

    def edate(self, o: int, months: int) -> int:
        d = self.day(o) if self.base <= o < self.base + len(self.days) else date.fromordinal(o)
        key = d.year * 12 + d.month - 1 + months
        last = self.month_end(key)
        return min(self.month_start(key) + d.day - 1, last)

    # --- Branches and Staff ------------------------------------------------

    def branch_rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for o in _OFFICES.values():
            calendar = o.state  # each office keeps its state's holiday calendar
            letterhead = [o.office_name, o.address, o.city, o.postal_code, o.phone, o.hours]
            slots = [o.hours_es, o.opens, o.closes, 60]  # one-hour appointments
            rows.append([o.branch, o.state, calendar, *letterhead, o.supervisor, *slots])
        return rows

    def staff_rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for office in _OFFICES.values():
            area = office.phone[1:4]
            for i, cm in enumerate(office.case_managers):
                first, last = cm.split(" ", 1)
                email = f"{_slug(first)}.{_slug(last)}@{office.email_domain}"
                phone = f"({area}) 555-01{41 + 10 * i:02d}"
                days = "Mon Tue Wed Thu" if i == 1 else "Mon Tue Wed Thu Fri"  # one works 4 days
                rows.append([cm, office.branch, phone, email, office.supervisor, days])
        return rows

    # --- Clients -----------------------------------------------------------

    def make_cases(self) -> None:
        rng = self.rng("clients")
        r = rng.random
        today = self.today
        programs = [p for p, _ in _PROGRAM_WEIGHTS]
        counters = {"AK": 100001, "TX": 100001, "OR": 100001}
        seen = dict.fromkeys(programs, 0)  # clients so far per program
        recents = 0
        for i in range(self.n):
            # The first six rows cover every program, so even a tiny demo has all of them.
            program = programs[i] if i < len(programs) else _PROGRAM_PICKER.pick(r())
            state = _STATE_OF[program]
            office = _OFFICES[state]
            case_id = f"{state}-{counters[state]}"
            counters[state] += 1
            cm = self._pick_case_manager(rng, program, office)
            # Referral dates over the last 12 months; every 30th client of a program in the
            # last 5 days, half of them not reached yet, so the first-contact clocks (A-01,
            # T-03) and the 30/60-day ones (A-03, A-39, Y-02) are DUE, DUE SOON or OVERDUE.
            seen[program] += 1
            recent = seen[program] % 30 == 3
            if recent:  # days back cycle so that each weekday-before-as_of occurs
                ref = today - _RECENT_DAYS_BACK[recents % len(_RECENT_DAYS_BACK)]
                recents += 1
            else:
                ref = today - 6 - int(r() * 360)
            ref = self.on_weekday(ref, ref - 3, today)
            case = _Case(i, case_id, program, office, cm, ref, recent=recent)
            case.unreached = recent and (seen[program] // 30) % 2 == 0
            case.person_id = f"P{5200000 + i * 7 + int(r() * 7)}"
            self._identity(rng, case)
            self._history(rng, case)
            case.contact_rate = 0.15 + r() * 0.5
            self.cases.append(case)
        self._movers(rng)
        self._compliance_profiles(rng)

    def _pick_case_manager(self, rng: random.Random, program: str, office: _Office) -> str:
        cms = office.case_managers
        if program == YOUTH:  # the youth specialist carries most youth cases
            return cms[3] if rng.random() < 0.8 else cms[2]
        if program in (CHOICES, SNAP):
            return cms[int(rng.random() * 3)]
        return cms[int(rng.random() * 4)]

    def _identity(self, rng: random.Random, c: _Case) -> None:
        r = rng.random
        office = c.office
        youth = c.program == YOUTH
        roll = r()
        c.sex = (
            ("M" if roll < 0.49 else "F" if roll < 0.98 else "X")
            if youth
            else ("F" if roll < 0.82 else "M" if roll < 0.99 else "X")
        )
        group = _NAME_GROUP_PICKER[office.state].pick(r())
        female, male, last_names = _NAMES[group]
        firsts = male if c.sex == "M" or (c.sex == "X" and r() < 0.5) else female
        c.first = firsts[int(r() * len(firsts))]
        c.last = last_names[int(r() * len(last_names))]
        if group == "hispanic" and r() < office.spanish_share:
            c.language = "Spanish"
        if c.program == CHOICES and not self._ampersand_given:
            self._ampersand_given = True
            c.first, c.last = _AMPERSAND_NAME
            c.language = "Spanish"
            c.sex = "F"
        # Ages: TANF adults 18-55 (mostly in their twenties and thirties), youth 16-24.
        if youth:
            age = 16 + r() * 8.9
            if c.sex == "M" and r() < 0.2:
                age = 17.9 + r() * 0.35  # around 18: the Selective Service clock (T-14)
        else:
            age = rng.triangular(18.2, 55, 27)
        c.dob = self.today - int(age * 365.25) - int(r() * 3)
        if youth and c.sex == "M" and age >= 18.4 and r() < 0.92:
            c.selective_service_no = f"{int(r() * 9e9) + 1_000_000_000}"
        place, zips = _PLACE_PICKER[office.state].pick(r())
        c.city = place
        c.postal_code = zips[int(r() * len(zips))]
        street = office.streets[int(r() * len(office.streets))]
        number = 100 + int(r() * 9800)
        c.address = f"{number} {street}"
        if r() < 0.4:
            c.address += f", Apt {1 + int(r() * 40)}{'ABCD'[int(r() * 4)]}"
        area = office.area_codes[int(r() * len(office.area_codes))]
        c.phone = f"({area}) 555-01{int(r() * 100):02d}"
        if r() < 0.8:
            domain = _CLIENT_EMAIL_DOMAINS[int(r() * 3)]
            c.email = f"{_slug(c.first)}.{_slug(c.last)}{10 + int(r() * 90)}@{domain}"

    def _history(self, rng: random.Random, c: _Case) -> None:
        """Engagement, CM change, track change and closure."""
        r = rng.random
        today, age = self.today, self.today - c.ref
        alaska = c.program in ALASKA
        # about 12% of Alaska clients are not engaged (only after some weeks on the case).
        if alaska and age > 40 and r() < 0.15:
            c.engaged = False
        # A-03 restarts its 30-day clock on a CM change or a track change; some are recent.
        if age > 45 and r() < (0.09 if alaska else 0.05):
            others = [cm for cm in c.office.case_managers if cm != c.case_manager]
            c.previous_cm = others[int(r() * len(others))]
            c.cm_change = self.on_weekday(c.ref + 30 + int(r() * (age - 30)), c.ref, today)
        if alaska and age > 60 and r() < 0.07:
            c.track_change = self.on_weekday(c.ref + 40 + int(r() * (age - 40)), c.ref, today)
        # About 10% closed (TA closure / WIOA exit). WIOA exits are set with the services
        # (exit date = last qualifying service, Y-08), so only adults are closed here.
        if c.program != YOUTH and age > 70 and r() < 0.12:
            c.closure = self.on_weekday(c.ref + 60 + int(r() * (age - 60)), c.ref, today)
            if c.cm_change is not None and c.cm_change >= c.closure:
                c.cm_change = c.previous_cm = None
            if c.track_change is not None and c.track_change >= c.closure:
                c.track_change = None

    def _movers(self, rng: random.Random) -> None:
        """A few people have a closed case in one state and a newer one in another: same
        Person ID, name and birth date. Oregon keeps disqualification history per person."""
        adults = [
            c
            for c in self.cases
            if c.program in (WORK_FIRST, CHOICES, JOBS) and c.first != _AMPERSAND_NAME[0]
        ]
        wanted = min(max(2, self.n // 150), 12)  # "a few", even in a 100,000-client benchmark
        moved: set[int] = set()
        for new in sorted(adults, key=lambda c: -c.ref):
            if len(moved) >= 2 * wanted:
                break
            if new.index in moved or new.ref < self.today - 200 or new.recent:
                continue
            old = next(
                (
                    o
                    for o in adults
                    if o.office is not new.office
                    and o.index not in moved
                    and o.closure is None
                    and o.ref < new.ref - 90
                    and o.cm_change is None
                ),
                None,
            )
            if old is None:
                continue
            old.closure = self.on_weekday(
                new.ref - 10 - int(rng.random() * 30), old.ref + 60, new.ref
            )
            old.track_change = None
            for attr in ("person_id", "first", "last", "sex", "dob", "language", "email"):
                setattr(new, attr, getattr(old, attr))
            moved.update((old.index, new.index))

    def _compliance_profiles(self, rng: random.Random) -> None:
        """~80% meet their monthly contact rule (A-06/A-07, Y-04) this month and last month;
        the rest miss last month (OVERDUE), this month so far (DUE / DUE SOON) or both."""
        this, last = self.this_month, self.last_month
        for c in self.cases:
            roll = rng.random()
            if roll < 0.8:
                continue
            months = {last} if roll < 0.88 else {this} if roll < 0.95 else {last, this}
            c.gap_months = frozenset(m for m in months if m >= self.month(c.ref))

    def client_rows(self) -> list[list[object]]:
        day = self.day
        family = self.rng("family")  # its own stream: the other columns stay as they were
        rows: list[list[object]] = []
        for c in self.cases:
            closure = c.closure if c.closure is not None and c.closure <= self.today else None
            family_type, youngest, child_care = self._family(family, c)
            rows.append(
                [
                    c.case_id,
                    c.person_id,
                    c.name,
                    c.program,
                    c.office.branch,
                    c.case_manager,
                    day(c.ref),
                    c.language,
                    c.sex,
                    date.fromordinal(c.dob),
                    c.selective_service_no,
                    c.engaged,
                    day(c.cm_change),
                    day(c.track_change),
                    day(closure),
                    family_type,
                    youngest,
                    child_care,
                    c.address,
                    c.city,
                    c.office.state,
                    c.postal_code,
                    c.phone,
                    c.email,
                    *[None] * 5,  # computed: next due date and rule, overdue, state, next action
                ]
            )
        return rows

    def _family(self, rng: random.Random, c: _Case) -> tuple[str | None, date | None, bool]:
        """TANF household shape for the participation rates: mostly single parents, some
        two-parent families (a third with federally funded child care), a few child-only."""
        roll = rng.random()
        if c.program not in TANF_PROGRAMS:
            return None, None, False
        kind = "Single parent" if roll < 0.8 else "Two-parent" if roll < 0.95 else "Child-only"
        youngest = date.fromordinal(self.today - int(rng.random() * 12 * 365) - 30)
        return kind, youngest, kind == "Two-parent" and rng.random() < 0.33

    # --- Services (before plans, appointments and contacts: they read its dates) ---

    def service_rows(self) -> list[list[object]]:
        rng = self.rng("services")
        day = self.day
        rows: list[list[object]] = []
        by_program = {
            WORK_FIRST: self._services_alaska,
            FAMILIES_FIRST: self._services_alaska,
            CHOICES: self._services_texas,
            SNAP: self._services_texas,
            YOUTH: self._services_youth,
            JOBS: self._services_oregon,
        }
        for c in self.cases:
            out: list[tuple] = []

            def add(service, start, end=None, qualifying=False, reason=None, notes=None, out=out):
                out.append((start, service, end, qualifying, reason, notes))

            by_program[c.program](rng, c, add)
            out.sort(key=lambda s: s[0])
            for start, service, end, qualifying, reason, notes in out:
                rows.append([c.case_id, service, day(start), day(end), qualifying, reason, notes])
        return rows

    def _timed(
        self,
        rng: random.Random,
        start: int,
        on: tuple[int, int],
        late: tuple[int, int],
        p_on: float = 0.85,
        p_late: float = 0.08,
    ) -> int | None:
        """A task done on time (`on` days after `start`), late, or never: None also when
        it is not done yet on as_of."""
        roll = rng.random()
        if roll < p_on:
            lo, hi = on
        elif roll < p_on + p_late:
            lo, hi = late
        else:
            return None
        o = start + lo + int(rng.random() * (hi - lo + 1))
        o = self.on_weekday(o, start, o + 3)
        return o if o <= self.today else None

    def _monthly_dates(
        self, rng: random.Random, lo: int, hi: int, gaps: frozenset[int]
    ) -> list[int]:
        """One weekday a month in [lo, hi], none in the `gaps` months; before last month,
        one month in ten is missed too (history is not perfect)."""
        out = []
        hi = min(hi, self.today)
        for key in range(self.month(lo), self.month(hi) + 1):
            if key in gaps or (key < self.last_month and rng.random() < 0.1):
                continue
            a, b = max(lo, self.month_start(key)), min(hi, self.month_end(key))
            if a <= b:
                out.append(self.on_weekday(a + int(rng.random() * (b - a + 1)), a, b))
        return out

    def _services_alaska(self, rng: random.Random, c: _Case, add: _AddService) -> None:
        r = rng.random
        end = min(c.end, self.today)
        # EA at referral or the first open slot, EPI with it, within 30 days.
        c.ea = self._timed(rng, c.ref, (0, 18), (31, 50), 0.86, 0.08)
        if c.ea is not None and c.ea <= end:
            add("Employability Assessment", c.ea)
            epi = c.ea + int(r() * 4) if r() < 0.94 else None
            if epi is not None and epi <= self.today:
                add("EPI", epi)
        else:
            c.ea = None
        # A-03 restarts on a CM change; A-05: a new EA after a track change.
        trigger = max(x for x in (c.cm_change, c.track_change, 0) if x is not None)
        if trigger:
            c.ea_retrigger = self._timed(rng, trigger, (2, 25), (32, 45), 0.8, 0.1)
            if c.ea_retrigger is not None:
                why = "track change" if trigger == c.track_change else "case manager change"
                add("Employability Assessment", c.ea_retrigger, notes=f"New EA after {why}")
                if r() < 0.9:
                    add("EPI", c.ea_retrigger)
        if c.program == WORK_FIRST:
            # ALEXsys, résumé, general application and budget within 1 month of referral.
            items = ("ALEXsys registration", "Resume", "General application", "Budget")
            self._checklist(rng, c, add, items, (1, 27), (33, 60))
            if c.ea is not None and r() < 0.7:
                o = c.ea + 3 + int(r() * 10)
                if o <= end:
                    add("Job search", o, notes="Job club, daily check-in")
        else:
            # Family Network, Family Support Team, Weekly Calendar within 60 days.
            items = ("Family Network", "Family Support Team", "Weekly Calendar of Routines")
            self._checklist(rng, c, add, items, (5, 55), (62, 85))
            # a track review every month, none in the client's gap months.
            start = max(c.ref, c.track_change or 0)
            for o in self._monthly_dates(rng, start, end, c.gap_months):
                add("Track review", o)
        self._supportive_service(rng, c, add, 0.15)
        # exit summary in the month of or the month after TA closure.
        if c.closure is not None and c.closure <= self.today:
            due = self.month_end(self.month(c.closure) + 1)
            roll = r()
            if roll < 0.7:
                o = c.closure + int(r() * (due - c.closure + 1))
            elif roll < 0.82:
                o = due + 1 + int(r() * 20)
            else:
                return  # missing
            if o <= self.today:
                notes = "Closed with work" if r() < 0.5 else None
                add("Exit summary", self.on_weekday(o, c.closure, self.today), notes=notes)

    def _checklist(
        self,
        rng: random.Random,
        c: _Case,
        add: _AddService,
        items: tuple[str, ...],
        on: tuple[int, int],
        late: tuple[int, int],
    ) -> None:
        """Items due together after referral: most clients finish them all on time; about
        one in ten is late with one item and one in ten never does one."""
        r = rng.random
        roll = r()
        odd_one = int(r() * len(items)) if roll >= 0.8 else -1
        end = min(c.end, self.today)
        for i, service in enumerate(items):
            if i == odd_one and roll >= 0.9:
                continue  # missing
            lo, hi = late if i == odd_one else on
            o = self.on_weekday(c.ref + lo + int(r() * (hi - lo + 1)), c.ref, end)
            if o <= end:
                add(service, o)

    def _supportive_service(
        self, rng: random.Random, c: _Case, add: _AddService, share: float
    ) -> None:
        end = min(c.end, self.today)
        if rng.random() < share and end - c.ref > 20:
            o = self.on_weekday(c.ref + 10 + int(rng.random() * (end - c.ref - 9)), c.ref, end)
            add("Supportive service", o, notes=_SUPPORT_NOTES[int(rng.random() * 5)])

    def _services_texas(self, rng: random.Random, c: _Case, add: _AddService) -> None:
        r = rng.random
        end = min(c.end, self.today)
        # T-02: the Workforce Orientation a few days after referral; the appointment
        # generator writes the matching Orientation appointment.
        if c.program == CHOICES or r() < 0.6:
            c.orientation = self.on_weekday(c.ref + 3 + int(r() * 10), c.ref, c.ref + 20)
            roll = r()
            if c.orientation > self.today:
                c.orientation_status = "Scheduled"
            else:
                c.orientation_status = (
                    "Kept" if roll < 0.82 else "No-show" if roll < 0.92 else "Rescheduled"
                )
                if c.orientation_status == "Kept" and c.orientation <= end:
                    add("Orientation", c.orientation)
        # T-04: eligibility verified at intake, then at the start of each month (by business
        # day 3 mostly; some later, some forgotten, more in the client's gap months).
        if r() < 0.7:
            add("Eligibility check", c.ref)
        for key in range(self.month(c.ref) + 1, self.month(end) + 1):
            roll = r()
            if key in c.gap_months and roll < 0.5:
                continue
            first = self.on_weekday(self.month_start(key), self.month_start(key), self.today + 9)
            if roll < 0.88:
                o = self.add_business_days(first, int(r() * 3))
            elif roll < 0.95:
                o = self.on_weekday(first + 5 + int(r() * 10), first, end)
            else:
                continue
            if o <= self.today:
                add("Eligibility check", o)
        if c.orientation_status == "Kept" and r() < 0.7:
            o = c.orientation + 7 + int(r() * 14)
            if o <= end:
                add("Job search", o, min(o + 28, end))
        self._supportive_service(rng, c, add, 0.2)

    def _youth_state(self, rng: random.Random, enrolled: int) -> str:
        """Where a youth stands on the exit clock (Y-08). The first five youths enrolled long
        enough get planned gaps (Y-07) so the demo always shows every gap reason, the invalid
        200-day gap and a second gap for one youth (Y-12)."""
        slot = self._youth_gap_count
        if enrolled >= 100 and slot < 5 and (slot != 1 or enrolled >= 230):
            return "gap"
        roll = rng.random()
        if roll < 0.55 or enrolled < 100:
            return "active"
        if roll < 0.7:
            return "countdown"  # the CM Exiter Alert bands: 60-120 days without service
        if roll < 0.74:
            return "gap"
        if roll < 0.84 or enrolled < 160:
            return "future"
        return "exited"

    def _services_youth(self, rng: random.Random, c: _Case, add: _AddService) -> None:
        """WIOA Youth: COA at enrolment (Y-01), ISS (Y-02), quarterly ISS review (Y-03),
        qualifying services up to a "last qualifying service" date that sets the exit
        clock (Y-08), planned gaps (Y-07, Y-12), future services, follow-up after exit (Y-09)."""
        r = rng.random
        today = self.today

        coa = c.ref + int(r() * 11)
        if coa > today or (c.recent and r() < 0.5):
            return  # not enrolled yet
        coa = self.on_weekday(coa, c.ref, today)
        add("COA (08)", coa, qualifying=True, notes="Enrollment")
        enrolled = today - coa
        state = c.youth_state = self._youth_state(rng, enrolled)
        days_back = {
            "active": int(r() * 40),
            "countdown": 60 + int(r() * 61),
            "gap": 20 + int(r() * 60),
            "future": 30 + int(r() * 70),
            "exited": 91 + int(r() * max(1, enrolled - 150)),
        }[state]
        last_q = max(self.on_weekday(today - days_back, coa, today), coa)
        # Y-02: ISS after the COA (30 days by default); Y-03: reviewed every ~3 months.
        iss = self._timed(rng, coa, (5, 26), (35, 60), 0.86, 0.09)
        if iss is not None:
            iss = min(iss, last_q)
            add("ISS (68)", iss, qualifying=True)
            c.iss_reviews = [iss]
            overdue = r() < 0.22
            stop = last_q if state == "exited" else today
            o = iss
            while True:
                o = self.on_weekday(o + 75 + int(r() * 17), o, today)
                if o > stop or (overdue and o > today - 110):
                    break
                add("ISS review", o)
                c.iss_reviews.append(o)
        earlier_gap = (0, -1)
        if state == "gap":
            # Y-07: a planned gap of 91-179 days for one of the four reasons keeps the youth
            # from exiting. The first gap youth has an invalid 200-day gap; the second one
            # had an earlier gap too (Y-12: more than one gap goes to a supervisor).
            slot = self._youth_gap_count
            self._youth_gap_count += 1
            reason = model.PLANNED_GAP_REASONS[slot % 4]
            start = self.on_weekday(last_q + 1 + int(r() * 5), last_q, today)
            length = 200 if slot == 0 else 91 + int(r() * 89)
            add("Planned gap (11)", start, start + length, reason=reason, notes=_GAP_NOTES[reason])
            if slot == 1 and last_q - coa > 140:
                earlier_gap = (coa + 15, coa + 15 + 95)
                reason = model.PLANNED_GAP_REASONS[3]
                add("Planned gap (11)", *earlier_gap, reason=reason, notes=_GAP_NOTES[reason])
        # Qualifying services from the COA to the last qualifying service date.
        kinds = ("Training", "Work experience", "Supportive service", "Job search", "Training")
        o = coa + 7 + int(r() * 20)
        while o < last_q:
            kind = kinds[int(r() * len(kinds))]
            if not earlier_gap[0] <= o <= earlier_gap[1]:
                long_running = kind in ("Training", "Work experience")
                stop = min(o + 14 + int(r() * 60), last_q) if long_running else None
                add(kind, self.on_weekday(o, coa, last_q), stop, qualifying=True)
            o += 14 + int(r() * 30)
        if last_q > coa:
            add("Supportive service" if r() < 0.4 else "Work experience", last_q, qualifying=True)
        if state == "future" or (state in ("active", "gap") and r() < 0.25):
            # Y-08: a future scheduled service keeps the youth from exiting.
            start = self.on_weekday(today + 5 + int(r() * 45), today + 1, today + 60)
            kind = "Training" if r() < 0.6 else "Work experience"
            add(kind, start, start + 45 + int(r() * 60), qualifying=True, notes="Scheduled")
        elif state == "exited":
            # Y-08: exit date = last qualifying service date (set retroactively).
            # Y-09: follow-up for 12 months after, mostly quarterly; some have none yet.
            c.closure = last_q
            if r() < 0.8:
                o = last_q + 30 + int(r() * 40)
                while o <= today:
                    note = _NOTES["Follow-up"][int(r() * 2)]
                    add("Follow-up", self.on_weekday(o, last_q, today), notes=note)
                    o += 80 + int(r() * 30)
        # Y-05: more than half the countdown youth have also stopped answering.
        if state == "countdown" and r() < 0.6:
            c.last_activity = last_q + int(r() * 8)

    def _services_oregon(self, rng: random.Random, c: _Case, add: _AddService) -> None:
        r = rng.random
        end = min(c.end, self.today)
        o = self.on_weekday(c.ref + 10 + int(r() * 15), c.ref, end)
        if o <= end:
            add("Job search", o, min(o + 42, end))
        if end - c.ref > 80 and r() < 0.5:
            o = self.on_weekday(c.ref + 60 + int(r() * (end - c.ref - 59)), c.ref, end)
            stop = o + 30 + int(r() * 60)
            add("Work experience" if r() < 0.5 else "Training", o, stop if stop <= end else None)
        self._supportive_service(rng, c, add, 0.2)

    # --- Plans -------------------------------------------------------------

    def plan_rows(self) -> list[list[object]]:
        """FSSP versions (Alaska), the ISS (WIOA), an employment plan (Texas Choices and
        SNAP, after orientation) and a case plan (Oregon)."""
        rng = self.rng("plans")
        r = rng.random
        day, today = self.day, self.today
        rows: list[list[object]] = []
        for c in self.cases:
            end = min(c.end, today)
            if c.program in ALASKA:
                for plan in self._fssp_versions(rng, c):
                    rows.append([c.case_id, "FSSP", *(day(x) for x in plan)])
                continue
            if c.program == YOUTH:
                if not c.iss_reviews:
                    continue
                kind, start, review, expiry = "ISS", c.iss_reviews[0], c.iss_reviews[-1], None
            else:
                if c.program == JOBS:
                    kind, start = (
                        "Case plan",
                        self.on_weekday(c.ref + 5 + int(r() * 15), c.ref, end),
                    )
                elif c.orientation_status == "Kept":
                    kind, start = "Employment plan", c.orientation
                else:
                    continue
                if start > end:
                    continue
                review = start + int(r() * (end - start + 1))
                review = review if review - start > 14 else None
                expiry = self.edate(start, 6) if kind == "Case plan" else None
            signed = start if r() < 0.93 else None
            rows.append(
                [c.case_id, kind, day(start), day(signed), None, None, day(review), day(expiry)]
            )
        return rows

    def _fssp_versions(self, rng: random.Random, c: _Case) -> list[tuple]:
        """FSSP versions as (plan, signed, mailed, due back, last review, expiry): the first
        with the EA (A-03), then updated every 2-3 months (A-12), a new one after a CM or
        track change; some mailed for signature (A-15), signed late or not at all (A-14)."""
        r = rng.random
        today = self.today
        end = min(c.end, today)
        if c.ea is None:
            return []
        dates = [self.on_weekday(c.ea + int(r() * 5), c.ea, today)]
        overdue = r() < 0.2  # the last update is more than 3 months old
        while True:
            nxt = self.on_weekday(dates[-1] + 55 + int(r() * 36), dates[-1], today)
            if nxt > end or (overdue and nxt > today - 100):
                break
            dates.append(nxt)
        if c.ea_retrigger is not None and c.ea_retrigger > dates[-1]:
            dates.append(self.on_weekday(c.ea_retrigger + int(r() * 4), c.ea_retrigger, today))
        dates = [d for d in dates if d <= today]
        c.fssp_dates = dates
        versions = []
        for n, plan in enumerate(dates):
            latest = n == len(dates) - 1
            signed_at_meeting, mailed_share = (0.65, 0.23) if latest else (0.8, 0.13)
            roll = r()
            mailed = due_back = None
            if roll < signed_at_meeting:
                signed = plan
            elif roll < signed_at_meeting + mailed_share:
                # mailed for signature, due back in 10 days; most come back in time.
                mailed, due_back = plan, plan + 10
                back = r()
                signed = (
                    plan + 3 + int(r() * 7)
                    if back < 0.55
                    else plan + 11 + int(r() * 10)
                    if back < 0.75
                    else None
                )
            else:
                signed = None if latest else plan + int(r() * 20)
            if signed is not None and signed > today:
                signed = None
            # expiry = the last step review date, a few months after the plan date.
            expiry = plan + 85 + int(r() * 40)
            review = plan + 25 + int(r() * 30)
            review = review if review <= (end if latest else dates[n + 1]) else None
            versions.append((plan, signed, mailed, due_back, review, expiry))
        c.fssp_expiry = versions[-1][5] if versions else None
        return versions

    # --- Appointments ------------------------------------------------------

    def appointment_rows(self) -> list[list[object]]:
        rng = self.rng("appointments")
        day = self.day
        rows: list[list[object]] = []
        by_program = {
            WORK_FIRST: self._appointments_alaska,
            FAMILIES_FIRST: self._appointments_alaska,
            CHOICES: self._appointments_texas,
            SNAP: self._appointments_texas,
            YOUTH: self._appointments_youth,
            JOBS: self._appointments_oregon,
        }
        for c in self.cases:
            out: list[tuple] = []

            def add(kind, o, status="Kept", called=None, where=None, notes=None, c=c, out=out):
                out.append((o, kind, where or c.office.office_name, status, called, notes))

            by_program[c.program](rng, c, add)
            self._next_appointment(rng, c, out, add)
            out.sort(key=lambda a: a[0])
            for o, kind, where, status, called, notes in out:
                time = _TIMES[int(rng.random() * len(_TIMES))]
                rows.append([c.case_id, kind, day(o), time, where, status, called, notes])
        return rows

    def _outcome(self, rng: random.Random, o: int, kept: float = 0.88) -> tuple[str, bool | None]:
        """Status and Called Ahead for an appointment on day `o`."""
        if o > self.today:
            return "Scheduled", None
        roll = rng.random()
        if roll < kept:
            return "Kept", None
        if roll < kept + (1 - kept) * 0.6:
            return "No-show", rng.random() < 0.4
        return ("Rescheduled", True) if rng.random() < 0.6 else ("Cancelled", True)

    def _appointments_alaska(self, rng: random.Random, c: _Case, add: _AddAppointment) -> None:
        r = rng.random
        today = self.today
        # the EA appointment at referral or the first open slot (kept = the EA date).
        if c.ea is not None:
            add("Employability Assessment", c.ea)
        elif c.ref > today - 10:  # booked by the J016 notice
            o = self.on_weekday(c.ref + 2 + int(r() * 7), c.ref + 1, c.ref + 12)
            status, called = self._outcome(rng, o, kept=0.0)
            add("Employability Assessment", o, status, called, notes="J016 notice")
        else:
            o = self.on_weekday(c.ref + 3 + int(r() * 7), c.ref + 1, today)
            add("Employability Assessment", o, "No-show", r() < 0.3)
        # FSSP update appointments at each update; A-13: the next one booked before the
        # current FSSP expires (most), after it (a gap without a current FSSP), or not at all.
        for o in c.fssp_dates[1:]:
            add("Plan update", o)
        expiry = c.fssp_expiry
        if expiry is not None and c.closure is None and expiry > today - 30:
            roll = r()
            booked = None
            if roll < 0.72:
                booked = self.on_weekday(expiry - 3 - int(r() * 20), today + 1, expiry)
            elif roll < 0.82:
                booked = self.on_weekday(expiry + 5 + int(r() * 10), today + 1, expiry + 30)
            if booked is not None and booked > today:
                add("Plan update", booked, "Scheduled", notes="FSSP update")
        # case review staffings about every three months.
        o = c.ref + 85 + int(r() * 20)
        while o < min(c.end, today + 30):
            o = self.on_weekday(o, o - 3, o + 3)
            add("Case review", o, *self._outcome(rng, o, kept=0.9))
            o += 85 + int(r() * 20)
        if not c.engaged and c.closure is None and r() < 0.4:  # home visits count
            o = self.on_weekday(today - int(r() * 30), c.ref, today)
            add("Home visit", o, "No-show", False, "Client home", "Not home")

    def _appointments_texas(self, rng: random.Random, c: _Case, add: _AddAppointment) -> None:
        r = rng.random
        if c.orientation is None:
            return
        room = f"{c.office.office_name}, Orientation Room"
        status = c.orientation_status
        called = None if status in ("Kept", "Scheduled") else (status == "Rescheduled" or r() < 0.2)
        add("Orientation", c.orientation, status, called, room)
        if status in ("No-show", "Rescheduled"):  # T-07: rebooked, then kept or missed again
            o = self.on_weekday(
                c.orientation + 7 + int(r() * 7), c.orientation + 1, c.orientation + 16
            )
            add("Orientation", o, *self._outcome(rng, o, kept=0.6), room, "Rescheduled orientation")
        if status == "Kept":
            o = c.orientation + 28 + int(r() * 10)
            while o < min(c.end, self.today + 20):
                o = self.on_weekday(o, o - 3, o + 3)
                add("Case review", o, *self._outcome(rng, o))
                o += 60 + int(r() * 40)

    def _appointments_youth(self, rng: random.Random, c: _Case, add: _AddAppointment) -> None:
        for o in c.iss_reviews[1:]:
            add("Plan update", o, notes="ISS review")  # Y-03
        if c.youth_state == "countdown" and c.last_activity is not None:
            # Y-06 step 3: a home visit when the calls and the letter went unanswered.
            o = self.on_weekday(
                self.today - int(rng.random() * 12), c.last_activity + 20, self.today
            )
            add("Home visit", o, "No-show", False, "Client home", "Disengaged search")

    def _appointments_oregon(self, rng: random.Random, c: _Case, add: _AddAppointment) -> None:
        """Activities in the last 60 days, some missed. O-06: a no-show with no call ahead
        starts a 1-business-day clock; O-07: 2+ no-shows within 30 days is a pattern;
        O-01: conciliation within 10 working days after non-cooperation is reported."""
        r = rng.random
        today = self.today
        end = min(c.end, today)
        if end < today - 5:
            return  # closed cases have no recent activities
        site = "Job Center – SE 122nd" if r() < 0.5 else "Community service site"
        profile = r()
        missed: list[int] = []
        if profile < 0.06:  # a pattern: 2-3 missed within 30 days, no call ahead
            first = today - 2 - int(r() * 40)
            missed = [first, first + 6 + int(r() * 8)]
            if r() < 0.4:
                missed.append(missed[-1] + 5 + int(r() * 6))
        elif profile < 0.28:  # one missed activity, often recent
            missed = [today - int(r() * 45)]
        missed = [self.on_weekday(o, c.ref + 1, today) for o in missed if c.ref < o <= today]
        o = max(c.ref + 7, today - 60)
        while o <= today:
            o = self.on_weekday(o, c.ref + 1, today)
            if all(abs(o - m) > 2 for m in missed) and o <= end:
                add("Activity", o, where=site)
            o += 7 + int(r() * 8)
        for o in missed:
            called = len(missed) == 1 and r() < 0.4
            add("Activity", o, "No-show", called, site)
            c.no_shows.append((o, called))
        if len(missed) > 1 and r() < 0.85:
            # O-01: conciliation, mostly within 10 working days of the report (the day after
            # the last missed activity); O-08: a missed conciliation goes to re-engagement.
            reported = self.next_business_day(missed[-1])
            when = self.add_business_days(
                reported, 3 + int(r() * 7) if r() < 0.8 else 11 + int(r() * 5)
            )
            status = "Scheduled" if when > today else ("Kept" if r() < 0.8 else "No-show")
            called = False if status == "No-show" else None
            add("Conciliation", when, status, called, notes="Non-cooperation reported")
            if status == "No-show" and r() < 0.7:
                staffing = self.add_business_days(when, 5 + int(r() * 5))
                add("Re-engagement staffing", staffing, "Scheduled" if staffing > today else "Kept")

    def _next_appointment(
        self, rng: random.Random, c: _Case, out: list[tuple], add: _AddAppointment
    ) -> None:
        """About half of the open cases have their next appointment booked."""
        if c.closure is not None or rng.random() > 0.5 or any(a[3] == "Scheduled" for a in out):
            return
        kind = _NEXT_APPOINTMENT[c.program]
        o = self.on_weekday(
            self.today + 1 + int(rng.random() * 30), self.today + 1, self.today + 40
        )
        add(kind, o, "Scheduled", where="Client home" if kind == "Home visit" else None)

    # --- Hours -------------------------------------------------------------

    def hours_rows(self) -> list[list[object]]:
        """Weekly actual hours for TANF and SNAP clients over the last HOURS_WEEKS weeks.
        Entered a few days after the week (T-05: by the next business day; A-23: by the
        20th of the month after); a few weeks missing, more in the client's gap months."""
        rng = self.rng("hours")
        r = rng.random
        day, today = self.day, self.today
        this_monday = today - self.weekday(today)
        mondays = [this_monday - 7 * k for k in range(HOURS_WEEKS, 0, -1)]
        month_of = {m: self.month(m) for m in mondays}
        entry_lag = (1, 1, 1, 2, 2, 3, 4, 5, 8, 10)  # days after the week ends (Sunday)
        rows: list[list[object]] = []
        append = rows.append
        for c in self.cases:
            if c.program not in HOURS_PROGRAMS or c.recent:
                continue
            acts = _ACTIVITIES[c.program]
            chosen = [acts[int(r() * len(acts))]]
            if r() < 0.3:
                other = acts[int(r() * len(acts))]
                if other != chosen[0]:
                    chosen.append(other)
            lo, hi = _WEEKLY_HOURS[c.program]
            target = (lo + r() * (hi - lo)) / len(chosen)
            idle = not c.engaged
            # A-23/T-05 misses: in a gap month the hours are often not entered at all, or
            # only after the 20th of the month after (A-23 late).
            skip_months = {m for m in c.gap_months if r() < 0.6}
            late_after = {m: self.month_end(m) + 21 for m in c.gap_months - skip_months}
            case_id, first, last = c.case_id, c.ref - 6, min(c.end, today)
            verified_share = 0.7 + r() * 0.3
            for monday in mondays:
                if monday < first or monday > last or r() < 0.04:
                    continue
                key = month_of[monday]
                if key in skip_months:
                    continue
                entered = monday + 6 + entry_lag[int(r() * 10)]
                if key in late_after:
                    entered = max(entered, late_after[key] + int(r() * 6))
                if entered > today:
                    continue  # not entered yet
                entered_day = day(entered)
                week = day(monday)
                for activity in chosen:
                    if idle or r() < 0.05:
                        hours = 0.0
                    else:
                        hours = round((target * (0.6 + r() * 0.55)) * 2) / 2
                        hours = 40.0 if hours > 40 else hours
                    append([case_id, week, activity, hours, r() < verified_share, entered_day])
        return rows

    # --- Contacts ----------------------------------------------------------

    def contact_rows(self) -> list[list[object]]:
        rng = self.rng("contacts")
        targets = self._contact_targets(rng)
        rows: list[list[object]] = []
        for c, target in zip(self.cases, targets, strict=True):
            self._contacts_for(rng, c, target, rows)
        return rows

    def _months_open(self, c: _Case) -> float:
        return (min(c.end, self.today) - c.ref) / 30.4

    def _contact_targets(self, rng: random.Random) -> list[int | None]:
        """How many contacts each case gets: None = as many as its story needs (default);
        with `contacts_per_client`, a share of the total in proportion to months open."""
        if self.cpc is None:
            return [None] * len(self.cases)
        weights = [
            0.0 if c.unreached else 1.5 + self._months_open(c) * (1 + c.contact_rate)
            for c in self.cases
        ]
        scale = self.cpc * len(self.cases) / (sum(weights) or 1.0)
        r = rng.random
        targets: list[int | None] = []
        for w in weights:
            x = w * scale
            targets.append(int(x) + (r() < x - int(x)))  # rounded at random: the total is kept
        return targets

    def _contacts_for(self, rng: random.Random, c: _Case, target: int | None, rows: list) -> None:
        """Contacts for one case, most rule-relevant first, cut or topped up to `target`."""
        r = rng.random
        today = self.today
        end = min(c.end, today)
        planned: list[list] = []
        self._first_contacts(rng, c, planned)
        if c.first_contact is None:
            return  # referred in the last days and not reached yet: A-01 / T-03 are open
        self._event_contacts(rng, c, planned)
        self._monthly_contacts(rng, c, planned, end)
        if target is None:
            extra = self._months_open(c) * c.contact_rate
            target = len(planned) + int(extra) + (r() < extra - int(extra))
            if today - c.ref < 45:
                target += 2  # new clients are seen more often
        chosen = planned[:target]
        # Top up with contacts not shaped for a rule, kept out of the "quiet" windows where
        # they would meet a deadline the data means to leave late or missed.
        methods = _EXTRA_METHODS[c.program]
        purposes = _EXTRA_PURPOSES
        lo, span = c.first_contact, end - c.first_contact + 1
        youth = c.program == YOUTH
        for _ in range(target - len(chosen)):
            o = lo + int(r() * span)
            if c.quiet and any(a <= o <= b for a, b in c.quiet):
                o = lo + int(r() * span)
                if any(a <= o <= b for a, b in c.quiet):
                    continue
            w = (o + 6) % 7
            if w > 4:  # weekend: the Friday before (or the Monday after) if still in range
                o = o - (w - 4) if o - (w - 4) >= lo else (o + 7 - w if o + 7 - w <= end else o)
            method = methods[int(r() * len(methods))]
            ok = r() < _SUCCESS[method] and not (youth and method == "E-mail")
            meaningful = ok and r() < 0.6
            reviewed = meaningful and r() < 0.5
            chosen.append([o, method, ok, meaningful, reviewed, purposes[int(r() * 5)], None])
        if c.gap_months:
            self._spoil_gap_months(c, chosen)
        chosen.sort(key=lambda x: x[0])
        self._emit(rng, c, chosen, rows)

    def _emit(self, rng: random.Random, c: _Case, chosen: list[list], rows: list) -> None:
        """Contacts -> rows: the note-entered date (A-10), a note sometimes, the staff."""
        r = rng.random
        today, base, days = self.today, self.base, self.days
        case_id, cm, previous_cm, change = c.case_id, c.case_manager, c.previous_cm, c.cm_change
        append = rows.append
        for o, method, ok, meaningful, reviewed, purpose, notes in chosen:
            # the note is entered the same or the next business day, sometimes late.
            roll = r()
            if roll < 0.55:
                entered = o
            else:
                w = (o + 6) % 7
                entered = o + (3 if w == 4 else 2 if w == 5 else 1)
                if roll > 0.9:
                    entered += 1 + int(r() * 6)
            if notes is None and r() < 0.25:
                pool = _NOTES.get(purpose)
                notes = pool[int(r() * len(pool))] if pool else None
            staff = previous_cm if change is not None and o < change else cm
            note_day = days[entered - base] if entered <= today else None  # not entered yet
            append(
                [
                    case_id,
                    days[o - base],
                    method,
                    ok,
                    meaningful,
                    reviewed,
                    purpose,
                    note_day,
                    None,  # reply-by: letters pyxl prints carry one
                    staff,
                    notes,
                ]
            )

    def _first_contacts(self, rng: random.Random, c: _Case, planned: list[list]) -> None:
        """A-01/A-02 (Alaska), T-03 (SNAP outreach) and first contacts for the others;
        about one in eight late. Half the clients referred in the last 5 days have not
        been reached yet."""
        r = rng.random
        if c.unreached:
            return
        ref, today = c.ref, self.today
        roll = r()
        late = roll > 0.88
        if late:
            when = self.add_business_days(ref, 2 + int(r() * 4))
        else:
            when = ref if r() < 0.6 else self.next_business_day(ref)
        when = min(when, today)
        if c.program in ALASKA and roll < 0.1:
            # not reachable by phone: voicemail, then the J016 notice with an EA time.
            planned.append(_contact(ref, "Voicemail", purpose="Engagement"))
            notice = self.next_business_day(ref) if ref < today else ref
            planned.append(_contact(notice, "Letter", purpose="Appointment notice", notes=_J016))
            c.first_contact = ref
            return
        if c.program == SNAP:
            # T-03: outreach letter within 10 days of appearing in the outreach pool.
            when = ref + (11 + int(r() * 10) if late else 1 + int(r() * 8))
            when = min(self.on_weekday(when, ref, today), today)
            note = "Outreach letter with orientation date"
            planned.append(_contact(when, "Letter", purpose="Outreach", notes=note))
        elif c.program == CHOICES:  # T-02: the orientation notice
            note = "Orientation notice"
            planned.append(_contact(when, "Letter", purpose="Appointment notice", notes=note))
        else:
            method = "In person" if c.program in (YOUTH, WORK_FIRST) or r() < 0.5 else "Phone"
            planned.append(_contact(when, method, True, True, purpose="Engagement"))
        if late:
            c.quiet.append((ref, when - 1))
        c.first_contact = when if late else ref

    def _event_contacts(self, rng: random.Random, c: _Case, planned: list[list]) -> None:
        """Contacts that answer an event: a missed activity (Oregon), a youth gone quiet,
        an exit or a closure."""
        r = rng.random
        today = self.today
        # O-06 / O-07: an attempt after each missed activity without a call ahead, mostly
        # the same or next business day; O-05: one written and one in another format.
        for n, (missed, called) in enumerate(c.no_shows):
            if called:
                continue
            roll = r()
            if roll < 0.7:
                first = missed if r() < 0.4 else self.next_business_day(missed)
            elif roll < 0.88:  # late (for a pattern, O-07 allows up to 5 business days)
                first = self.add_business_days(missed, 2 + int(r() * (6 if n else 4)))
            else:
                first = today + 1  # no attempt yet
            if first > today:
                c.quiet.append((missed, today))
                continue
            if first > missed + 1:
                c.quiet.append((missed, first - 1))
            written = r() < 0.5
            method = "Postcard" if written else ("Phone" if r() < 0.7 else "Home visit")
            ok = not written and r() < 0.35
            note = "Note about the missed activity and next scheduled date"
            planned.append(_contact(first, method, ok, purpose="Re-engagement", notes=note))
            second = self.add_business_days(first, 1 + int(r() * 4))
            if second <= today and r() < 0.75:
                method = ("Phone" if r() < 0.6 else "Home visit") if written else "Letter"
                ok = method != "Letter" and r() < 0.3
                planned.append(_contact(second, method, ok, purpose="Re-engagement"))
        # Y-05/Y-06: a youth without activity for 30+ days: the last visit, then calls,
        # then the re-engagement letter (the home visit is an appointment).
        if c.youth_state == "countdown" and c.last_activity is not None:
            last = c.last_activity
            c.quiet.append((last + 1, today))
            planned.append(_contact(last, "In person", True, True, purpose="Monthly review"))
            steps = (
                (31 + int(r() * 5), "Phone", "No answer at primary or alternate number"),
                (2, "Voicemail", None),
                (5, "Letter", "Re-engagement letter to mailing and residence address"),
            )
            o = last
            for days_later, method, note in steps:
                o = self.on_weekday(o + days_later, o, today)
                if o > today:
                    break
                planned.append(_contact(o, method, purpose="Disengaged search", notes=note))
        # Y-09: follow-up after a WIOA exit; A-26: post-TA contacts after an Alaska closure.
        closed = c.closure is not None and c.closure < today
        if closed and (c.program == YOUTH or (c.program in ALASKA and r() < 0.5)):
            o = c.closure + 20 + int(r() * 40)
            while o <= today:
                o = self.on_weekday(o, c.closure, today)
                ok = r() < 0.7
                method = "Phone" if ok else "Voicemail"
                planned.append(_contact(o, method, ok, ok, purpose="Follow-up"))
                o += 60 + int(r() * 60)

    def _monthly_contacts(
        self, rng: random.Random, c: _Case, planned: list[list], end: int
    ) -> None:
        """The monthly contact each program expects (A-06/A-07, Y-04, monthly reviews
        elsewhere): this month and last month first, then older months, newest first."""
        r = rng.random
        program = c.program
        lo = c.first_contact + 1
        if c.youth_state == "countdown" and c.last_activity is not None:
            end = min(end, c.last_activity - 1)
        for key in range(self.month(end), self.month(lo) - 1, -1):
            if key < self.last_month and r() > 0.93:
                continue  # an older month with no contact: history is not perfect
            a, b = max(lo, self.month_start(key)), min(end, self.month_end(key))
            if a > b:
                continue
            o = a + int(r() * (b - a + 1))
            if c.quiet and any(x <= o <= y for x, y in c.quiet):
                o = a + int(r() * (b - a + 1))
                if any(x <= o <= y for x, y in c.quiet):
                    continue
            o = self.on_weekday(o, a, b)
            if program in ALASKA and not c.engaged:
                # two attempts by two methods (phone, letter, home visit).
                second = "Letter" if r() < 0.6 else "Home visit"
                planned.append(_contact(o, "Phone", r() < 0.2, purpose="Re-engagement"))
                ok = second == "Home visit" and r() < 0.2
                planned.append(
                    _contact(min(o + 2 + int(r() * 8), b), second, ok, purpose="Re-engagement")
                )
            elif program in ALASKA:
                # a meaningful contact that includes an FSSP review.
                method = "In person" if r() < 0.55 else "Phone"
                planned.append(_contact(o, method, True, True, r() < 0.97, "Monthly review"))
            elif program == YOUTH:
                # Y-04: in person and two-way.
                method = "In person" if r() < 0.85 else "School visit"
                planned.append(_contact(o, method, True, True, purpose="Monthly review"))
            elif program == JOBS:
                method = ("Phone", "Home visit", "In person")[int(r() * 3)]
                ok = r() < _SUCCESS[method]
                planned.append(_contact(o, method, ok, ok, ok and r() < 0.6, "Monthly review"))
            else:
                method = "Phone" if r() < 0.6 else "In person"
                purpose = "Monthly review" if r() < 0.8 else "Work verification"
                ok = r() < 0.9
                planned.append(_contact(o, method, ok, ok and r() < 0.7, purpose=purpose))

    def _spoil_gap_months(self, c: _Case, contacts: list[list]) -> None:
        """Make sure nothing meets the monthly rule in the case's gap months."""
        gaps, base, month_of = c.gap_months, self.base, self.month_of
        program = c.program
        for x in contacts:
            if month_of[x[0] - base] not in gaps:
                continue
            if program in ALASKA and not c.engaged:
                x[1] = "Phone"  # one method only, however many attempts
            elif program in ALASKA:
                x[4] = False  # no FSSP review
            elif program == YOUTH:
                if x[1] in ("In person", "School visit", "Home visit"):
                    x[1] = "Phone"  # Y-04: not in person
            elif program in (CHOICES, SNAP) and x[2]:
                x[1:5] = ["Voicemail", False, False, False]  # T-15: no activity

    # --- messy ---------------------------------------------------------------

    # --- Non-compliance histories (after appointments and contacts: they read the no-shows) ---

    def noncompliance_rows(
        self, contacts: list[list[object]]
    ) -> tuple[list[list[object]], list[list[object]], list[list]]:
        """Events, penalties and the letters and attempts that go with them: every flow of
        domain.md section 2 at some stage, and disqualification history from other branches."""
        rng = self.rng("noncompliance")
        self.reached: dict[str, list[int]] = {}  # successful contact days, per case
        for row in contacts:
            if row[3] is True and isinstance(row[1], date):
                self.reached.setdefault(str(row[0]), []).append(row[1].toordinal())
        events: list[list[object]] = []
        penalties: list[list[object]] = []
        letters: list[list] = []
        for c in self.cases:
            if c.closure is not None or c.ref > self.today - 45:
                continue
            story = {
                CHOICES: self._story_choices,
                SNAP: self._story_snap,
                WORK_FIRST: self._story_alaska,
                FAMILIES_FIRST: self._story_alaska,
                JOBS: self._story_oregon,
            }.get(c.program)
            if story is not None:
                story(rng, c, _Story(self, c, events, penalties, letters))
        return events, penalties, letters

    def contact_rows_for(self, planned: list[tuple[_Case, list, int | None]]) -> list[list]:
        """Contacts rows for the letters and attempts of the non-compliance stories."""
        day = self.day
        return [
            [
                c.case_id,
                day(o),
                method,
                ok,
                meaningful,
                reviewed,
                purpose,
                day(o),
                day(reply_by),
                c.case_manager,
                notes,
            ]
            for c, (o, method, ok, meaningful, reviewed, purpose, notes), reply_by in planned
        ]

    def _story_choices(self, rng: random.Random, c: _Case, say: _Story) -> None:
        r = rng.random
        if r() > 0.22:
            return
        stage = r()
        back = 3 + int(r() * 3) if stage < 0.2 else 14 + int(r() * 10)
        missed = self.weekday_before(self.today - back)
        what = "Missed activity" if r() < 0.6 else "Hours short"
        say.event(missed, what, reported=self.next_business_day(missed))
        if stage < 0.2:
            return  # T-07: the letter is still to send
        sent = self.add_business_days(missed, 2)
        say.letter(sent, "Non-compliance", reply_by=sent + 7)
        if stage < 0.35:
            return  # waiting for, or past, the reply-by date
        if stage < 0.6:
            say.event(sent + 3, "Client responded")
            good = stage < 0.5
            say.event(sent + 4, "Good cause: yes" if good else "Good cause: no", by="PSR")
            return
        requested = sent + 8
        imposed = min(requested + 4, self.today - 1)
        intent = imposed + 10 if stage > 0.8 and imposed + 10 < self.today else None
        say.penalty(requested, imposed, intent=intent)

    def _story_snap(self, rng: random.Random, c: _Case, say: _Story) -> None:
        r = rng.random
        if r() > 0.15:
            return
        # An earlier disqualification, sometimes in another branch: the occurrence count follows
        # the person.
        old = self.today - 300 - int(r() * 300)
        elsewhere = "Houston Southwest" if r() < 0.5 else None
        say.penalty(
            old - 5,
            old,
            ended=edate(date.fromordinal(old), 1).toordinal() + 3,
            branch=elsewhere,
            step=1,
        )
        if r() < 0.5 and c.orientation_status == "Kept":
            short = self.weekday_before(self.today - 2 - int(r() * 3))
            say.event(short, "Hours short", reported=short)

    def _story_alaska(self, rng: random.Random, c: _Case, say: _Story) -> None:
        r = rng.random
        if c.engaged or r() > 0.7:
            return
        stage = r()
        back = 1 if stage < 0.4 else 60 + int(r() * 120)
        decided = self.weekday_before(max(self.today - back, c.ref + 15))
        say.event(decided, "Good cause: no", by="Case manager")
        if stage < 0.4:
            return  # the penalty request is due
        imposed = decided + 10
        intent = self.today - 4 if stage > 0.85 else None
        say.penalty(decided + 1, imposed, intent=intent, compliance=intent and intent + 3)
        if r() < 0.6:  # 7 AAC 45.980(g): a home visit before the penalty rises
            say.attempt(imposed + 60, "Home visit")

    def _story_oregon(self, rng: random.Random, c: _Case, say: _Story) -> None:
        r = rng.random
        if r() < 0.2:  # history from another branch: the ladder continues from it
            old = self.today - 400 - int(r() * 200)
            say.penalty(None, old, ended=old + 30, branch="Salem", step=1, level=1)
        missed = [o for o, called in c.no_shows if not called and o < self.today - 20]
        if not missed or r() > 0.6:
            return
        o = missed[-1]
        met = self.add_business_days(o, 8)
        if any(o <= day <= met for day in self.reached.get(c.case_id, ())):
            return  # the client answered: the episode ended without a conciliation
        stage = r()
        if stage < 0.4:
            say.event(met, "Good cause: yes", by="Case manager")
        elif stage < 0.55:
            say.event(met, "Decision not to disqualify", by="Re-engagement team")
        else:
            # A written attempt and one by phone, so that re-engagement may start (O-05).
            say.letter(o + 1, "Engagement", method="Postcard")
            say.attempt(o + 2, "Phone")
            say.letter(o + 3, "Re-engagement", reply_by=met)
            say.event(met, "Good cause: no", by="Re-engagement team")
            say.event(met, "Re-engagement page completed")
            say.event(met + 1, "Re-engagement page finalized")
            imposed = met + 4
            step = 2 if say.prior else 1
            say.penalty(None, imposed, step=step, level=1)
            say.letter(imposed, "Non-compliance")
            if stage > 0.8 and imposed + 5 < self.today:
                say.event(imposed + 5, "Re-engagement requested")

    def inject_problems(self, data: DemoData) -> None:
        """The fixed set of problems documented in `generate`."""
        clients, contacts = data["Clients"], data["Contacts"]
        last = len(clients) - 1

        def note(sheet: str, index: int, column: str, problem: str) -> None:
            value = data[sheet][index][schema.SHEETS[sheet].headers.index(column)]
            data.problems.append(InjectedProblem(sheet, index, column, value, problem))

        def put(sheet: str, index: int, column: str, value: object, problem: str) -> None:
            data[sheet][index][schema.SHEETS[sheet].headers.index(column)] = value
            note(sheet, index, column, problem)

        put("Contacts", 0, "Date", "13/45/2026", "text that is not a date (month 13, day 45)")
        put("Clients", min(2, last), "Date of Birth", "1/2/45", "two-digit year: 1945 or 2045?")
        put("Clients", min(3, last), "Case Manager", None, "required value missing")
        duplicate = list(clients[min(4, last)])
        duplicate[schema.CLIENTS.headers.index("Referral Date")] = self.day(self.today - 3)
        clients.append(duplicate)
        note("Clients", len(clients) - 1, "Case ID", "duplicate Case ID (the case entered twice)")
        alaska = [c.case_id for c in self.cases if c.office.state == "AK"]
        spaced = alaska[1] if len(alaska) > 1 else self.cases[0].case_id
        index = next((i for i, row in enumerate(contacts) if row[0] == spaced and i > 0), None)
        if index is not None:
            put("Contacts", index, "Case ID", f"  {spaced} ", "stray spaces around the Case ID")
        when = self.day(self.today - 2)
        cm = self.cases[0].case_manager
        contacts.append(
            ["AK-999999", when, "Phone", True, True, False, "Engagement", when, None, cm, None]
        )
        note("Contacts", len(contacts) - 1, "Case ID", "contact for an unknown Case ID")


class _Story:
    """Writes one case's non-compliance history as rows."""

    def __init__(self, gen: _Generator, c: _Case, events: list, penalties: list, letters: list):
        self.gen, self.c = gen, c
        self.events, self.penalties, self.letters = events, penalties, letters
        self.prior = False

    def event(self, o: int, what: str, reported: int | None = None, by: str | None = None) -> None:
        if o > self.gen.today:
            return
        day, c = self.gen.day, self.c
        self.events.append(
            [
                c.case_id,
                c.person_id,
                day(o),
                what,
                day(reported),
                None,
                by,
                c.office.branch,
                c.case_manager,
                None,  # Called Ahead
                None,
            ]
        )

    def penalty(
        self,
        requested: int | None,
        imposed: int,
        *,
        intent: int | None = None,
        compliance: int | None = None,
        ended: int | None = None,
        branch: str | None = None,
        step: int | None = None,
        level: int | None = None,
    ) -> None:
        if imposed > self.gen.today:
            return
        day, c = self.gen.day, self.c
        self.prior = self.prior or branch is not None
        manager = "(other branch)" if branch else c.case_manager
        percent = 40 if c.program in ALASKA else None
        self.penalties.append(
            [
                c.case_id,
                c.person_id,
                c.program,
                day(requested),
                day(imposed),
                step,
                level,
                percent,
                day(intent),
                day(compliance),
                day(ended),
                branch or c.office.branch,
                manager,
                None,
                None,
                None,
                None,
            ]
        )

    def letter(
        self, o: int, purpose: str, reply_by: int | None = None, method: str = "Letter"
    ) -> None:
        if o <= self.gen.today:
            self.letters.append((self.c, _contact(o, method, purpose=purpose), reply_by))

    def attempt(self, o: int, method: str) -> None:
        if o <= self.gen.today:
            self.letters.append((self.c, _contact(o, method, purpose="Engagement"), None))


def _contact(
    o: int,
    method: str,
    successful: bool = False,
    meaningful: bool = False,
    plan_reviewed: bool = False,
    purpose: str = "Other",
    notes: str | None = None,
) -> list:
    """A contact while being planned: [date, method, successful, meaningful, plan reviewed,
    purpose, notes]; `_emit` adds the case, note-entered date and staff."""
    return [o, method, successful, meaningful, plan_reviewed, purpose, notes]


_J016 = "J016 sent with EA appointment date and time"


# ---------------------------------------------------------------- entry point


def generate(
    n_clients: int = 600,
    *,
    as_of: date = AS_OF,
    seed: int = 2026,
    contacts_per_client: float | None = None,
    messy: bool = False,
) -> DemoData:
    """Rows for Branches, Staff, Clients, Contacts, Appointments, Hours, Services and Plans.

    Each value of the returned dict is a list of rows, each row a list in the order of
    `schema.SHEETS[name].headers`. The result is a `DemoData` (a dict subclass) whose
    `.problems` lists what `messy=True` injected (empty otherwise).

    n_clients: clients across the three branches (at least 1; the first six cover all programs).
    as_of: the "today" of the data. No date is after it except Scheduled appointments,
        scheduled services (Start Date after as_of), service End Dates, and the
        forward-looking plan columns (Due Back Date, Expiry Date).
    seed: same seed, same rows.
    contacts_per_client: if given, the Contacts sheet gets about n_clients times this many
        rows (shared out in proportion to the months each case has been open), e.g. for
        benchmarks; by default each case gets the contacts its story needs (about 10).
    messy: if True, inject exactly these problems, each also listed in `.problems`
        (sheet, 0-based row index, column, value, problem):
        1. Contacts row 0, Date = "13/45/2026" (text, not a date).
        2. Clients row 2, Date of Birth = "1/2/45" (two-digit year).
        3. Clients row 3, Case Manager = None (required value blank).
        4. A copy of Clients row 4 appended at the end (duplicate Case ID), with a
           Referral Date 3 days before as_of.
        5. The first Contacts row (after row 0) of the second Alaska case ("AK-100002"
           with the default seed), Case ID written "  AK-100002 " (stray spaces).
        6. A Contacts row appended for Case ID "AK-999999", which no client has.
    """
    gen = _Generator(n_clients, as_of, seed, contacts_per_client)
    with speed.without_cycle_collector():
        gen.make_cases()
        services = gen.service_rows()  # sets the EA, orientation, ISS and youth exit dates
        plans = gen.plan_rows()  # sets the FSSP dates read by the appointments
        appointments = gen.appointment_rows()  # sets the no-shows read by the contacts
        data = DemoData()
        data["Branches"] = gen.branch_rows()
        data["Staff"] = gen.staff_rows()
        data["Clients"] = gen.client_rows()
        data["Contacts"] = gen.contact_rows()
        data["Appointments"] = appointments
        data["Hours"] = gen.hours_rows()
        data["Services"] = services
        data["Plans"] = plans
        events, penalties, letters = gen.noncompliance_rows(data["Contacts"])
        data["Contacts"].extend(gen.contact_rows_for(letters))
        data["Noncompliance"] = events
        data["Penalties"] = penalties
        if messy:
            gen.inject_problems(data)
    return data
