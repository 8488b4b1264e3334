"""Mutation testing of the statistics and analysis modules: how many plausible one-line bugs do the tests catch?

Each mutation in bench/mutations.toml is applied to a scratch copy of lib/kommunelab, and the tests run against
that copy (it comes first on PYTHONPATH); a mutant the tests still pass survived. Prints one row per mutation and
the kill rate, and writes them to bench/results/mutation-<timestamp>.json.

    make mutation                                   # every mutation against the fast tests (about 3 minutes)
    .venv/bin/python bench/mutation.py --only kora-pressure-swapped

tests/test_mutations.py runs the mutations marked ``named`` against the known-answer tests in `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MUTATIONS = REPO / "bench" / "mutations.toml"
FAST_TESTS = ["tests", "-m", "not slow"]


@dataclass(frozen=True, kw_only=True)
class Mutation:
    id: str
    file: str  # relative to the repository
    find: str
    replace: str
    why: str
    named: bool = False


@dataclass(frozen=True, kw_only=True)
class Trial:
    mutation: str
    killed: bool
    seconds: float
    first_failure: str  # the first failing test, or what went wrong


def load(path: Path = MUTATIONS) -> list[Mutation]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Mutation(**m) for m in raw["mutation"]]


def mutant_lib(mutation: Mutation, scratch: Path) -> Path:
    """A copy of lib/ with ``mutation`` applied; its ``find`` must occur exactly once in the file."""
    lib = scratch / "lib"
    shutil.copytree(REPO / "lib" / "kommunelab", lib / "kommunelab", ignore=shutil.ignore_patterns("__pycache__"))
    target = lib / Path(mutation.file).relative_to("lib")
    text = target.read_text(encoding="utf-8")
    if text.count(mutation.find) != 1:
        raise ValueError(f"mutation {mutation.id}: `find` occurs {text.count(mutation.find)} times in {mutation.file}")
    target.write_text(text.replace(mutation.find, mutation.replace), encoding="utf-8")
    return lib


def trial(mutation: Mutation, tests: list[str]) -> Trial:
    """Run ``tests`` (pytest arguments) against the mutant; killed when they fail."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutation.id}-") as scratch:
        lib = mutant_lib(mutation, Path(scratch))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(lib), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               "PYTHONDONTWRITEBYTECODE": "1"}
        run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                             cwd=REPO, env=env, capture_output=True, text=True)
    failed = [line.split(" ")[1] for line in run.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    if run.returncode in (0, 1):
        first = failed[0] if failed else ""
    else:  # 2-5: interrupted, internal error, usage error, no tests: not a kill by a test
        first = f"pytest exit {run.returncode}: {run.stdout.strip().splitlines()[-1:] or run.stderr[-200:]}"
    return Trial(mutation=mutation.id, killed=run.returncode == 1, seconds=round(time.perf_counter() - start, 1),
                 first_failure=first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="mutation ids to run (default: all)")
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1)), help="mutants at once")
    args = parser.parse_args(argv)
    mutations = [m for m in load() if not args.only or m.id in args.only]
    with ThreadPoolExecutor(args.jobs) as pool:
        trials = list(pool.map(lambda m: trial(m, FAST_TESTS), mutations))
    killed = sum(t.killed for t in trials)
    width = max(len(m.id) for m in mutations)
    for m, t in zip(mutations, trials, strict=True):
        print(f"{'killed  ' if t.killed else 'SURVIVED'} {m.id:<{width}} {t.seconds:6.1f} s  {t.first_failure or m.why}")
    rate = killed / len(trials)
    print(f"kill rate: {killed} of {len(trials)} ({100 * rate:.0f}%) by the fast tests")
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (results / f"mutation-{stamp}.json").write_text(json.dumps(
        {"when": stamp, "tests": FAST_TESTS, "killed": killed, "mutants": len(trials), "kill_rate": rate,
         "mutations": [asdict(m) for m in mutations], "trials": [asdict(t) for t in trials]}, indent=1) + "\n",
        encoding="utf-8")
    return 0 if killed == len(trials) else 1


if __name__ == "__main__":
    sys.exit(main())
