"""Benchmarks and quality scripts: python -m benchmarks.<name> --help."""

import pipelines  # noqa: F401  (its filter drops Beam's import-time "apitools not found" warning, here too: a benchmark's
# own worker processes, such as the NER-only baseline's, import Beam through transforms/ without going through a driver)
