"""The default local runner: Beam's FnApiRunner on both cores, never a download.

Beam's DirectRunner first tries Prism, which fetches a binary at run time; offline that
fails or, behind a silent proxy, hangs. This runner goes straight to the FnApiRunner and
passes the pipeline options to its worker processes through provision info (as Beam's own
SwitchingDirectRunner does), so `multi_processing` workers see the same options as the driver.
"""
from __future__ import annotations

import ctypes
import os

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, WorkerOptions
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import PipelineRunner

LOCAL_RUNNER_NAMES = {"local", "newsbeam"}
# glibc malloc settings for the driver and its workers: (environment variable, mallopt parameter, value).
MALLOC_SETTINGS = (
    ("MALLOC_ARENA_MAX", -8, 2),  # M_ARENA_MAX
    ("MALLOC_MMAP_THRESHOLD_", -3, 128 * 1024),  # M_MMAP_THRESHOLD
    ("MALLOC_TRIM_THRESHOLD_", -1, 128 * 1024),  # M_TRIM_THRESHOLD
)


def tune_malloc() -> None:
    """Make glibc malloc give freed memory back, in this process and in the workers it starts or forks.

    - Arenas: glibc gives threads their own arenas (up to 8 per core) and seldom returns their freed
      memory. With the runner's gRPC threads, a driver that runs pipeline after pipeline (a chunked
      run, a stream) kept growing while its Python objects stayed the same size (tracemalloc).
    - Mmap and trim thresholds: by default glibc raises its mmap threshold up to 32 MB as large blocks
      are freed, so later large blocks (batches of Docs, gRPC messages) come from the heap and stay
      there. Fixed at 128 KiB, blocks that large are mapped and unmapped, and the heap is trimmed.
      On 1,000 BBC articles the tree's peak PSS fell by 120-170 MiB (benchmarks/RESULTS.md).

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


class LocalRunner(PipelineRunner):
    """FnApiRunner with options shipped to its workers; multi_processing on all cores unless told otherwise.

    `in_process=True` runs the pipeline in this process (a stream's micro-batches: no worker start-up,
    and a model loaded through Shared stays loaded from one pipeline to the next).
    """

    def __init__(self, in_process: bool = False):
        super().__init__()
        self._in_process = in_process

    def run_pipeline(self, pipeline, options: PipelineOptions):
        tune_malloc()
        direct = options.view_as(DirectOptions)
        if self._in_process:
            direct.direct_running_mode, direct.direct_num_workers = "in_memory", 1
        elif direct.direct_running_mode == "in_memory" and direct.direct_num_workers == 1 and not _explicit(options, "direct_running_mode", "direct_num_workers"):
            direct.direct_running_mode = "multi_processing"
            direct.direct_num_workers = min(2, os.cpu_count() or 1)
        if not _explicit(options, "default_sdk_harness_log_level"):
            # Workers log every channel they open at INFO; keep their warnings and newsbeam's own progress lines.
            options.view_as(WorkerOptions).default_sdk_harness_log_level = "WARNING"
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
        return fn_runner.FnApiRunner(provision_info=provision).run_pipeline(pipeline, options)


def _explicit(options: PipelineOptions, *names: str) -> bool:
    """True when the user set any of these options."""
    flags = options.get_all_options(drop_default=True)
    return any(name in flags for name in names)
