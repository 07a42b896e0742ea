"""Evaluation: the vectorised engine against the per-case reference evaluator (the naive way).

Both get the same caseload, built once outside the timing: the reference as domain objects,
the engine as columns (`CaseloadColumns`, the form workbook validation hands it). The engine is
timed on the whole caseload; the reference on an evenly spread subset of clients
(every k-th client with all of its rows), extrapolated per client. Before any
ratio is printed, both must give identical obligations on that subset.
"""

from __future__ import annotations

import gc
import time
from collections import Counter

from bench_common import (
    Result,
    Target,
    calendars_for,
    caseload_from_rows,
    check_against_validation,
    fmt_rate,
    fmt_s,
    median,
    office_holiday_rows,
    repeat,
    say,
)

TARGET_RATIO = 20.0
TARGET_SECONDS = 2.0
TARGET_CLIENTS = 100_000


def subset(caseload, every: int, limit: int):
    """Every `every`-th client (up to `limit`) and all rows of those clients."""
    import dataclasses

    clients = caseload.clients[::every][:limit]
    keep = {c.case_id for c in clients}
    tables = {
        t: tuple(r for r in getattr(caseload, t) if r.case_id in keep)
        for t in ("contacts", "appointments", "hours", "services", "plans")
    }
    return dataclasses.replace(caseload, clients=clients, **tables)


def columns_cost(caseload, repeats: int) -> dict:
    """What it costs to turn the row objects into the engine's columns (arrays, text codes,
    the case join): not part of the engine's time, because workbook validation hands the
    engine columns, never row objects (a diagnostic, printed beside the engine time)."""
    from pyxl.domain.columns import CaseloadColumns

    runs, _, _ = repeat(lambda: CaseloadColumns.from_caseload(caseload).load(), repeats)
    return {"columns_from_objects_s": median(runs)}


