"""A small branch caseload whose report figures are worked out by hand (test_report.py).

As of Mon 2026-11-23, branch Houston (TX), case managers Ana (supervisor Sue Boss) and
Ben (supervisor Tom Lead on the Staff sheet):

- TX-1 Choices, Ana, referred 2026-06-01, nothing recorded since: T-15 (no activity for
  more than a month) -> Non-Compliance TANF, last activity 2026-06-01, 175 days.
- TX-2 Choices, Ben, referred 2026-10-01, phone contact 2026-11-10, 35 verified core
  hours a week in October (140 h / 4.33 = 32.33 a week: meets 30/20). One Contacts row
  with the date '13/45/2026' (an error filed under Choices / Ben).
- TX-3 WIOA Youth, Ana, male born 2000-01-01, referred 2026-08-01, COA 2026-08-01 and
  no number: Selective Service due 2026-08-31, 84 days overdue; exit clock 114 days
  since the COA -> band 90+ (exit), -24 days left.
- TX-4 WIOA Youth, Ben, female, COA 2026-10-20 -> 34 days, band 31-60, 56 days left.
- TX-5 WIOA Youth, Ben, male with a number, COA 2026-07-01, planned gap 2026-07-15 to
  2026-12-15 (153 days, allowed reason) -> listed apart under Planned gap.
- TX-6 Choices, Ana, referred 2026-11-20, name typed as a formula: stays text.
- TX-7 Choices row without a Program: rejected (an error filed under (unknown)).

Participation (Choices counts among the TANF work programs): August and September one
family (TX-1), none meeting; October two (TX-1, TX-2), one meeting: 50%.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyxl.adapters import schema
from pyxl.services.new_workbook import create_workbook

D = dt.date
AS_OF = D(2026, 11, 23)
INJECTED_NAME = '=HYPERLINK("http://evil.example","click")'


def _row(sheet: schema.Sheet, **values: object) -> list[object]:
    unknown = set(values) - set(sheet.headers)
    assert not unknown, unknown
    return [values.get(h) for h in sheet.headers]


def _client(case_id: str, name: str, program: str | None, manager: str, referral: dt.date, **kw):
    return _row(
        schema.CLIENTS,
        **{
            "Case ID": case_id,
            "Person ID": f"P-{case_id}",
            "Client Name": name,
            "Program": program,
            "Branch": kw.pop("branch", "Houston"),
            "Case Manager": manager,
            "Referral Date": referral,
            **kw,
        },
    )


def branch_rows(branch: str = "Houston", prefix: str = "TX") -> dict[str, list[list[object]]]:
    def cid(n: int) -> str:
        return f"{prefix}-{n}"

    def client(n, name, program, manager, referral, **kw):
        return _client(cid(n), name, program, manager, referral, branch=branch, **kw)

    choices, youth = "Texas Choices", "Texas WIOA Youth"
    hours = [
        _row(
            schema.HOURS,
            **{
                "Case ID": cid(2),
                "Week Start": monday,
                "Activity": "Job search and job readiness",
                "Hours": 35.0,
                "Verified": True,
                "Entered Date": monday + dt.timedelta(days=8),
            },
        )
        for monday in (D(2026, 10, 5), D(2026, 10, 12), D(2026, 10, 19), D(2026, 10, 26))
    ]

    def service(n, kind, start, **kw):
        return _row(
            schema.SERVICES, **{"Case ID": cid(n), "Service": kind, "Start Date": start, **kw}
        )

    return {
        "Branches": [
            _row(
                schema.BRANCHES,
                Branch=branch,
                State="TX",
                Calendar="TX",
                Supervisor="Sue Boss",
            )
        ],
        "Staff": [
            _row(schema.STAFF, **{"Case Manager": "Ana", "Branch": branch, "Supervisor": ""}),
            _row(
                schema.STAFF, **{"Case Manager": "Ben", "Branch": branch, "Supervisor": "Tom Lead"}
            ),
        ],
        "Clients": [
            client(1, "Alma Quiet", choices, "Ana", D(2026, 6, 1)),
            client(2, "Bea Busy", choices, "Ben", D(2026, 10, 1)),
            client(
                3,
                "Carl Young",
                youth,
                "Ana",
                D(2026, 8, 1),
                Sex="M",
                **{"Date of Birth": D(2000, 1, 1)},
            ),
            client(
                4,
                "Dana Young",
                youth,
                "Ben",
                D(2026, 9, 1),
                Sex="F",
                **{"Date of Birth": D(2005, 5, 5)},
            ),
            client(
                5,
                "Eli Gap",
                youth,
                "Ben",
                D(2026, 6, 1),
                Sex="M",
                **{"Date of Birth": D(2006, 3, 1), "Selective Service No": "1234567890"},
            ),
            client(6, INJECTED_NAME, choices, "Ana", D(2026, 11, 20)),
            client(7, "Gus Nofield", None, "Ana", D(2026, 11, 2)),
        ],
        "Contacts": [
            _row(
                schema.CONTACTS,
                **{
                    "Case ID": cid(2),
                    "Date": D(2026, 11, 10),
                    "Method": "Phone",
                    "Successful": True,
                },
            ),
            _row(
                schema.CONTACTS,
                **{"Case ID": cid(2), "Date": "13/45/2026", "Method": "Phone", "Successful": True},
            ),
        ],
        "Hours": hours,
        "Services": [
            service(3, "COA (08)", D(2026, 8, 1), Qualifying=True),
            service(4, "COA (08)", D(2026, 10, 20), Qualifying=True),
            service(5, "COA (08)", D(2026, 7, 1), Qualifying=True),
            service(
                5,
                "Planned gap (11)",
                D(2026, 7, 15),
                **{"End Date": D(2026, 12, 15), "Gap Reason": "Delay before training"},
            ),
        ],
    }


def build_branch(path: Path, branch: str = "Houston", prefix: str = "TX") -> Path:
    return create_workbook(path, as_of=AS_OF, rows=branch_rows(branch, prefix), overwrite=True)
