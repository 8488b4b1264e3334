"""Build reports: validate, execute (papermill), export (nbconvert + Chromium), cache, index.

Knows nothing about what a report computes. A variant is rebuilt only when one of its inputs changed: the
notebook, its parameters and manifest entry, the library's source, the data files it read last time, or the
dependency lock. Outputs are written to a temporary folder and moved into place only when complete, so a failed
or interrupted build leaves the previous good report where it was.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from .chromium import ensure_chromium
from .errors import KommunelabError
from .manifest import FORMATS, Report, Variant, load_manifest, variants
from .paths import library_dir, project_root
from .provenance import sha256_file
from .report import collect_outputs

LOCK_FILE = "requirements.lock"
STATE_FILE = "build.json"
FINDINGS_FILE = "findings.json"


@cache
def library_digest() -> str:
    """One digest over the library's source and templates (any edit to lib/kommunelab rebuilds every report)."""
    h = hashlib.sha256()
    root = library_dir()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(sha256_file(path).encode())
    return h.hexdigest()


def git_revision(root: Path) -> str:
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (rev or "unknown") + ("+dirty" if dirty else "")


@dataclass
class BuildOptions:
    formats: tuple[str, ...] = FORMATS
    jobs: int = 2
    force: bool = False
    show_code: bool = False
    data_mirror: str | None = None
    timeout: int = 900


@dataclass
class Task:
    """Everything a worker process needs to build one variant (picklable)."""

    report: str
    variant: str
    title: str
    notebook: str
    params: dict[str, Any]
    formats: tuple[str, ...]
    show_code: bool
    chromium: str | None
    workdir: str
    env: dict[str, str]
    timeout: int


@dataclass
class Outcome:
    report: str
    variant: str
    params: dict[str, Any]
    status: str  # built | skipped | failed
    key: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    built_at: str = ""
    error: dict[str, Any] | None = None
    title: str = ""
    is_default: bool = False


def run_task(task: Task) -> dict[str, Any]:
    """Worker: execute, export HTML, print PDF into task.workdir. Never raises; failures come back as data."""
    from .execute import execute_notebook
    from .export import html_to_pdf, notebook_to_html

    start = time.perf_counter()
    work = Path(task.workdir)
    work.mkdir(parents=True, exist_ok=True)
    executed = work / f"{task.variant}.ipynb"
    result: dict[str, Any] = {"files": {"ipynb": str(executed)}}
    failure = execute_notebook(Path(task.notebook), executed, task.params, cwd=Path(task.notebook).parent,
                               timeout=task.timeout, env=task.env)
    if failure is not None:
        result.update(status="failed", error={"stage": "execute", "cell": failure.cell_index,
                                              "exception": failure.exception, "message": failure.message})
        result["seconds"] = time.perf_counter() - start
        return result
    try:
        collected = collect_outputs(executed)
        result.update(findings=collected["findings"], data_files=collected["data_files"])
        if "html" in task.formats or "pdf" in task.formats:
            html = work / f"{task.variant}.html"
            html.write_text(notebook_to_html(executed, task.show_code, task.title), encoding="utf-8")
            if "html" in task.formats:
                result["files"]["html"] = str(html)
            if "pdf" in task.formats:
                pdf = work / f"{task.variant}.pdf"
                html_to_pdf(html, pdf, task.chromium)
                result["files"]["pdf"] = str(pdf)
        result["status"] = "built"
    except Exception as exc:  # an export failure fails this variant, not the build
        result.update(status="failed", error={"stage": "export", "cell": None, "exception": type(exc).__name__,
                                              "message": str(exc)})
    result["seconds"] = time.perf_counter() - start
    return result


