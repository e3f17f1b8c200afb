"""Benchmarks that print figures: each runs as `python -m bench.measure.NAME` from the repository root."""
