"""Load generators and benchmarks (not tests): ``python -m bench.pings``, ``python -m bench.run``."""
