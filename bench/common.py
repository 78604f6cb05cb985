"""What every benchmark shares: sizes, timing, databases, synthetic sites, results.

A figure is a `Figure` row: our value, the baseline's value measured in the same run,
the ratio, and the target. Every timing is the median of a few runs (the machine is
small and noisy); every workload is built fresh in a temporary folder.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE_TSV = ROOT.parent / "shared" / "reference" / "osuny-site-sample" / "tree.tsv"
PG_BASE = os.environ.get("OSUNY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432").rstrip("/")
RESULTS_DIR = ROOT / ".osuny" / "bench"


@dataclass(frozen=True)
class Mode:
    """Workload sizes: the full run (the issue's sizes) or the quick one (the test suite's)."""

    quick: bool

    @property
    def site_sizes(self) -> list[int]:
        return [300, 600, 1200] if self.quick else [4_000, 20_000, 50_000]

    @property
    def repeats(self) -> int:
        return 3

    @property
    def generation_scale(self) -> float:
        return 0.05 if self.quick else 1.4  # ~4k files at 1.4

    @property
    def memory_scale(self) -> float:
        return 0.1 if self.quick else 17.0  # ~50k files at 17


@dataclass
class Figure:
    figure: str  # "1", "2"...
    name: str
    unit: str
    ours: float
    baseline: float | None
    baseline_name: str
    target: str = ""
    met: bool | None = None
    size: int | None = None  # files in the workload, for the plot
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.ours == 0:
            return None
        return self.baseline / self.ours if self.lower_is_better else self.ours / self.baseline

    @property
    def lower_is_better(self) -> bool:
        return self.unit in ("s", "ms", "MB", "commits", "x", "files")

    def line(self) -> str:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        base = fmt(self.baseline) if self.baseline is not None else "-"
        verdict = "" if self.met is None else ("  [target met]" if self.met else "  [TARGET MISSED]")
        target = f"  target: {self.target}" if self.target else ""
        return (f"fig {self.figure} | {self.name}: ours {fmt(self.ours)} {self.unit} | "
                f"{self.baseline_name} {base} {self.unit} | ratio {ratio}{target}{verdict}")


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, fig: Figure) -> Figure:
        self.figures.append(fig)
        print(fig.line(), flush=True)
        return fig

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"figures": [asdict(f) | {"ratio": f.ratio} for f in self.figures], "seconds": self.seconds}
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


# ---------------------------------------------------------------------- timing


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median(values: list[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------------- the machine


def _first_line(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unavailable"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def pg_version() -> str:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(f"{PG_BASE}/postgres")
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
        return version
    except Exception as exc:  # the server may be absent on a laptop: say so, do not fail
        return f"unreachable ({str(exc).splitlines()[0][:60]})"


def machine() -> dict[str, str]:
    import pygit2

    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{_ram_gb():.1f} GB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": pg_version(),
        "git": _first_line(["git", "--version"]).removeprefix("git version "),
        "libgit2 (pygit2)": f"{pygit2.LIBGIT2_VERSION} ({pygit2.__version__})",
    }


# ---------------------------------------------------------------------- places and databases


@contextmanager
def workdir(label: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"osuny-bench-{label}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_url(folder: Path, name: str = "cms") -> str:
    return f"sqlite:///{folder / f'{name}.db'}"


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh CMS database at the current schema: a SQLite file, or a PostgreSQL database
    created on the local server and dropped afterwards."""
    from sqlalchemy import create_engine, text

    from osuny_pipeline.cms.db import engine_for
    from osuny_pipeline.cms.migrate import upgrade

    if kind == "sqlite":
        url = sqlite_url(folder, f"cms-{uuid.uuid4().hex[:6]}")
        upgrade(engine_for(url))
        try:
            yield url
        finally:
            engine_for(url).dispose()
        return
    name = f"osuny_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_BASE}/{name}"
    try:
        upgrade(engine_for(url))
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def backends() -> list[str]:
    """SQLite always; PostgreSQL when the server answers."""
    return ["sqlite", "postgresql"] if not pg_version().startswith("unreachable") else ["sqlite"]


def bare_repository(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


# ---------------------------------------------------------------------- child processes


def run_child(module: str, *args: str) -> dict:
    """Run `python -m <module> <args>` in a fresh process; it prints one JSON line last,
    with its own peak RSS (`peak_rss_mb`) added by `child_result`."""
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    import resource

    # ru_maxrss is in KB on Linux: the peak resident set of this process.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_result(**values: object) -> None:
    print(json.dumps({**values, "peak_rss_mb": peak_rss_mb()}), flush=True)


def run_alone(doc: str | None, run: Callable[[Mode, Report], object], argv: list[str] | None = None) -> int:
    """`python -m bench.<figure> [--quick]`: one figure on its own."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    run(Mode(args.quick), Report())
    return 0
