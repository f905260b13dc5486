"""Benchmarks and quality scripts: python -m benchmarks.<name> --help."""
