"""The default local runner: Beam's FnApiRunner on both cores, never a download.

Beam's DirectRunner first tries Prism, which fetches a binary at run time; offline that
fails or, behind a silent proxy, hangs. This runner goes straight to the FnApiRunner and
passes the pipeline options to its worker processes through provision info (as Beam's own
SwitchingDirectRunner does), so `multi_processing` workers see the same options as the driver.
On Linux its workers are forked from a warm worker server (runtime/workers.py) instead of
started as new interpreters.
"""

from __future__ import annotations

import copy
import ctypes
import logging
import os
import re
import sys
import threading
from typing import Any, Callable, NoReturn, Optional

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, WorkerOptions
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability import local_job_service
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import PipelineRunner
from apache_beam.transforms.environments import SubprocessSDKEnvironment

from runtime.workers import ForkServer

LOCAL_RUNNER_NAMES = {"local", "newsbeam"}
# glibc malloc settings for the driver and its workers: (environment variable, mallopt parameter, value).
MALLOC_SETTINGS = (
    ("MALLOC_ARENA_MAX", -8, 2),  # M_ARENA_MAX
    ("MALLOC_MMAP_THRESHOLD_", -3, 4 * 1024 * 1024),  # M_MMAP_THRESHOLD
    ("MALLOC_TRIM_THRESHOLD_", -1, 4 * 1024 * 1024),  # M_TRIM_THRESHOLD
)
_LOG = logging.getLogger("newsbeam")


def tune_malloc() -> None:
    """Set glibc malloc up for the driver and the workers it starts or forks: bounded arenas, fixed thresholds.

    - Arenas: glibc gives threads their own arenas (up to 8 per core) and seldom returns their freed
      memory. With the runner's gRPC threads, a driver that runs pipeline after pipeline (a chunked
      run, a stream) kept growing while its Python objects stayed the same size (tracemalloc).
    - Mmap and trim thresholds, fixed at 4 MiB: each NER batch of 16 texts allocates and frees arrays of
      about 1-8 MiB. Below the mmap threshold they come from the heap and are reused batch after batch;
      above it each is mapped, faulted in page by page, zeroed and unmapped again. At 128 KiB (until stop
      20) a BBC x1 run spent 19 s of system CPU in 68 s; at 4 MiB 9 s in 54 s; at 32 MiB 5 s in 53 s,
      but its heaps kept more: 948 MiB peak PSS at x10 against 840 (benchmarks/RESULTS.md). Fixed, not
      glibc's default (which climbs from 128 KiB up to 32 MiB as blocks are freed, heap kept as it goes).

    Each is set through mallopt for this process (and so for workers forked from it) and through the
    environment for workers started as new processes. A value the user set in the environment wins.
    Not glibc: nothing to do.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    for variable, parameter, value in MALLOC_SETTINGS:
        if variable in os.environ:
            continue
        os.environ[variable] = str(value)  # read by each new worker process's C library at its start
        libc.mallopt(parameter, value)


def exit_process(code: int) -> NoReturn:
    """End the driver with `code` once its work is committed, without the interpreter's teardown of native threads.

    When a run returns, threads the driver does not own are still alive: Beam's shared thread pool (about
    a dozen idle daemon threads of `thread_pool_executor`, left by the FnApiRunner's gRPC servers), gRPC's
    core threads and pyarrow's jemalloc background thread. The interpreter's exit tears down the modules
    and static objects these threads use while they run; under load, one driver printed its summary and
    then died with "terminate called without an active exception" (SIGABRT, exit -6): a committed run
    that a scheduler would read as failed. What the run owns is closed before this (the worker server,
    in run()); here Python's own buffers and log handlers are flushed, and the process leaves with
    os._exit, which ends every thread at once and runs no teardown that could abort.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said there
            pass
    os._exit(code)


