"""Benchmarks (not tests): the build against the naive loop and against the floor, side by side in one run.

Runs in a scratch copy of the project (with its data, so that one file can be changed), so reports/ and data/ are
not disturbed. Prints one table; the numbers go to bench/results/<timestamp>.json.

    make bench                                  # everything (15 to 20 minutes on 2 cores)
    .venv/bin/python bench/run.py --naive 3     # fewer naive profiles (the naive loop is the slow part)

Rows:
  naive       per variant, one after another: the papermill CLI, `jupyter nbconvert --to html --no-input`, one
              `chromium --print-to-pdf`; measured on the default variants and on --naive profiles; the naive time for
              the 98 profiles is the measured median per profile x 98 (marked "est.")
  cold        `kommunelab build` of every default variant into an empty reports/
  no-op       the same again (nothing to do), and `--all-variants` once every variant is built
  one change  one published table revised (data/published/tables/iku_national.csv): what is rebuilt must be exactly
              the variants whose recorded inputs name that file
  98 profiles `kommunelab build municipality_profile --all-variants --force`, HTML and PDF
  floor       each profile's code as a plain script in an interpreter with the libraries imported, its figures
              rendered, plus the HTML export, divided by the workers (bench/floor.py)
  floor + print  the floor with each page also printed to PDF in one browser kept for all, divided by the workers:
              a build of HTML and PDF with no engine at all, so its "x naive" is the most any build could show here
              if the cores shared their work perfectly; "at once" runs one such floor per worker at the same time
              (each on every n-th profile, timed from a common start after each prepared): the cores shared as a
              build shares them
  growth      1, 10 and 98 profiles (HTML and PDF, cold) with 1 and 2 workers: seconds per variant and peak memory
              per worker; the 1-profile build is the time of a first variant (worker, kernel and browser start)
  dask        the 98 profiles through a distributed.LocalCluster of 2 worker processes on this machine (one
              browser and one kernel template per worker process, as in the local pool), against the pool
  index       the index pages for 4,116 records (every municipality x 14 years x 3 languages), rendered
Peak memory is the largest sum of resident memory over the build's process tree, sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KOMMUNELAB = [sys.executable, "-m", "kommunelab"]
CHANGED_FILE = "data/published/tables/iku_national.csv"


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None, check: bool = True
          ) -> tuple[float, float, str]:
    """(seconds, peak MB of the process tree, stderr) of one command."""
    from kommunelab.lifetime import descendants

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], sum(_rss_kb(p) for p in [proc.pid, *descendants(proc.pid)]))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    sampler.join()
    if check and proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{(out + err)[-3000:]}")
    return seconds, peak[0] / 1024, err


def build(args: list[str], env: dict[str, str]) -> tuple[float, float, set[str]]:
    """(seconds, peak MB, the variants it built), from the build's log lines."""
    seconds, mb, log = timed(KOMMUNELAB + ["build", *args], env)
    return seconds, mb, set(re.findall(r"\] built +(\S+)", log))


def naive_variant(root: Path, notebook: Path, params: dict, out: Path, env: dict[str, str]) -> float:
    """The loop a user would write by hand, for one variant."""
    out.mkdir(parents=True, exist_ok=True)
    executed = out / "executed.ipynb"
    raw = [a for k, v in params.items() for a in ("-r", k, str(v))]
    total = timed([str(BIN / "papermill"), str(notebook), str(executed), "-k", "kommunelab", "--cwd",
                   str(notebook.parent), "--no-progress-bar", *raw], env)[0]
    total += timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)], env)[0]
    html = executed.with_suffix(".html")
    total += timed([env["CHROMIUM"], "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={out / 'profile'}", f"--print-to-pdf={out / 'executed.pdf'}",
                    html.as_uri()], env)[0]
    return total


def floor_at_once(spec: list[dict], workers: int, folder: Path, env: dict[str, str]) -> float:
    """Wall seconds of ``workers`` floors (bench/floor.py, with print) run at the same time, each on every
    ``workers``-th variant of ``spec``, from a common start once each has prepared its interpreter."""
    procs, logs = [], [folder / f"floor-{k}.log" for k in range(workers)]
    for k, log in enumerate(logs):
        share = folder / f"floor-{k}.json"
        share.write_text(json.dumps(spec[k::workers]), encoding="utf-8")
        with log.open("w") as err:  # a file, not a pipe: one floor's messages can never hold up another
            procs.append(subprocess.Popen([sys.executable, str(REPO / "bench" / "floor.py"), str(share),
                                           env["CHROMIUM"], "--wait"], env=env, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=err, text=True))
    for proc, log in zip(procs, logs, strict=True):
        if proc.stdout.readline().strip() != "ready":
            sys.exit(f"bench/floor.py failed before it was ready:\n{log.read_text()[-3000:]}")
    start = time.perf_counter()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.close()
    codes = [proc.wait() for proc in procs]
    seconds = time.perf_counter() - start
    for code, log in zip(codes, logs, strict=True):
        if code != 0:
            sys.exit(f"bench/floor.py failed ({code}):\n{log.read_text()[-3000:]}")
    return seconds


