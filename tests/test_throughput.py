"""benchmarks/throughput.py: the process tree's memory, by role, read from /proc of a real tree."""

import os
import signal
import subprocess
import sys
import time

import pytest

from benchmarks.throughput import MemoryCgroup, cpu_spent, machine_cpu, quarter_peaks, run_ratios, tree_memory

# A driver with a worker server that has one worker, and a shell beside the server (as Beam starts a worker's client).
_TREE = """
import subprocess, sys, time
code = "import subprocess, sys, time; w = subprocess.Popen([sys.executable, '-c', \
'import time; time.sleep(30)']); time.sleep(30)"
server = subprocess.Popen([sys.executable, "-c", code])
shell = subprocess.Popen(["sh", "-c", "sleep 30; true"])
time.sleep(30)
"""


def test_the_tree_is_summed_and_split_by_role():
    driver = subprocess.Popen([sys.executable, "-c", _TREE], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            rss, pss, roles = tree_memory(driver.pid)
            if (
                all(roles[r] > 0 for r in ("driver", "worker server", "workers", "other"))
                or time.monotonic() > deadline
            ):
                break
            time.sleep(0.2)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # the whole tree, not only the driver
        driver.wait()
    assert all(roles[r] > 0 for r in ("driver", "worker server", "workers", "other")), roles
    assert sum(roles.values()) == pss and rss >= pss


def test_quarter_peaks_show_a_rise():
    assert quarter_peaks([1, 2, 3, 4, 5, 6, 7, 8]) == [2, 4, 6, 8]


def test_run_ratios_are_per_pair_throughput_ratios():
    assert run_ratios([60.0, 50.0, 40.0], [75.0, 50.0, 80.0]) == [0.8, 1.0, 0.5]


def test_machine_cpu_reads_proc_stat():
    hz = os.sysconf("SC_CLK_TCK")
    line = f"cpu  {10 * hz} {2 * hz} {3 * hz} {40 * hz} {hz} 0 {hz} {5 * hz} 0 0"
    assert machine_cpu(line) == {"user": 12, "sys": 4, "idle": 41, "steal": 5}
    before = machine_cpu()
    sum(i * i for i in range(3_000_000))  # some user time on this machine
    after = machine_cpu()
    assert after["user"] > before["user"] and cpu_spent(before, after).startswith("user ")


@pytest.mark.parametrize("megabytes, killed", [(40, True), (400, False)])
def test_a_memory_limit_holds_the_run_and_counts_what_the_kernel_killed(megabytes, killed):
    """A process that fills 150 MB in a cgroup held to 40 MB is killed and counted; held to 400 MB, it is not, and the
    cgroup's peak holds its 150 MB."""
    cgroup = MemoryCgroup.create(limit=megabytes * 1_000_000)
    if cgroup is None:
        pytest.skip("this machine does not let the benchmark make a memory cgroup")
    try:
        code = subprocess.run(cgroup.wrap([sys.executable, "-c", "data = b'x' * 150_000_000"]), timeout=60).returncode
        kills, reached, peak = cgroup.oom_kills(), cgroup.limit_reached(), cgroup.peak()
    finally:
        cgroup.close()
    assert (code != 0, kills > 0, reached > 0) == (killed, killed, killed), (code, kills, reached)
    assert peak is None or peak <= megabytes * 1_000_000
    if not killed and peak is not None:
        assert peak >= 150_000_000
