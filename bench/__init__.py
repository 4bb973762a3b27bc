"""Benchmarks: numbers, not tests. `make bench` (or `python -m bench`) runs them all and prints tables."""
