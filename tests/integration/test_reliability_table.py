"""The README's reliability table shows what the tests really try: each figure there is
worked out here from the test that produces it (a figure shown in two places must agree)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import ModuleType

import test_concurrent_writers
import test_files_validate
import test_formula_injection
import test_hostile_files
import test_impossible_values
import test_letter_rendering
import test_literal_text
import test_messy_workbook
import test_recompute_safety
import test_safe_save

README = Path(__file__).parents[2] / "README.md"


def examples(test: object) -> int:
    """How many random examples a hypothesis test tries per run."""
    return test._hypothesis_internal_use_settings.max_examples  # type: ignore[attr-defined]


def cases(test: object) -> int:
    """How many cases a parametrized test runs."""
    marks = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
    count = 1
    for mark in marks:
        count *= len(mark.args[1])
    return count


def validated_kinds(module: ModuleType) -> int:
    """Tests that validate a file pyxl writes (an expected failure would not count)."""
    return sum(
        1
        for name, test in vars(module).items()
        if name.startswith("test_")
        and "ooxml.problems(" in inspect.getsource(test)
        and not any(m.name == "xfail" for m in getattr(test, "pytestmark", []))
    )


def figures() -> dict[str, list[str]]:
    safety, concurrent = test_recompute_safety, test_concurrent_writers
    kills = (
        cases(safety.test_killed_recompute_leaves_old_or_complete_new_version)
        + cases(safety.test_kill_at_each_step_of_the_save)
        + 1  # test_recovery_after_a_killed_big_run
    )
    impossible = test_impossible_values
    random_values = examples(
        impossible.test_any_value_in_a_number_column_is_read_or_reported_at_its_cell
    ) + examples(impossible.test_the_columnar_reading_takes_only_possible_numbers_and_agrees)
    random_values += examples(
        impossible.test_any_value_in_a_date_column_is_read_or_reported_at_its_cell
    )
    literal = test_literal_text
    random_lists = sum(
        examples(t)
        for t in (
            literal.test_appended_rows_keep_text_as_typed,
            literal.test_recomputed_tables_keep_text_as_typed,
            literal.test_new_workbooks_keep_text_as_typed,
            literal.test_reports_keep_text_as_typed,
        )
    )
    messy = test_messy_workbook
    letters = test_letter_rendering
    hostile_letters = letters.test_hostile_client_text_never_breaks_a_letter_and_each_letter_holds_only_its_own_client  # noqa: E501
    pairs = len(concurrent.PAIRS)
    hostile = test_hostile_files
    far_values = (
        cases(hostile.test_a_stray_far_cell_is_an_errors_row_and_the_results_are_normal)
        + cases(hostile.test_a_far_cell_written_as_excel_never_writes_it_is_found_all_the_same)
        + cases(hostile.test_a_far_row_is_found_however_its_position_is_written)
    )
    written_otherwise = (
        cases(hostile.test_a_sheet_written_as_excel_never_writes_it_is_read_but_not_written_into)
        + 1  # test_excels_own_prefixed_elements_are_neither_odd_nor_refused
    )
    ranged = cases(hostile.test_a_filled_sheet_converted_to_a_range_is_refused_in_one_line)
    refused = cases(hostile.test_shared_strings_claiming_four_billion_strings_is_refused) + len(
        [  # one file each
            hostile.test_a_sheet_with_more_rows_than_excel_allows_is_refused,
            hostile.test_a_sheet_that_inflates_a_thousandfold_is_refused_before_it_is_inflated,
            hostile.test_a_sheet_inflating_past_its_declared_size_is_not_inflated_further,
        ]
    )
    return {
        "test_recompute_safety.py": [f"{kills} kills"],
        "test_concurrent_writers.py": [
            "1 kill",
            f"{pairs * concurrent.ROUNDS} races ({pairs} pairs, {concurrent.ROUNDS} rounds)",
        ],
        "test_impossible_values.py": [
            f"{len(impossible.IMPOSSIBLE)} in a workbook, {random_values} random values a run"
        ],
        "test_messy_workbook.py": [
            f"{len(messy.CLIENT_ROWS) + len(messy.CONTACT_ROWS)} rows, "
            f"{len(messy.EXPECTED)} problems"
        ],
        "test_formula_injection.py": [f"{len(test_formula_injection.PAYLOADS)} payloads"],
        "test_literal_text.py": [
            f"{len(literal.TRICKY)} fixed strings, {random_lists} random lists a run"
        ],
        "test_letter_rendering.py": [f"{examples(hostile_letters)} random letter sets a run"],
        "test_safe_save.py": [
            f"{cases(test_safe_save.test_a_broken_new_version_is_refused_even_without_a_verify_hook)} files"  # noqa: E501
        ],
        "test_files_validate.py": [f"{validated_kinds(test_files_validate)} kinds"],
        "test_hostile_files.py": [
            f"{far_values} files",
            "1 file",
            f"{refused} files",
            f"{written_otherwise} files",
            f"{ranged} files",
        ],
    }


def table_rows() -> list[str]:
    text = README.read_text("utf-8")
    section = re.search(r"^## Reliability: what was tried\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "the README has a reliability section"
    return [line for line in section.group(1).splitlines() if line.startswith("| ")]


def test_every_figure_in_the_readme_reliability_table_is_the_tests_own() -> None:
    rows = table_rows()
    for test_file, wanted in figures().items():
        mine = [row for row in rows if f"`{test_file}`" in row]
        assert mine, f"no row for {test_file}"
        for figure in wanted:
            assert any(f"| {figure} |" in row for row in mine), (test_file, figure, mine)