class LocalRunner(PipelineRunner):
    """FnApiRunner with options shipped to its workers; multi_processing on all cores unless told otherwise.

    `in_process=True` runs the pipeline in this process (a stream's micro-batches: no worker start-up,
    and a model loaded through Shared stays loaded from one pipeline to the next).

    `fork_workers` (Linux): multi_processing workers are forked from one warm worker server, started
    at the first pipeline and kept for every later pipeline this runner runs (a chunked run's chunks).
    `warm_up` runs once in that server before it forks a worker, and what it returns stays alive there:
    load heavy objects through the pipeline's own `Shared` handle and the workers find them loaded.
    Call `close()` when done (an atexit hook also closes it, on an ordinary interpreter exit).
    """

    def __init__(
        self,
        in_process: bool = False,
        warm_up: Optional[Callable[[], Any]] = None,
        fork_workers: bool = sys.platform == "linux",
    ):
        super().__init__()
        self._in_process = in_process
        self._warm_up = warm_up
        self._fork_workers = fork_workers and not in_process
        self._workers: Optional[ForkServer] = None

    def run_pipeline(self, pipeline, options: PipelineOptions):
        tune_malloc()
        direct = options.view_as(DirectOptions)
        if self._in_process:
            direct.direct_running_mode, direct.direct_num_workers = "in_memory", 1
        elif (
            direct.direct_running_mode == "in_memory"
            and direct.direct_num_workers == 1
            and not _explicit(options, "direct_running_mode", "direct_num_workers")
        ):
            direct.direct_running_mode = "multi_processing"
            direct.direct_num_workers = min(2, os.cpu_count() or 1)
        if not _explicit(options, "default_sdk_harness_log_level"):
            # Workers log every channel they open at INFO; keep their warnings and newsbeam's own progress lines.
            options.view_as(WorkerOptions).default_sdk_harness_log_level = "WARNING"
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
        worker_logs = logging.getLogger(local_job_service.__name__)  # where the runner logs what its workers send
        worker_logs.addFilter(_WORKER_START_UP_NOISE)
        try:
            return self._run(pipeline, options, direct, provision)
        finally:
            worker_logs.removeFilter(_WORKER_START_UP_NOISE)

    def _run(self, pipeline, options: PipelineOptions, direct: DirectOptions, provision):
        workers = self._worker_server() if direct.direct_running_mode == "multi_processing" else None
        if workers is None:
            return fn_runner.FnApiRunner(provision_info=provision).run_pipeline(pipeline, options)
        workers.wait_ready()
        # Beam's multi_processing mode always starts its own interpreters; with our environment given, the
        # runner is told in_memory (on a copy of the options) and still runs direct_num_workers workers.
        fn_options = copy.deepcopy(options)
        fn_options.view_as(DirectOptions).direct_running_mode = "in_memory"
        environment = SubprocessSDKEnvironment.from_command_string(workers.command)
        fn_logger = logging.getLogger(fn_runner.__name__)
        fn_logger.addFilter(
            _OWN_ENVIRONMENT
        )  # only here: a user's own in_memory with several workers still gets the warning
        try:
            return fn_runner.FnApiRunner(default_environment=environment, provision_info=provision).run_pipeline(
                pipeline, fn_options
            )
        finally:
            fn_logger.removeFilter(_OWN_ENVIRONMENT)

    def start(self) -> None:
        """Fork the warm worker server now rather than at the first pipeline (nothing to do without one).

        A driver calls this before it builds a pipeline, so the server inherits its imports and settings only,
        and warms up while the driver goes on; the first pipeline waits for it (and raises its warm-up's error).
        """
        self._worker_server()

    def _worker_server(self) -> Optional[ForkServer]:
        """The warm worker server, started on first use; None when workers must be Beam's own processes."""
        if self._workers is None and self._fork_workers:
            if threading.active_count() > 1:
                # A fork copies only the calling thread: locks held by the others (gRPC's among them) would stay held.
                _LOG.info(
                    "this process runs %d threads: Beam starts the workers, not the warm worker server",
                    threading.active_count(),
                )
                self._fork_workers = False
            else:
                # Before the fork: the server and the workers forked from it keep this process's malloc settings.
                tune_malloc()
                self._workers = ForkServer.start(self._warm_up)
        return self._workers

    @property
    def worker_server(self) -> Optional[ForkServer]:
        """The warm worker server, once a pipeline has started it."""
        return self._workers

    def close(self) -> None:
        """Stop the worker server, if one was started."""
        if self._workers is not None:
            self._workers.close()
            self._workers = None


class _DropOwnEnvironmentWarning(logging.Filter):
    """FnApiRunner warns that in_memory with several workers gives no parallelism; with our environment it does."""

    def filter(self, record):
        return "direct_running_mode should be" not in record.getMessage()


_OWN_ENVIRONMENT = _DropOwnEnvironmentWarning()

# Driver-side options that have only a --no_... flag; a worker rebuilding the options from their values cannot parse
# them.
_DRIVER_ONLY_FLAGS = frozenset({"--pipeline_type_check", "--direct_runner_use_stacked_bundle"})


class _DropWorkerStartUpNoise(logging.Filter):
    """Two warnings every local worker sends at start, which say nothing about the run:

    - "No semi_persistent_directory found": the local runner stages no main session; the code is installed.
    - "Discarding unparseable args" naming only driver-side flags (see _DRIVER_ONLY_FLAGS). Any other
      discarded argument (a user's typo) is still shown.
    """

    _DISCARDED = re.compile(r'message: "Discarding unparseable args: \[([^\]]*)\]')

    def filter(self, record):
        text = record.getMessage()
        if 'message: "No semi_persistent_directory found' in text:
            return False
        discarded = self._DISCARDED.search(text)
        if discarded:
            return not set(re.findall(r"--[\w.-]+", discarded.group(1))) <= _DRIVER_ONLY_FLAGS
        return True


_WORKER_START_UP_NOISE = _DropWorkerStartUpNoise()


def _explicit(options: PipelineOptions, *names: str) -> bool:
    """True when the user set any of these options."""
    flags = options.get_all_options(drop_default=True)
    return any(name in flags for name in names)
