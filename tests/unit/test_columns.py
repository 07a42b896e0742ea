"""The caseload as columns: what workbook validation hands the engine."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

from pyxl.adapters import schema
from pyxl.adapters.validation import validate_workbook
from pyxl.adapters.workbook_reader import RawSheet, RawWorkbook
from pyxl.domain import engine, model, reference
from pyxl.domain.calendar import BusinessCalendar
from pyxl.domain.columns import CaseloadColumns, TableColumns, column_kind, member_of
from pyxl.domain.model import Client, Contact, Program
from pyxl.policy import default_settings, rulebook
from pyxl.services import demo_data
from pyxl.services.new_workbook import holiday_rows, settings_rows

D = dt.date
ANNA = Client("C1", "Anna", Program.TX_CHOICES, "Houston", "Lee", D(2026, 1, 5))
BEN = Client("C2", "Ben", Program.OR_JOBS, "Portland", "Kim", D(2026, 2, 9), engaged=False)
CALLS = (
    Contact("C1", D(2026, 3, 2), "Phone", True),
    Contact("C9", D(2026, 3, 3), "Letter", False),  # a case that is not on the Clients sheet
    Contact("C2", D(2026, 3, 4), "Letter", False, purpose="Re-engagement"),
    Contact("C1", D(2026, 3, 5), "Text", True),
)


def test_field_kinds_come_from_the_domain_types_not_from_the_values():
    assert column_kind(Contact, "date") == "date"
    assert column_kind(Contact, "note_entered") == "date"  # optional date
    assert column_kind(Contact, "successful") == "bool"
    assert column_kind(Contact, "method") == "object"
    assert column_kind(Client, "program") == "object"


def test_columns_made_from_rows_hold_dates_as_ordinals_with_zero_for_blank():
    table = TableColumns.from_rows(Contact, CALLS)
    assert table["date"].tolist() == [d.date.toordinal() for d in CALLS]
    assert table["note_entered"].tolist() == [0, 0, 0, 0]
    assert table["successful"].dtype == bool
    assert table["purpose"].tolist() == [None, None, "Re-engagement", None]


def test_a_field_missing_from_the_values_takes_the_domain_default_on_every_row():
    table = TableColumns(Client, 2, {"case_id": ["C1", "C2"]})
    assert table["engaged"].tolist() == [True, True]
    assert table.values("language") == ["English", "English"]
    assert table["closure_date"].tolist() == [0, 0]
    with pytest.raises(KeyError, match="no field 'colour'"):
        table.values("colour")


def test_columns_of_unequal_length_are_refused():
    with pytest.raises(ValueError, match=r"Contact\.date: 1 values, expected 2"):
        TableColumns(Contact, 2, {"case_id": ["C1", "C2"], "date": [D(2026, 3, 2)]})


def test_columns_turn_back_into_the_same_domain_objects_with_programs_as_the_enum():
    values = {
        name: [
            str(v) if isinstance(v, Program) else v for v in (getattr(c, name) for c in (ANNA, BEN))
        ]
        for name in model.field_names(Client)
    }
    rows = TableColumns(Client, 2, values).rows()
    assert rows == (ANNA, BEN)
    assert isinstance(rows[0].program, Program)


def test_codes_number_the_distinct_values_and_isin_tests_them():
    table = TableColumns.from_rows(Contact, CALLS)
    codes, index = table.codes("method")
    assert index == {"Phone": 0, "Letter": 1, "Text": 2}
    assert codes.tolist() == [0, 1, 1, 2]
    assert table.isin("method", ["Letter", "E-mail"]).tolist() == [False, True, True, False]
    assert table.isin("method", ["E-mail"]).tolist() == [False] * 4
    assert member_of(np.array([2, 0, 1]), [2], 3).tolist() == [True, False, False]


def test_case_positions_join_each_row_to_its_client_and_mark_unknown_cases():
    columns = CaseloadColumns.from_caseload(model.Caseload(clients=(ANNA, BEN), contacts=CALLS))
    assert columns.case_positions("contacts").tolist() == [0, -1, 1, 0]
    assert columns.case_positions("plans").tolist() == []
    assert columns.load() is columns


def test_the_engine_on_the_validated_workbook_columns_matches_the_reference_on_its_objects():
    as_of = demo_data.AS_OF
    content = {
        **demo_data.generate(300),
        "Settings": settings_rows(),
        "Holidays": holiday_rows(as_of),
    }

    def raw(name: str, body: list[list[object]]) -> RawSheet:
        # As the reader shows a sheet: title, description, headers, rows; blanks are "".
        sheet = schema.SHEETS[name]
        values = [[sheet.title], [sheet.description], list(sheet.headers)]
        return RawSheet(name, values + [["" if v is None else v for v in r] for r in body])

    workbook = RawWorkbook({k: raw(k, v) for k, v in content.items()}, False, {})
    validated = validate_workbook(workbook, default_settings(), as_of)
    assert not validated.errors
    holidays = validated.domain_rows("Holidays")
    calendars = {
        b.name: BusinessCalendar.from_holidays(b.calendar, holidays)
        for b in validated.domain_rows("Branches")
    }
    book, settings = rulebook(), validated.settings
    from_columns = engine.evaluate(validated.columns, book, settings, calendars, as_of).records()
    expected = reference.evaluate(validated.caseload, book, settings, calendars, as_of)
    assert Counter(from_columns) == Counter(expected)
    assert len(expected) > 1000