def dask_row(env: dict[str, str]) -> dict:
    """The 98 profiles (HTML and PDF, cold) on a LocalCluster of 2 worker processes started here."""
    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        s, mb, built = build(["municipality_profile", "--all-variants", "--force", "--executor", "dask",
                              "--scheduler", cluster.scheduler_address], env)
    return {"s": s, "client_peak_mb": mb, "built": len(built)}


def index_seconds(repeat: int = 3) -> float:
    """The best of ``repeat`` renderings of the index pages (index.html and one per other language) for 4,116
    synthetic records: every municipality x 14 years x 3 languages."""
    from kommunelab import data
    from kommunelab.engine.publish.index import render_indexes
    from kommunelab.manifest import load_manifest
    from kommunelab.records import BuildRecord, Outcome

    munis = data.municipalities()
    records = tuple(
        Outcome(report="municipality_profile", variant=f"language-{lang}_municipality-{code}_year-{year}",
                title=f"{name} {year}", label=f"{name}, {year}", detail=region, status="built",
                params={"municipality": str(code), "year": year, "language": lang},
                outputs={"html": f"municipality_profile/language-{lang}_municipality-{code}_year-{year}.html",
                         "pdf": f"municipality_profile/language-{lang}_municipality-{code}_year-{year}.pdf"})
        for lang in ("da", "en", "nb") for year in range(2008, 2022)
        for code, name, region in zip(munis["municipality_code"], munis["name_da"], munis["region_name"], strict=True))
    record, manifest = BuildRecord(generated="2026-11-29T10:00:00+00:00", git_revision="abc", variants=records), \
        load_manifest()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        render_indexes(record, manifest, None, "da")
        best = min(best, time.perf_counter() - start)
    return best


def state(root: Path) -> dict:
    return json.loads((root / "reports" / "build.json").read_text(encoding="utf-8"))


