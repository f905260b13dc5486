r"""Pipeline throughput against the NER-only limit, peak memory of the process tree, and output files.

    python -m benchmarks.throughput [--corpus ../shared/corpus/bbc_news.jsonl] [--copies N] [--runs 3] \
        [--memory_limit_mb 1000]

In one run, alternating a, b, a, b, …:
(a) baseline: spaCy NER-only ``nlp.pipe`` over the same texts, in two processes on the two cores
    (the physical limit of this pipeline on a CPU);
(b) pipeline: the whole batch pipeline, input file to committed Parquet, with its default local
    runner, as a user runs it (a fresh process each time: start-up included).
Then --memory_runs more runs of (b) (default 1) are sampled for memory: the sampler's reads of /proc
cost the pipeline some 15 % of a core, so the timed runs go unsampled (with --skip_baseline every run
is sampled, for memory at large --copies).
It prints articles/s and words/s for both, the ratio b/a of the medians (and the range of each pair's own ratio: how
far the host's speed moved within the benchmark), the peak memory of each
sampled run's whole process tree (sampled every 0.2 s; also per quarter of the run, which shows
whether memory grows as the input is read, and the PSS of the driver, the worker server and the
workers at the peak), the output file counts per table, and the machine's CPU seconds over each
run (user, system, idle, steal: where the time went). Memory three ways: the RSS sum (a page
shared by several processes, such as the worker server's pages in the workers forked from it,
counted once per process), the PSS sum (each shared page divided among the processes that map it:
the tree's physical memory, and the figure the 1 GB target is checked against) and, where the
machine lets the benchmark make a memory cgroup for the run, the kernel's own count of the tree's
anonymous memory, each page once (MemoryCgroup). With --memory_limit_mb the sampled runs run in that cgroup
held to the limit by the kernel: its anonymous memory and the page cache it charges, each page once (library code
that other processes had read already is charged to them, and is in the PSS sum). Without swap, as on these
machines, a run that needs more has a process killed and fails, and the benchmark with it.
With --copies N the corpus is written N times with distinct ids (and a marker word per copy, so
dedup does not remove the copies) into a temporary JSONL file.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple, Optional


def make_input(corpus: Path, copies: int, folder: Path, limit: Optional[int] = None) -> tuple[Path, list[str]]:
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()][:limit]
    path = folder / f"corpus-x{copies}.jsonl"
    texts = []
    with path.open("w", encoding="utf-8") as f:
        for c in range(copies):
            for r in rows:
                text = r["text"] if copies == 1 else f"{r['text']}\n\nCopy {c}."
                f.write(json.dumps({**r, "id": f"{r.get('id')}#{c}", "text": text}) + "\n")
                texts.append(text)
    return path, texts


def _ner_worker(texts: list[str]) -> int:
    import spacy

    from transforms.entities import NER_ONLY_EXCLUDE, SMALL_MODEL

    # The baseline stays en_core_web_sm's NER (issue 29), whichever model the pipeline's tagger loads.
    nlp = spacy.load(SMALL_MODEL, exclude=NER_ONLY_EXCLUDE)
    return sum(len(d.ents) for d in nlp.pipe(texts, batch_size=64))


def baseline(texts: list[str], processes: int = 2) -> float:
    """Seconds for NER-only over the texts in `processes` processes (model load included, as for the pipeline)."""
    chunks = [texts[i::processes] for i in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_ner_worker, chunks)
    return time.perf_counter() - started


def tree_memory(pid: int) -> tuple[int, int, dict[str, int]]:
    """(RSS, PSS) in bytes of a process and all its descendants, summed, from /proc, and the PSS by role.

    RSS counts a shared library's pages once per process that maps them; PSS shares them out, so the
    PSS sum is the physical memory the tree holds. A process's children are listed per thread
    (/proc/P/task/T/children), and Beam starts its worker processes from other threads than the main
    one: every thread's list is read. Roles, by place in the local runner's tree: the process itself is
    the driver; a child that is not a shell is the worker server (or, with Beam's own workers, a worker);
    the server's children are workers; the rest (the shells and clients Beam starts a worker through) is other.
    """
    rss = pss = 0
    roles = {"driver": 0, "worker server": 0, "workers": 0, "other": 0}
    stack, seen = [(pid, "driver")], set()
    while stack:
        p, role = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        kib = int(line.split()[1])
                        pss += kib * 1024
                        roles[role] += kib * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    for c in f.read().split():
                        stack.append((int(c), _child_role(role, int(c))))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return rss, pss, roles


def _child_role(parent_role: str, pid: int) -> str:
    if parent_role == "worker server":
        return "workers"
    if parent_role != "driver":
        return "other"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            program = os.path.basename(f.read().split(b"\0")[0].decode(errors="replace"))
    except OSError:
        return "other"
    return "other" if program in ("sh", "bash", "dash") else "worker server"


class MemoryCgroup:
    """A memory cgroup of its own for one pipeline run, where this machine lets us make one.

    The kernel charges each page to one cgroup once, however many processes map it: the run's cgroup
    counts the anonymous memory the tree allocated (heaps, model weights, buffers) with each page once,
    where an RSS sum counts a page once per process that maps it (workers forked from the worker server
    share its pages until they write them). File pages (the libraries' code) are left out: they are
    charged to whichever cgroup read them first. Made as a child of this process's own memory cgroup
    (cgroup v1 or v2); None where that is not allowed.
    """

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, limit: Optional[int] = None) -> Optional["MemoryCgroup"]:
        """The run's cgroup, or None where this machine does not allow one. With `limit` (bytes), the kernel holds the
        cgroup's memory, each page once (anonymous memory and the page cache it charges), to that many bytes: past it,
        it takes back page cache, and kills a process of the tree when nothing more can be taken back."""
        try:
            lines = [line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines()]
            v1 = [where for _, controllers, where in lines if "memory" in controllers.split(",")]
            v2 = [where for hierarchy, _, where in lines if hierarchy == "0"]
            base = (
                Path("/sys/fs/cgroup/memory") / v1[0].lstrip("/") if v1 else Path("/sys/fs/cgroup") / v2[0].lstrip("/")
            )
            path = base / f"newsbeam-bench-{os.getpid()}"
            path.mkdir()
        except (OSError, IndexError, ValueError):
            return None
        cgroup = cls(path)
        if limit is not None:
            try:
                (path / ("memory.limit_in_bytes" if v1 else "memory.max")).write_text(str(limit))
            except OSError as err:
                cgroup.close()
                raise SystemExit(f"could not set the run's memory limit to {limit} bytes ({err})") from None
        return cgroup

    def wrap(self, argv: list[str]) -> list[str]:
        """argv run inside the cgroup (a shell joins it, then execs argv)."""
        return ["sh", "-c", f'echo $$ > {self.path}/cgroup.procs && exec "$@"', "sh", *argv]

    def _counts(self, name: str) -> Optional[dict[str, int]]:
        """A cgroup file of "key value" lines as a dict; None where this cgroup version has no such file."""
        try:
            return {
                key: int(value) for key, value in (line.split() for line in (self.path / name).read_text().splitlines())
            }
        except OSError:
            return None

    def anonymous(self) -> int:
        stat = dict(line.split() for line in (self.path / "memory.stat").read_text().splitlines())
        return int(stat.get("rss", stat.get("anon", 0)))  # v1 calls it rss, v2 anon

    def peak(self) -> Optional[int]:
        """The most the cgroup held at once, each page once, page cache included (v1 memory.max_usage_in_bytes, v2
        memory.peak); None where the kernel does not keep it."""
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            try:
                return int((self.path / name).read_text())
            except (OSError, ValueError):
                continue
        return None

    def limit_reached(self) -> int:
        """How often the cgroup's memory reached its limit, each time making the kernel take pages back (v1
        memory.failcnt, v2 the "max" count of memory.events): page cache first, which costs re-reads but loses
        nothing."""
        try:
            return int((self.path / "memory.failcnt").read_text())
        except (OSError, ValueError):
            return (self._counts("memory.events") or {}).get("max", 0)

    def oom_kills(self) -> int:
        """Processes of the run the kernel killed for the cgroup's memory limit (v1 memory.oom_control, v2
        memory.events)."""
        counts = self._counts("memory.oom_control") or self._counts("memory.events") or {}
        return counts.get("oom_kill", 0)

    def close(self) -> None:
        for _ in range(50):  # empty once the run's processes are reaped
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def machine_cpu(stat: Optional[str] = None) -> dict[str, float]:
    """The machine's CPU seconds since boot, from the first line of /proc/stat (or `stat`): user (with nice), system
    (with interrupts), idle (with I/O wait) and steal. On an otherwise idle machine the difference over a run says where
    its time went: work, work in the kernel (page faults: memory mapped, zeroed and unmapped), or a core left
    waiting."""
    if stat is None:
        with open("/proc/stat") as f:
            stat = f.readline()
    ticks = [int(v) for v in stat.split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = ticks + [0] * (8 - len(ticks))
    hz = os.sysconf("SC_CLK_TCK")
    return {
        "user": (user + nice) / hz,
        "sys": (system + irq + softirq) / hz,
        "idle": (idle + iowait) / hz,
        "steal": steal / hz,
    }


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> str:
    return " ".join(f"{k} {after[k] - before[k]:.0f}" for k in before)


def run_ratios(baseline_s: list[float], pipeline_s: list[float]) -> list[float]:
    """Each alternating pair's own ratio b/a (throughput: baseline seconds over pipeline seconds). The benchmark's
    figure is the ratio of the medians; these show how far one pair strays from it when the host's speed moves within
    the run."""
    return [a / b for a, b in zip(baseline_s, pipeline_s)]


def quarter_peaks(samples: list[int]) -> list[int]:
    """The peak of each quarter of a run's samples: memory that grows with the input read shows as a rising row."""
    n = len(samples)
    return [max(samples[i * n // 4 : (i + 1) * n // 4] or [0]) for i in range(4)]


class PipelineRun(NamedTuple):
    seconds: float
    samples: list[
        tuple[int, int, Optional[int], dict[str, int]]
    ]  # (RSS sum, PSS sum, anonymous memory or None, PSS by role)
    cgroup_peak: Optional[int] = None  # the most its cgroup held at once, page cache included (MemoryCgroup.peak)
    limit_reached: int = 0  # how often its cgroup reached the memory limit (MemoryCgroup.limit_reached)


def pipeline(
    input_path: Path, output: Path, extra: list[str] = (), sample: bool = True, memory_limit: Optional[int] = None
) -> PipelineRun:
    """One pipeline run in a fresh process: its seconds and, with `sample`, the process tree's (RSS sum, PSS sum,
    anonymous memory from its cgroup or None, PSS by role) samples (every 0.2 s) and its cgroup's own counts.

    The sampler is not free: each read of the tree's /proc/P/smaps_rollup walks every process's page tables, about
    30 ms of system CPU per sample on BBC, some 15 % of a core that the two busy workers lose. Timed runs go unsampled.
    A sampled run with `memory_limit` (bytes) runs in a cgroup held to it; SystemExit if the run failed or the kernel
    killed any of its processes for the limit.
    """
    argv = [
        sys.executable,
        "-m",
        "pipelines.news_pipeline",
        "--input",
        str(input_path),
        "--output",
        str(output),
        *extra,
    ]
    cgroup = MemoryCgroup.create(memory_limit) if sample else None
    if sample and memory_limit is not None and cgroup is None:
        raise SystemExit("a memory limit needs a memory cgroup for the run, and this machine does not allow one here")
    started = time.perf_counter()
    proc = subprocess.Popen(
        cgroup.wrap(argv) if cgroup else argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    samples: list[tuple[int, int, Optional[int], dict[str, int]]] = []

    def sample_memory():
        while proc.poll() is None:
            rss, pss, roles = tree_memory(proc.pid)
            samples.append((rss, pss, cgroup.anonymous() if cgroup else None, roles))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample_memory, daemon=True) if sample else None
    if sampler:
        sampler.start()
    out, _ = proc.communicate()
    if sampler:
        sampler.join()
    seconds = time.perf_counter() - started
    killed = cgroup.oom_kills() if cgroup else 0
    peak, reached = (cgroup.peak(), cgroup.limit_reached()) if cgroup else (None, 0)
    if cgroup:
        cgroup.close()
    if killed:
        raise SystemExit(
            f"the kernel killed {killed} of the run's processes at its memory limit of {memory_limit / 1e6:,.0f} MB "
            f"(exit {proc.returncode}): {out}"
        )
    if proc.returncode != 0:
        raise SystemExit(f"pipeline failed ({proc.returncode}): {out}")
    return PipelineRun(seconds, samples, peak, reached)


def file_counts(output: Path) -> dict[str, tuple[int, int]]:
    """(files, partitions) per table."""
    counts = {}
    for table in sorted(p for p in output.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        parts = [d for d in table.iterdir() if d.is_dir()]
        counts[table.name] = (sum(len(list(d.glob("*.parquet"))) for d in parts), len(parts))
    return counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus/bbc_news.jsonl"))
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--skip_baseline",
        action="store_true",
        help="Only the pipeline, every run sampled for memory (for memory runs at large --copies).",
    )
    parser.add_argument(
        "--memory_runs",
        type=int,
        default=1,
        help="Pipeline runs sampled for memory after the timed runs (with the baseline).",
    )
    parser.add_argument("--limit", type=int, default=None, help="Only the corpus's first N articles (before --copies).")
    parser.add_argument(
        "--memory_limit_mb",
        type=float,
        default=None,
        help="Run the memory-sampled runs in a memory cgroup held to this many MB (1000 = 1 GB; each page counted "
        "once, page cache included): the benchmark fails if the kernel kills a process for it.",
    )
    parser.add_argument("--pipeline_args", default="", help='More flags for the pipeline, e.g. "--chunk_records 1000".')
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        raise SystemExit(f"{args.corpus} is absent: the shared corpus lives beside the repo as ../shared/corpus")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        input_path, texts = make_input(args.corpus, args.copies, tmp, args.limit)
        n, words = len(texts), sum(len(t.split()) for t in texts)
        a, b, peaks, pss_peaks, cgroup_peaks = [], [], [], [], []
        limit = None if args.memory_limit_mb is None else int(args.memory_limit_mb * 1e6)

        def memory_run(name: str, out: Path) -> float:
            seconds, samples, cgroup_peak, reached = pipeline(
                input_path, out, args.pipeline_args.split(), memory_limit=limit
            )
            rss, pss = [r for r, _, _, _ in samples] or [0], [p for _, p, _, _ in samples] or [0]
            charged = [c for _, _, c, _ in samples if c is not None]
            at_peak = max(samples, key=lambda sample: sample[1])[3] if samples else {}
            peaks.append(max(rss))
            pss_peaks.append(max(pss))
            cgroup_peaks.extend([max(charged)] if charged else [])
            quarters = " / ".join(f"{q / 2**20:.0f}" for q in quarter_peaks(rss))
            pss_quarters = " / ".join(f"{q / 2**20:.0f}" for q in quarter_peaks(pss))
            in_cgroup = f", anonymous memory {max(charged) / 2**20:.0f} MiB (cgroup)" if charged else ""
            within = (
                f" within a {limit / 1e6:,.0f} MB memory limit (no process killed; the limit reached {reached} times)"
                if limit
                else ""
            )
            if cgroup_peak is not None:
                in_cgroup += f", cgroup peak {cgroup_peak / 2**20:.0f} MiB (page cache included)"
            print(
                f"{name}: pipeline {seconds:.1f}s sampled{within}, "
                f"peak RSS {peaks[-1] / 2**20:.0f} MiB (per quarter of the run: {quarters} MiB), "
                f"peak PSS {pss_peaks[-1] / 2**20:.0f} MiB (per quarter: {pss_quarters} MiB){in_cgroup}; "
                f"PSS at the peak: " + ", ".join(f"{role} {v / 2**20:.0f}" for role, v in at_peak.items()) + " MiB",
                flush=True,
            )
            return seconds

        for i in range(args.runs):
            if args.skip_baseline:
                b.append(memory_run(f"run {i + 1}", tmp / f"out{i}"))
                continue
            before = machine_cpu()
            a.append(baseline(texts))
            spent_a = cpu_spent(before, machine_cpu())
            before = machine_cpu()
            seconds = pipeline(input_path, tmp / f"out{i}", args.pipeline_args.split(), sample=False).seconds
            b.append(seconds)
            print(
                f"run {i + 1}: baseline {a[-1]:.1f}s, pipeline {seconds:.1f}s, ratio {a[-1] / seconds:.2f}; "
                f"machine CPU seconds: baseline {spent_a}; pipeline {cpu_spent(before, machine_cpu())}",
                flush=True,
            )
        if not args.skip_baseline:
            for j in range(args.memory_runs):
                memory_run(f"memory run {j + 1}", tmp / f"mem{j}")
        counts = file_counts(next(d for d in (tmp / "out0", tmp / "mem0") if d.exists()))
    print(f"\n{n} articles, {words:,} words ({args.corpus.name} x{args.copies}), {args.runs} runs, medians:")
    if a:
        ma = statistics.median(a)
        print(f"(a) NER-only, 2 processes: {ma:.1f}s  {n / ma:.1f} articles/s  {words / ma:,.0f} words/s")
    mb = statistics.median(b)
    print(f"(b) pipeline, local runner: {mb:.1f}s  {n / mb:.1f} articles/s  {words / mb:,.0f} words/s")
    if a:
        pairs = run_ratios(a, b)
        print(f"ratio b/a (throughput) = {ma / mb:.2f}  (target >= 0.8); per pair {min(pairs):.2f} to {max(pairs):.2f}")
    if peaks:
        in_cgroup = (
            f", anonymous memory {max(cgroup_peaks) / 2**20:.0f} MiB (each page once, from the run's own memory cgroup)"
            if cgroup_peaks
            else " (no memory cgroup could be made here for a count of anonymous memory)"
        )
        within = f"; every sampled run finished within a {limit / 1e6:,.0f} MB memory limit" if limit else ""
        print(
            f"peak memory of the pipeline's process tree (max of {len(peaks)} sampled runs): "
            f"RSS sum {max(peaks) / 2**20:.0f} MiB, PSS sum {max(pss_peaks) / 2**20:.0f} MiB{in_cgroup}{within}"
        )
    else:
        print("peak memory: not sampled (--memory_runs 0)")
    print("output files (files, partitions): " + ", ".join(f"{t} {f}/{p}" for t, (f, p) in counts.items()))


if __name__ == "__main__":
    main()
