"""newsbeam's local runtime: how a pipeline runs on this machine, apart from what it computes.

- runner.py: LocalRunner, Beam's FnApiRunner on both cores without Prism's download, options shipped to
  the workers; glibc malloc settings (tune_malloc); how the driver process ends (exit_process).
- workers.py: a warm worker server forked from the driver, which forks Beam's SDK workers with the
  imports and the spaCy model already loaded (Linux).
- _fork_client.py: the stdlib-only worker command Beam runs, which hands its environment to that server.

The drivers (pipelines/) and the benchmarks use this package; the transforms never do.
"""
