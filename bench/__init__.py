"""Benchmarks (not tests): ``make bench`` = ``python -m bench.run``; see docs/benchmarks.md."""
