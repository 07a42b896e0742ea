"""The benchmarks keep working: a quick run completes and its correctness checks pass.

Speed is not asserted here (that is what the benchmarks print); only that the fast and the
naive ways still give the same answers and the runner does not rot.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_run_passes_its_correctness_checks(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--no-json", "--cache-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "correctness checks: all passed" in done.stdout
    assert "vs naive" in done.stdout  # ratios are printed against the naive baselines
