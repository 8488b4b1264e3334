"""Benchmarks (not tests): cold build of every report, incremental no-op, and the batch of 98 profiles.

Runs in a scratch copy of the project so reports/ is not disturbed. Results: bench/results/<timestamp>.json.
    make bench                      # cold + no-op
    .venv/bin/python bench/run.py --batch   # also the 98 municipality profiles (HTML + PDF, several minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KOMMUNELAB = [sys.executable, "-m", "kommunelab"]


def mirror_of_this_checkout() -> str:
    """The data mirror this checkout uses (its setting is relative to it, so the scratch copy needs it spelt out)."""
    os.environ.setdefault("KOMMUNELAB_ROOT", str(REPO))
    from kommunelab.data.sources import mirror_dir

    return str(mirror_dir() or "")


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(KOMMUNELAB + args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"kommunelab {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return round(seconds, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", action="store_true", help="also build the 98 municipality profiles")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kommunelab-bench-") as tmp:
        root = Path(tmp)
        for name in ("reports.toml", "requirements.lock"):
            shutil.copy(REPO / name, root / name)
        for folder in ("notebooks", "data/published", "data/synthetic"):
            shutil.copytree(REPO / folder, root / folder)
        env = {**os.environ, "KOMMUNELAB_ROOT": str(root), "KOMMUNELAB_DATA_MIRROR": mirror_of_this_checkout()}
        jobs = ["--jobs", str(args.jobs)]
        results = {"cold_build_all_defaults_s": timed(["build", *jobs], env),
                   "noop_build_s": timed(["build", *jobs], env)}
        if args.batch:
            results["batch_98_profiles_s"] = timed(["build", "municipality_profile", "--all-variants", *jobs], env)
    results.update(when=datetime.now(UTC).isoformat(timespec="seconds"), cpus=os.cpu_count(),
                   python=platform.python_version(), jobs=args.jobs)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{results['when'].replace(':', '')}.json"
    path.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
