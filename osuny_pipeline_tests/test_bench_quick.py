"""The benchmarks cannot rot: `python -m bench --quick` runs every figure on small sizes.

No time is asserted (the machine is noisy): only that each figure printed our value, the
baseline's and a ratio, and the count-based outcomes of the burst."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmarks_run_and_print_ratios(pg_template):  # pg_template: PostgreSQL must answer
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("fig ")]
    assert {line.split()[1] for line in lines} == {"1", "2", "3", "4", "5", "6"}
    assert all(re.search(r"\| ratio [0-9.,]+x", line) for line in lines), lines
    assert sum("postgresql" in line for line in lines) == 4, "figures 3 and 5 run on both databases"
    burst = [line for line in lines if line.startswith("fig 4")]
    assert any("commits: ours 1.00 commits" in line for line in burst), burst
    files = next(line for line in burst if "files generated" in line)
    assert "[target met]" in files, "files generated must equal the unique affected files"