def run(
    n_clients: int,
    contacts_per_client: float,
    subset_clients: int,
    repeats: int,
    full_reference: bool = False,
) -> Result:
    from pyxl.domain import engine, reference
    from pyxl.domain.columns import CaseloadColumns
    from pyxl.policy import default_settings, rulebook
    from pyxl.services import demo_data

    res = Result("evaluation")
    as_of = demo_data.AS_OF
    say(f"== evaluation: {n_clients:,} clients, contacts_per_client={contacts_per_client:g}")

    t0 = time.perf_counter()
    same_inputs = check_against_validation()
    res.check("direct domain objects == validate_workbook's (300-client sample)", same_inputs)
    rows = demo_data.generate(n_clients, contacts_per_client=contacts_per_client)
    _, holidays = office_holiday_rows(as_of)
    caseload = caseload_from_rows(rows, holidays)
    del rows
    gc.collect()
    sizes = {
        t: len(getattr(caseload, t))
        for t in ("clients", "contacts", "appointments", "hours", "services", "plans")
    }
    say(
        "  setup (generate + domain objects, not timed): "
        f"{time.perf_counter() - t0:.1f} s; rows: "
        + ", ".join(f"{k} {v:,}" for k, v in sizes.items())
    )
    book, settings, calendars = rulebook(), default_settings(), calendars_for(caseload)
    # The engine's input is columns, as validation makes them; the reference's is objects.
    # Both are made here, outside the timing.
    columns = CaseloadColumns.from_caseload(caseload).load()

    def run_engine(cl):
        return lambda: engine.evaluate(cl, book, settings, calendars, as_of)

    def run_reference(cl):
        return lambda: reference.evaluate(cl, book, settings, calendars, as_of)

    # The engine, whole caseload.
    engine_runs, engine_cpu, obligations = repeat(run_engine(columns), repeats)
    engine_s, engine_cpu_s = median(engine_runs), median(engine_cpu)
    n_obligations = len(obligations)
    del obligations
    say(
        f"  engine.evaluate, {n_clients:,} clients: median {fmt_s(engine_s)} "
        f"(runs: {', '.join(f'{t:.2f}' for t in engine_runs)}; CPU {fmt_s(engine_cpu_s)}), "
        f"{n_obligations:,} obligations"
    )
    split = columns_cost(caseload, repeats)
    say(
        "  (not timed: turning the row objects into columns takes "
        f"{fmt_s(split['columns_from_objects_s'])}; recompute gets columns from validation)"
    )

    # The reference on a subset, and the equality check on that subset.
    every = max(1, n_clients // subset_clients)
    small = subset(caseload, every, subset_clients)
    n_small = len(small.clients)
    ref_runs, ref_cpu, ref_out = repeat(run_reference(small), max(repeats, 5))
    ref_s, ref_cpu_s = median(ref_runs), median(ref_cpu)
    small_columns = CaseloadColumns.from_caseload(small).load()
    eng_small_runs, _, eng_small = repeat(run_engine(small_columns), max(repeats, 5))
    identical = Counter(eng_small.records()) == Counter(ref_out)
    res.check(f"engine == reference on the {n_small:,}-client subset", identical)
    say(
        f"  reference.evaluate, {n_small:,}-client subset (one client in {every}): "
        f"median {fmt_s(ref_s)} (CPU {fmt_s(ref_cpu_s)}); engine on the same subset "
        f"{fmt_s(median(eng_small_runs))}; {len(ref_out):,} obligations, identical: {identical}"
    )
    del ref_out, eng_small

    engine_rate = n_clients / engine_s
    ref_rate = n_small / ref_s
    ratio = engine_rate / ref_rate
    cpu_ratio = (n_clients / engine_cpu_s) / (n_small / ref_cpu_s)
    ref_extrapolated = n_clients / ref_rate
    same_size_ratio = ref_s / median(eng_small_runs)
    res.row(f"engine, {n_clients:,} clients", f"{fmt_s(engine_s)} ({fmt_rate(engine_rate)})")
    res.row(
        "  (input: columns from row objects, not timed)",
        fmt_s(split["columns_from_objects_s"]),
    )
    res.row(
        f"naive reference ({n_small:,} subset, extrapolated)",
        f"{fmt_s(ref_extrapolated)} ({fmt_rate(ref_rate)})",
        f"engine {ratio:.1f}x (CPU time {cpu_ratio:.1f}x)",
    )
    res.row(
        f"engine vs reference, both on the {n_small:,} subset",
        f"{fmt_s(median(eng_small_runs))} vs {fmt_s(ref_s)}",
        f"engine {same_size_ratio:.1f}x",
    )
    data = {
        "clients": n_clients,
        "rows": sizes,
        "obligations": n_obligations,
        "engine_seconds": engine_runs,
        "engine_cpu_seconds": engine_cpu,
        "engine_median_s": engine_s,
        "engine_clients_per_s": engine_rate,
        "engine_split": split,
        "reference_subset_clients": n_small,
        "reference_subset_every": every,
        "reference_subset_seconds": ref_runs,
        "reference_subset_cpu_seconds": ref_cpu,
        "reference_clients_per_s": ref_rate,
        "reference_extrapolated_s": ref_extrapolated,
        "engine_subset_seconds": eng_small_runs,
        "ratio_engine_vs_reference": ratio,
        "ratio_engine_vs_reference_cpu": cpu_ratio,
        "ratio_same_subset": same_size_ratio,
        "identical_on_subset": identical,
    }

    if full_reference:
        full_runs, _, _ = repeat(run_reference(caseload), 1)
        data["reference_full_s"] = full_runs[0]
        res.row(
            f"naive reference, all {n_clients:,} clients (measured)",
            f"{fmt_s(full_runs[0])} ({fmt_rate(n_clients / full_runs[0])})",
            f"engine {full_runs[0] / engine_s:.1f}x",
        )
        say(f"  reference.evaluate, all clients: {fmt_s(full_runs[0])}")

    say(
        f"  clients/s: engine {fmt_rate(engine_rate)}, reference {fmt_rate(ref_rate)} "
        f"-> engine {ratio:.1f}x the reference"
    )
    at_scale = n_clients >= TARGET_CLIENTS
    res.targets += [
        Target(
            f"engine >= {TARGET_RATIO:.0f}x naive",
            f">= {TARGET_RATIO:.0f}x",
            f"{ratio:.1f}x",
            ratio >= TARGET_RATIO if at_scale else None,
        ),
        Target(
            f"engine < {TARGET_SECONDS:.0f} s for {TARGET_CLIENTS:,} clients",
            f"< {TARGET_SECONDS:.0f} s",
            fmt_s(engine_s),
            engine_s < TARGET_SECONDS if at_scale else None,
        ),
    ]
    res.data = data
    return res
