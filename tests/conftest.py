import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.tables import TABLES as _TABLES

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
SEEDS = SAMPLE / "seeds"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
INGESTED_AT = dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.timezone.utc)


def seed_path(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


def run_driver(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real driver as a user would, in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.news_pipeline", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"driver exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-5000:]}")
    return proc


@pytest.fixture(scope="session")
def sample_output(tmp_path_factory) -> Path:
    """The driver's output on sample_data/, made once per test session."""
    out = tmp_path_factory.mktemp("sample_output")
    run_driver("--input", str(SAMPLE), "--output", str(out))
    return out


TABLES = tuple(_TABLES)  # every table newsbeam writes, by name


def assert_same_tables(expected: Path, actual: Path, tables=TABLES) -> None:
    """Two outputs hold the same files with the same rows, apart from the run's clock (ingested_at, rejected_at)."""
    import pyarrow.parquet as pq

    for table in tables:
        want = sorted(p.relative_to(expected).as_posix() for p in (expected / table).glob("dt=*/*.parquet"))
        got = sorted(p.relative_to(actual).as_posix() for p in (actual / table).glob("dt=*/*.parquet"))
        assert want == got, table
        for rel in want:
            a, b = pq.read_table(expected / rel), pq.read_table(actual / rel)
            drop = [c for c in ("ingested_at", "rejected_at") if c in a.column_names]
            assert a.drop_columns(drop).equals(b.drop_columns(drop)), rel


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus lives beside the repo as ../shared/corpus")
    return path


def make_test_pipeline():
    """A TestPipeline on the in-process FnApiRunner: never Prism, never a download."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.testing.test_pipeline import TestPipeline

    return TestPipeline(runner=FnApiRunner())