class Builder:
    def __init__(self, options: BuildOptions, out=None):
        self.options = options
        self.root = project_root()
        self.reports_dir = self.root / "reports"
        self.out = out or sys.stderr
        self.lock_digest = sha256_file(self.root / LOCK_FILE) if (self.root / LOCK_FILE).is_file() else ""
        self.previous = self._load_state()
        self.outcomes: list[Outcome] = []  # filled as variants finish, so an interrupted build can still record them

    # ---- state -------------------------------------------------------------------------------------------
    def _load_state(self) -> dict[str, dict[str, Any]]:
        path = self.reports_dir / STATE_FILE
        if not path.is_file():
            return {}
        try:
            records = json.loads(path.read_text(encoding="utf-8")).get("variants", [])
        except (json.JSONDecodeError, AttributeError):
            return {}  # a damaged state file only costs a full rebuild
        return {f"{r['report']}/{r['variant']}": r for r in records}

    def input_key(self, variant: Variant, data_files: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """Digest of everything the variant's output depends on, and the inputs themselves (for build.json)."""
        report = variant.report
        current_data = {}
        for path in sorted(data_files):
            p = Path(path)
            current_data[path] = sha256_file(p) if p.is_file() else "missing"
        inputs = {
            "notebook": sha256_file(report.notebook),
            "params": variant.params,
            "manifest": _manifest_entry_digest(report),
            "library": library_digest(),
            "lock": self.lock_digest,
            "data": current_data,
            "formats": sorted(self.formats_for(variant)),
            "show_code": self.options.show_code,
        }
        key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
        return key, inputs

    def formats_for(self, variant: Variant) -> tuple[str, ...]:
        """The formats requested for this build that the report declares (reports.toml `formats`)."""
        return tuple(f for f in self.options.formats if f in variant.report.formats)

    def is_current(self, variant: Variant) -> bool:
        prev = self.previous.get(f"{variant.report.id}/{variant.id}")
        if self.options.force or not prev or prev.get("status") != "built":
            return False
        if any(not (self.reports_dir / rel).is_file() for rel in prev.get("outputs", {}).values()):
            return False
        key, _ = self.input_key(variant, prev.get("inputs", {}).get("data", {}))
        return key == prev.get("key")

    # ---- running -----------------------------------------------------------------------------------------
    def run(self, selected: list[Variant]) -> list[Outcome]:
        current = [self.is_current(v) for v in selected]
        todo = [v for v, ok in zip(selected, current, strict=True) if not ok]
        skipped = [v for v, ok in zip(selected, current, strict=True) if ok]
        outcomes = self.outcomes = [self._skipped(v) for v in skipped]
        if not todo:
            self._log(f"nothing to do: all {len(selected)} report variant(s) are up to date (use --force to rebuild)")
            return outcomes
        from .execute import ensure_kernel

        ensure_kernel()  # once, here: workers installing it at the same time would race
        needs_pdf = any("pdf" in self.formats_for(v) for v in todo)
        chromium = ensure_chromium(install=False) if needs_pdf else None
        self._log(f"building {len(todo)} of {len(selected)} report variant(s) with {self.options.jobs} worker(s)"
                  + (f"; {len(skipped)} up to date" if skipped else ""))
        tmp_root = self.reports_dir / ".tmp" / f"{os.getpid()}"
        env = {"KOMMUNELAB_ROOT": str(self.root), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        if self.options.data_mirror:
            env["KOMMUNELAB_DATA_MIRROR"] = str(Path(self.options.data_mirror).resolve())
        tasks = []
        for v in todo:
            tasks.append(Task(v.report.id, v.id, v.report.title, str(v.report.notebook), v.params, self.formats_for(v),
                            self.options.show_code, chromium, str(tmp_root / v.report.id / v.id), env,
                            self.options.timeout))
        progress = _Progress(len(todo), self.out)
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(max_workers=max(1, self.options.jobs), mp_context=ctx)
        previous_handler = signal.signal(signal.SIGTERM, _interrupt)  # cron's kill: stop as cleanly as Ctrl-C
        try:
            futures = {pool.submit(run_task, t): v for v, t in zip(todo, tasks, strict=True)}
            for fut in cf.as_completed(futures):
                v = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:  # the worker process itself died
                    result = {"status": "failed", "files": {}, "seconds": 0.0,
                              "error": {"stage": "worker", "cell": None, "exception": type(exc).__name__,
                                        "message": str(exc)}}
                outcome = self._finish(v, result)
                outcomes.append(outcome)
                # Futures are dispatched in order and one more than the workers is queued: the first ones run.
                running = [f"{futures[f].report.id}/{futures[f].id}" for f in futures if f.running()]
                progress.step(outcome, running[: max(1, self.options.jobs)])
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():  # running workers; their kernels exit with them
                child.terminate()
            progress.close()
            shutil.rmtree(tmp_root, ignore_errors=True)
            _remove_empty(self.reports_dir / ".tmp")
            self._log("interrupted: finished variants are in place; nothing half-written was kept")
            raise
        finally:
            signal.signal(signal.SIGTERM, previous_handler)
        pool.shutdown(wait=True)
        progress.close()
        shutil.rmtree(tmp_root, ignore_errors=True)
        _remove_empty(self.reports_dir / ".tmp")
        return outcomes

    def _skipped(self, v: Variant) -> Outcome:
        prev = self.previous[f"{v.report.id}/{v.id}"]
        return Outcome(**{**{k: prev.get(k) for k in Outcome.__dataclass_fields__ if k in prev},
                          "status": "skipped", "title": v.report.title,
                          "is_default": v.params == v.report.defaults()})

    def _finish(self, v: Variant, result: dict[str, Any]) -> Outcome:
        """Move a finished variant's files into place (each with an atomic rename) and describe it."""
        dest_dir = self.reports_dir / v.report.id
        dest_dir.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        outcome = Outcome(v.report.id, v.id, v.params, result["status"], seconds=round(result.get("seconds", 0), 2),
                          built_at=now, title=v.report.title, is_default=v.params == v.report.defaults())
        files = result.get("files", {})
        if result["status"] == "built":
            for kind in ("ipynb", "html", "pdf"):
                if kind in files:
                    target = dest_dir / f"{v.id}.{kind}"
                    os.replace(files[kind], target)
                    outcome.outputs[kind] = str(target.relative_to(self.reports_dir))
            failed_copy = dest_dir / f"{v.id}.failed.ipynb"
            failed_copy.unlink(missing_ok=True)
            outcome.findings = result.get("findings", [])
            outcome.key, outcome.inputs = self.input_key(v, result.get("data_files", {}))
        else:
            executed = files.get("ipynb")
            if executed and Path(executed).is_file():
                target = dest_dir / f"{v.id}.failed.ipynb"
                os.replace(executed, target)
                result["error"]["notebook"] = str(target.relative_to(self.root))
            outcome.error = result.get("error")
            prev = self.previous.get(f"{v.report.id}/{v.id}")
            if prev and prev.get("outputs"):
                # The last good report stays in place and stays listed (this record says it failed since).
                outcome.outputs = prev.get("outputs", {})
                outcome.findings = prev.get("findings", [])
        return outcome

    def _log(self, message: str) -> None:
        print(f"kommunelab: {message}", file=self.out, flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _manifest_entry_digest(report: Report) -> str:
    spec = {"title": report.title, "params": {k: asdict(p) for k, p in report.parameters.items()},
            "grid": report.grid, "formats": report.formats}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


class _Progress:
    """A live bar on a terminal; one plain line per variant otherwise (cron, CI, pipes)."""

    def __init__(self, total: int, out):
        self.total, self.done, self.out = total, 0, out
        self.bar = None
        if hasattr(out, "isatty") and out.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=out, unit="report", dynamic_ncols=True)

    def step(self, outcome: Outcome, running: list[str] | None = None) -> None:
        self.done += 1
        line = f"[{self.done}/{self.total}] {outcome.status:<6} {outcome.report}/{outcome.variant} ({outcome.seconds:.1f} s)"
        if outcome.error:
            line += f" - {_error_line(outcome.error)}"
        if self.bar is not None:
            self.bar.set_description(f"running {', '.join(running)}" if running else "done")
            self.bar.update(1)
            if outcome.status == "failed":
                self.bar.write(line)
        else:
            print(line, file=self.out, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _error_line(error: dict[str, Any]) -> str:
    cell = "" if error.get("cell") is None else f"cell {error['cell']}: "
    return f"{cell}{error.get('exception', '')}: {error.get('message', '')}".strip()


def select_variants(report_ids: list[str] | None, overrides: dict[str, str] | None = None,
                    all_variants: bool = False) -> list[Variant]:
    """Validate the request against the manifest before anything runs; errors name report and parameter."""
    manifest = load_manifest()
    ids = report_ids or list(manifest)
    unknown = [r for r in ids if r not in manifest]
    if unknown:
        raise KommunelabError(f"unknown report(s) {', '.join(unknown)}; known: {', '.join(manifest)}")
    if overrides and len(ids) > 1:
        raise KommunelabError("-p NAME=VALUE applies to one report; name exactly one report to build")
    selected = []
    for rid in ids:
        selected.extend(variants(manifest[rid], overrides or {}, all_variants))
    return selected


def write_outputs(root: Path, outcomes: list[Outcome], previous: dict[str, dict[str, Any]]) -> None:
    """build.json, findings.json and index.html, each written whole and renamed into place."""
    from .index import render_index

    reports_dir = root / "reports"
    reports_dir.mkdir(exist_ok=True)
    # Keep records of variants not part of this build (e.g. a single report was built).
    merged = dict(previous)
    for o in outcomes:
        merged[f"{o.report}/{o.variant}"] = asdict(o)
    records = sorted(merged.values(), key=lambda r: (r["report"], r["variant"]))
    for r in records:
        if r["status"] == "skipped":
            r["status"] = "built"  # skipped this time, still a good build on disk
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    state = {"generated": generated, "git_revision": git_revision(root), "variants": records}
    _atomic_write(reports_dir / STATE_FILE, json.dumps(state, indent=1, ensure_ascii=False, default=str))
    findings = [{"report": r["report"], "variant": r["variant"], **f} for r in records for f in r.get("findings", [])]
    _atomic_write(reports_dir / FINDINGS_FILE, json.dumps(findings, indent=1, ensure_ascii=False, default=str))
    _atomic_write(reports_dir / "index.html", render_index(state, findings))


def moved_findings(previous: dict[str, dict[str, Any]], outcomes: list[Outcome]) -> list[str]:
    """Lines naming each finding whose value changed since the last build of the same variant."""
    lines = []
    for o in outcomes:
        if o.status != "built":
            continue
        prev = previous.get(f"{o.report}/{o.variant}")
        if not prev:
            continue
        old = {f["id"]: f.get("value") for f in prev.get("findings", [])}
        for f in o.findings:
            if f["id"] in old and old[f["id"]] != f.get("value"):
                lines.append(f"{o.report}/{o.variant} {f['id']}: {old[f['id']]} -> {f.get('value')}")
    return lines


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build(report_ids: list[str] | None = None, overrides: dict[str, str] | None = None, all_variants: bool = False,
          options: BuildOptions | None = None, out=None) -> tuple[int, list[Outcome]]:
    """Build the requested reports. Returns (exit code, outcomes): 0 when every variant is built or current."""
    options = options or BuildOptions()
    out = out or sys.stderr
    selected = select_variants(report_ids, overrides, all_variants)
    builder = Builder(options, out)
    try:
        outcomes = builder.run(selected)
    except KeyboardInterrupt:
        write_outputs(builder.root, builder.outcomes, builder.previous)  # what finished stays recorded
        raise
    write_outputs(builder.root, outcomes, builder.previous)
    built = [o for o in outcomes if o.status == "built"]
    failed = [o for o in outcomes if o.status == "failed"]
    for line in moved_findings(builder.previous, built):
        print(f"kommunelab: finding moved: {line}", file=out)
    if built or failed:
        print(f"kommunelab: {len(built)} built, {len(outcomes) - len(built) - len(failed)} up to date, "
              f"{len(failed)} failed; index: {builder.reports_dir / 'index.html'}", file=out)
    if failed:
        print("\nFailures:", file=out)
        print(f"{'report':<26} {'parameters':<34} {'cell':>4}  error / executed notebook", file=out)
        for o in failed:
            err = o.error or {}
            params = ", ".join(f"{k}={v}" for k, v in o.params.items())
            cell = "-" if err.get("cell") is None else str(err["cell"])
            print(f"{o.report:<26} {params[:34]:<34} {cell:>4}  {err.get('exception')}: {err.get('message')}",
                  file=out)
            if err.get("notebook"):
                print(f"{'':<67}{err['notebook']}", file=out)
        return 1, outcomes
    return 0, outcomes