def change_one_file(root: Path) -> None:
    """Revise one figure in the scratch project's copy of CHANGED_FILE."""
    path = root / CHANGED_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    col = header.index("iku_all_municipalities_pct")
    first[col] = f"{float(first[col]) + 0.1:.1f}"
    lines[1] = ",".join(first)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sizes(root: Path, report: str, kind: str) -> float:
    files = list((root / "reports" / report).glob(f"*.{kind}"))
    return statistics.median(f.stat().st_size for f in files) / 1024 if files else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--naive", type=int, default=4, help="profiles to run through the naive loop (default 4)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    from kommunelab.chromium import ensure_chromium

    started = datetime.now(UTC).isoformat(timespec="seconds")
    partial = REPO / "bench" / "results" / f"{started.replace(':', '')}.partial.json"
    rows: dict[str, dict] = Saved(partial)  # each row on disk as it is measured: a run cut short keeps its rows
    with tempfile.TemporaryDirectory(prefix="kommunelab-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        for name in ("reports.toml", "requirements.lock"):
            shutil.copy(REPO / name, root / name)
        for folder in ("notebooks", "data/published", "data/synthetic", "data/reference"):
            shutil.copytree(REPO / folder, root / folder)
        os.environ.pop("KOMMUNELAB_DATA_MIRROR", None)  # the scratch project's own snapshot
        env = {**os.environ, "KOMMUNELAB_ROOT": str(root), "CHROMIUM": ensure_chromium(install=False)}
        jobs = ["--jobs", str(args.jobs)]
        sys.path.insert(0, str(REPO / "lib"))
        os.environ.update(KOMMUNELAB_ROOT=str(root))
        from kommunelab.manifest import load_manifest, variants

        manifest = load_manifest()
        defaults = [v for r in manifest.values() for v in variants(r)]
        profiles = variants(manifest["municipality_profile"], all_variants=True)

        print(f"naive loop: {len(defaults)} defaults and {args.naive} profiles ...", file=sys.stderr)
        naive_defaults = [naive_variant(root, v.report.notebook, v.params, Path(tmp) / "naive" / v.report.id, env)
                          for v in defaults]
        naive_profiles = [naive_variant(root, v.report.notebook, v.params, Path(tmp) / "naive" / v.id, env)
                          for v in profiles[1:1 + args.naive]]
        naive_profile = statistics.median(naive_profiles)
        rows["naive, defaults"] = {"s": sum(naive_defaults), "n": len(defaults)}
        rows["naive, 98 profiles (est.)"] = {"s": naive_profile * len(profiles), "n": len(profiles), "estimated": True}

        print("cold and no-op builds ...", file=sys.stderr)
        s, mb, _ = build(jobs, env)
        rows["cold, defaults"] = {"s": s, "n": len(defaults), "peak_mb": mb, "naive": "naive, defaults"}
        s, mb, _ = build(jobs, env)
        rows["no-op, defaults"] = {"s": s, "n": len(defaults), "peak_mb": mb}

        print("98 profiles ...", file=sys.stderr)
        s, mb, _ = build(["municipality_profile", "--all-variants", "--force", *jobs], env)
        rows["98 profiles, cold"] = {"s": s, "n": len(profiles), "peak_mb": mb, "naive": "naive, 98 profiles (est.)",
                                     "floor": "floor, 98 profiles"}
        extra = args.jobs + 1  # workers wait too (kernel start-up, printing): one more than the cores fills the gaps
        s, mb, _ = build(["municipality_profile", "--all-variants", "--force", "--jobs", str(extra)], env)
        rows[f"98 profiles, cold, {extra} jobs"] = {"s": s, "n": len(profiles), "peak_mb": mb,
                                                   "naive": "naive, 98 profiles (est.)", "floor": "floor, 98 profiles"}
        s, mb, _ = build(["--all-variants", *jobs], env)
        everything = len(state(root)["variants"])
        rows["rest of the grids"] = {"s": s, "n": everything - len(profiles) - len(defaults) + 1, "peak_mb": mb}
        s, mb, _ = build(["--all-variants", *jobs], env)
        rows["no-op, all variants"] = {"s": s, "n": everything, "peak_mb": mb}

        print("one change ...", file=sys.stderr)
        before = {v["report"] + "/" + v["variant"]: v for v in state(root)["variants"]}
        readers = {name for name, v in before.items() if f"project:{CHANGED_FILE}" in v["inputs"]["data"]}
        change_one_file(root)
        s, mb, rebuilt = build(["--all-variants", *jobs], env)
        rows["one change"] = {"s": s, "n": len(rebuilt), "peak_mb": mb, "rebuilt": sorted(rebuilt),
                              "readers": sorted(readers), "exact": rebuilt == readers}

        print("growth ...", file=sys.stderr)
        sets = Path(tmp) / "ten.yaml"
        sets.write_text("".join(f"- municipality: '{v.params['municipality']}'\n" for v in profiles[:10]),
                        encoding="utf-8")
        for workers in (1, 2):
            for n, selection in ((1, ["-p", f"municipality={profiles[1].params['municipality']}"]),
                                 (10, ["-f", str(sets)]), (len(profiles), ["--all-variants"])):
                s, mb, built = build(["municipality_profile", *selection, "--force", "--jobs", str(workers)], env)
                rows[f"growth: {n} profile(s), {workers} worker(s)"] = {  # (a build starts no idle worker)
                    "s": s, "n": len(built) or n, "peak_mb": mb, "peak_mb_per_worker": mb / min(workers, n)}

        print("dask ...", file=sys.stderr)
        rows["dask: 98 profiles, LocalCluster 2 workers"] = dict(dask_row(env), n=len(profiles),
                                                                 pool="98 profiles, cold")

        print("index ...", file=sys.stderr)
        rows["index: 4,116 records, 3 languages"] = {"s": index_seconds(), "n": 4116}

        print("floor ...", file=sys.stderr, flush=True)
        spec = [{"notebook": str(v.report.notebook), "params": v.params, "title": v.report.title,
                 "executed": str(root / "reports" / v.report.id / f"{v.id}.ipynb")} for v in profiles]
        (Path(tmp) / "floor.json").write_text(json.dumps(spec), encoding="utf-8")
        result = subprocess.run([sys.executable, str(REPO / "bench" / "floor.py"), str(Path(tmp) / "floor.json"),
                                 env["CHROMIUM"]], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"bench/floor.py failed:\n{result.stderr[-3000:]}")
        floor = json.loads(result.stdout.strip().splitlines()[-1])
        serial = sum(floor["execute_s"]) + sum(floor["export_s"])
        rows["floor, 98 profiles"] = {"s": serial / args.jobs, "n": len(profiles), "serial_s": serial,
                                      "execute_median_s": statistics.median(floor["execute_s"]),
                                      "export_median_s": statistics.median(floor["export_s"])}
        rows["floor + print, 98 profiles"] = {"s": (serial + sum(floor["print_s"])) / args.jobs, "n": len(profiles),
                                              "print_median_s": statistics.median(floor["print_s"]),
                                              "naive": "naive, 98 profiles (est.)"}
        rows["floor + print, at once"] = {"s": floor_at_once(spec, args.jobs, Path(tmp), env), "n": len(profiles),
                                          "naive": "naive, 98 profiles (est.)"}
        size = {f"{report} {kind} KB (median)": round(sizes(root, report, kind), 1)
                for report in ("municipality_profile", "coi_citizens_volunteers", "ks_innovation_barometer")
                for kind in ("html", "pdf")}

    for row in rows.values():
        row["per_variant_s"] = row["s"] / row["n"] if row["n"] else 0.0
    for row in rows.values():
        if "naive" in row:
            row["x_faster_than_naive"] = rows[row["naive"]]["s"] / row["s"]
        if "pool" in row:
            row["x_pool"] = row["s"] / rows[row["pool"]]["s"]
        if "floor" in row:
            row["x_floor"] = row["s"] / rows[row["floor"]]["s"]
            row["s_per_variant_over_floor"] = row["per_variant_s"] - rows[row["floor"]]["per_variant_s"]
    print_table(rows, size, args.jobs)
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "jobs": args.jobs,
               "python": platform.python_version(), "rows": rows, "sizes": size}
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{results['when'].replace(':', '')}.json").write_text(json.dumps(results, indent=1))
    partial.unlink(missing_ok=True)


