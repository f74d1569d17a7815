"""``make bench``: the ping benchmark on SpatiaLite and on PostGIS, single process and REST tier.

    .venv/bin/python -m bench.run [--duration 15] [--devices 500]

Each database runs in its own ``python -m bench.pings`` process (settings are read from the
environment once per process). Prints one Markdown table in the format of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Run bench.pings for both databases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--devices", type=int, default=500)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for db in ("spatialite", "postgis"):
            out = Path(tmp) / f"{db}.json"
            subprocess.run([sys.executable, "-m", "bench.pings", "--db", db, "--server", "both", "--duration",
                            str(args.duration), "--devices", str(args.devices), "--json", str(out)],
                           cwd=ROOT, check=True)
            results = json.loads(out.read_text())
            for label, run in results["runs"].items():
                h, p = run["healthz"], run["pings"]
                rows.append(f"| {db} | {label} | {h['requests_per_s']:.0f} | {h['p50_ms']:.1f} / {h['p99_ms']:.1f} | "
                            f"{p['requests_per_s']:.0f} | {p['p50_ms']:.1f} / {p['p99_ms']:.1f} | "
                            f"{results['machine']['load_before']} |")
    print("| database | server | /healthz req/s | p50 / p99 ms | pings req/s | p50 / p99 ms | load before |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
