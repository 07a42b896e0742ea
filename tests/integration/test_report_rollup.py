"""The roll-up beyond one process: worker processes and a Dask cluster give the same report
as the plain path; the Parquet export holds the same counts (read with DuckDB); a
workbook that cannot be read is named, the report is made from the others, and no input
is touched."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import duckdb
import pytest
from ooxml import strict_copy
from report_fixtures import AS_OF, build_branch

from pyxl.cli import main
from pyxl.services.demo import run_demo
from pyxl.services.export import SCHEMAS, export
from pyxl.services.report import Report, run_report
from pyxl.services.rollup import _biggest_first, reduce_all

STATUS = ("Open", "Overdue", "Due Soon", "Due", "Met")


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("rollup")
    houston = build_branch(folder / "houston.xlsx")
    austin = build_branch(folder / "austin.xlsx", branch="Austin", prefix="AU")
    demo = run_demo(folder / "demo", as_of=AS_OF, n_clients=150).path
    return [houston, austin, demo]


@pytest.fixture(scope="module")
def plain(workbooks: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("plain") / "plain.xlsx"
    return run_report(workbooks, AS_OF, out, workers=1).report


def values(report: Report) -> dict[str, list[list[object]]]:
    """Every table's rows (the Trend's report date aside: it reads the history file)."""
    tables = {name: t.rows for name, t in report.tables.items() if name != "Trend"}
    tables.update({f"beside {n}": t.rows for n, t in report.beside.items()})
    return tables


def test_worker_processes_give_the_plain_report(workbooks, plain, tmp_path: Path) -> None:
    pooled = run_report(workbooks, AS_OF, tmp_path / "pooled.xlsx", workers=2).report
    assert values(pooled) == values(plain)


def test_workers_take_the_biggest_workbook_first_and_answer_in_the_order_given(
    workbooks, tmp_path: Path
) -> None:
    small = build_branch(tmp_path / "small.xlsx", branch="Waco", prefix="WA")
    paths = [small, *workbooks]
    assert _biggest_first(paths)[0] == len(paths) - 1  # the demo, given last, goes first
    parts, skipped = reduce_all(paths, AS_OF, workers=2)
    assert [p.name for p in parts] == [p.name for p in paths] and not skipped


def test_a_roll_up_lists_clients_in_the_detail_workbook_and_counts_them_in_the_report(
    workbooks, plain, tmp_path: Path
) -> None:
    """A roll-up's report keeps counts; its client lists (which would grow with every
    workbook) are the detail workbook's, and only come back from the workers for it."""
    from pyxl.services.report import CLIENT_LISTS

    assert not set(CLIENT_LISTS) & set(plain.tables)
    parts, _ = reduce_all(workbooks, AS_OF)
    assert all(set(p.lists) == {"Exceptions"} and not p.detail for p in parts)
    full = run_report(workbooks, AS_OF, tmp_path / "detailed.xlsx", detail=True)
    assert full.detail_report is not None and set(CLIENT_LISTS) <= set(full.detail_report.tables)
    singles = [run_report([p], AS_OF, tmp_path / f"one-{k}.xlsx") for k, p in enumerate(workbooks)]
    for sheet in CLIENT_LISTS:
        assert sorted(map(str, full.table(sheet).rows)) == sorted(
            str(r) for s in singles for r in s.report.tables[sheet].rows
        ), sheet
    overview = dict((r[0], r[1]) for r in plain.tables["Overview"].rows)
    exiting = sum(r[0] == "90+ (exit)" for r in full.table("CM Exiter Alert").rows)
    assert overview["WIOA 90+ days (exit)"] == exiting
    assert overview["Non-Compliance TANF"] == len(full.table("Non-Compliance TANF").rows)
    assert overview["Selective Service missing"] == len(full.table("Selective Service").rows)
    by_cm = {tuple(r[:2]): r for r in plain.tables["Conciliation by CM"].rows}
    for key, row in by_cm.items():
        held = [r for r in full.table("Conciliation").rows if tuple(r[:2]) == key]
        assert row[2] == len(held) and row[3] == sum(r[7] == "Yes" for r in held), key