class Saved(dict):
    """The rows, written to ``path`` (JSON) each time one is added."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.path.parent.mkdir(exist_ok=True)
        self.path.write_text(json.dumps(self, indent=1, default=str), encoding="utf-8")


def print_table(rows: dict[str, dict], size: dict[str, float], jobs: int) -> None:
    print(f"\n{'':44} {'seconds':>9} {'variants':>8} {'s/variant':>9} {'x naive':>8} {'x floor':>8} {'peak MB':>8}")
    for name, r in rows.items():
        x_naive = f"{r['x_faster_than_naive']:.1f}" if "x_faster_than_naive" in r else ""
        x_floor = f"{r['x_floor']:.2f}" if "x_floor" in r else ""
        peak = f"{r['peak_mb']:.0f}" if "peak_mb" in r else ""
        print(f"{name:44} {r['s']:9.2f} {r['n']:8d} {r['per_variant_s']:9.2f} {x_naive:>8} {x_floor:>8} {peak:>8}")
    change = rows["one change"]
    print(f"\none change: rebuilt {len(change['rebuilt'])} variant(s); {len(change['readers'])} read the changed file; "
          f"exactly those: {'yes' if change['exact'] else 'NO'}")
    floor = rows["floor, 98 profiles"]
    print(f"floor per profile (serial): execute {floor['execute_median_s']:.2f} s + export {floor['export_median_s']:.2f} s "
          f"(median); divided by {jobs} worker(s)")
    bound = rows["floor + print, 98 profiles"]
    print(f"floor + print: print {bound['print_median_s']:.2f} s per profile (median); with no engine at all a build "
          f"of HTML and PDF would be {bound['x_faster_than_naive']:.1f}x faster than the naive loop here")
    together = rows["floor + print, at once"]
    print(f"floor + print at once ({jobs} floors sharing the cores as a build's workers do): "
          f"{together['x_faster_than_naive']:.1f}x the naive loop")
    profiles = rows["98 profiles, cold"]
    print(f"98 profiles: {profiles['x_faster_than_naive']:.1f}x faster than the naive loop; "
          f"{profiles['s_per_variant_over_floor']:+.2f} s per variant over the floor; "
          f"{profiles['s'] / together['s']:.2f}x the floor + print at once")
    growth = {k: r for k, r in rows.items() if k.startswith("growth")}
    print("growth (peak MB per worker): " + "; ".join(f"{k[8:]} {r['peak_mb_per_worker']:.0f}" for k, r in growth.items()))
    dask = next(r for k, r in rows.items() if k.startswith("dask"))
    print(f"dask LocalCluster: {dask['x_pool']:.2f}x the local pool's time ({dask['built']} built)")
    print("sizes: " + "; ".join(f"{k} {v}" for k, v in size.items()))


if __name__ == "__main__":
    main()
