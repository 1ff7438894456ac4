"""Runnable benchmarks (not collected by pytest): ``python -m tests.bench.<module>``."""