def test_a_dask_cluster_of_two_workers_gives_the_plain_report(workbooks, plain, tmp_path) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        address = cluster.scheduler_address
        on_dask = run_report(workbooks, AS_OF, tmp_path / "dask.xlsx", scheduler=address)
    assert values(on_dask.report) == values(plain)


def test_duckdb_reads_the_export_and_counts_what_the_report_counts(
    workbooks, plain, tmp_path: Path
) -> None:
    result = export(workbooks, AS_OF, tmp_path / "export")
    assert set(result.files) == set(SCHEMAS) and not result.skipped
    db = duckdb.connect()
    for table, path in result.files.items():
        db.execute(f"create view {table} as select * from read_parquet('{path}')")
        got = [(c, str(t)) for c, t, *_ in db.execute(f"describe {table}").fetchall()]
        assert [c for c, _ in got] == SCHEMAS[table].names  # the documented schema
    by_branch = {
        branch: [opened, late, soon, due, met]
        for branch, opened, late, soon, due, met in db.execute(
            """select branch,
                 count(*) filter (where status in ('OVERDUE', 'DUE SOON', 'DUE')),
                 count(*) filter (where status = 'OVERDUE'),
                 count(*) filter (where status = 'DUE SOON'),
                 count(*) filter (where status = 'DUE'),
                 count(*) filter (where status = 'MET')
               from obligations group by branch"""
        ).fetchall()
    }
    table = plain.tables["By Branch"]
    expected = {
        r[0]: [r[table.columns.index(c)] for c in table.columns if c.header in STATUS]
        for r in table.rows
    }
    assert by_branch == expected
    figures = {r[0]: r[1] for r in plain.tables["Overview"].rows}
    (listed,) = db.execute("select count(*) from due_list").fetchone()
    assert listed == figures["Obligations open"]
    (late,) = db.execute("select count(*) from due_list where status = 'OVERDUE'").fetchone()
    assert late == figures["OVERDUE"]
    (clients,) = db.execute(
        "select count(distinct workbook || case_id) from obligations"
    ).fetchone()
    assert clients <= figures["Clients"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("damaged", "not a readable"), ("strict", "saved as a Strict Open XML Spreadsheet")],
)
def test_an_unreadable_workbook_is_named_and_the_others_reported(
    workbooks, tmp_path: Path, capsys, kind: str, reason: str
) -> None:
    """A damaged file, or one saved as Excel's Strict Open XML (before: reported as a
    branch with no clients and every sheet missing)."""
    broken = tmp_path / "broken.xlsx"
    if kind == "strict":
        strict_copy(workbooks[0], broken)
    else:
        broken.write_bytes(b"PK\x03\x04 this is not a workbook")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in [*workbooks, broken]}
    out = tmp_path / "report.xlsx"
    code = main(["report", str(broken), *map(str, workbooks), "--as-of", "2026-11-23",
                 "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr()
    assert code == 1
    assert "broken.xlsx" in printed.err and reason in printed.err
    assert out.exists() and "3 workbook(s)" in printed.out
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in [*workbooks, broken]}
    assert after == before
    code = main(["export", str(broken), str(workbooks[0]), "--as-of", "2026-11-23",
                 "--out", str(tmp_path / "export")])  # fmt: skip
    assert code == 1 and "broken.xlsx" in capsys.readouterr().err


def test_the_pdf_leaves_long_lists_in_the_workbook(
    soffice: str, workbooks, tmp_path: Path, monkeypatch
) -> None:
    """A county's lists run to hundreds of pages: the PDF prints the summary sheets and
    the lists up to PDF_LIST_ROWS rows; the workbook keeps every list."""
    from pyxl.services import report as module

    monkeypatch.setattr(module, "PDF_LIST_ROWS", 20)
    result = run_report(workbooks, AS_OF, tmp_path / "county.xlsx", pdf=True)
    long_lists = {n for n, t in result.report.tables.items() if len(t.rows) > 20}
    charted = {c.sheet for c in result.report.charts}
    assert result.not_printed and set(result.not_printed) == long_lists - charted - {"Overview"}
    assert result.pdf is not None and result.pdf == tmp_path / "county.pdf"
    text = subprocess.run(
        ["pdftotext", str(result.pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Who is behind" in text and "Obligations by branch" in text
    for sheet in result.not_printed:
        assert result.report.tables[sheet].title not in text, sheet
