"""``kommunelab build``: the engine's stages composed. build() plans, runs (rendering each variant in its worker)
and publishes, under the build lock, and returns the outcomes; the CLI prints them and maps them to an exit code
(exit_code()). Knows nothing about what a report computes.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..chromium import ensure_chromium
from ..errors import KommunelabError, shorten
from ..i18n import PSEUDO_ENV
from ..lifetime import deferred_signals
from ..manifest import Variant, load_manifest, local_edits, variant_parameters
from ..paths import REPORTS, project_root, relative
from ..provenance import git_revision
from ..records import BUILD_TIME_ENV, REVISION_ENV, TMP, BuildStatus, Failure, Outcome, Task
from . import publish, run
from .plan import cache, formats_for, plan, stale_elsewhere, with_recorded
from .plan.request import BuildOptions, default_jobs, select_variants
from .publish.lock import build_lock

__all__ = ["BuildOptions", "Failure", "Outcome", "build", "dry_run", "build_time", "default_jobs", "exit_code", "failure_table",
           "select_variants"]


def build_time() -> str:
    """The build's recorded time: $SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.now(UTC).isoformat(timespec="seconds")
    try:
        if int(epoch) < 0:
            raise ValueError(epoch)
        return datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        raise KommunelabError(f"SOURCE_DATE_EPOCH={shorten(epoch, 40)} is not a time: give whole seconds since "
                              "1970-01-01 (e.g. `git log -1 --format=%ct`), or unset it") from None


def index_language(options: BuildOptions) -> str | None:
    """The index's language: the build's, when it names one (--language da); else the site's (None)."""
    return options.languages[0] if len(options.languages) == 1 and options.languages[0] != "all" else None


def _log(out, message: str) -> None:
    stamp = "" if hasattr(out, "isatty") and out.isatty() else f"{run.timestamp()} "
    print(f"{stamp}kommunelab: {message}", file=out, flush=True)


Overrides = dict[str, Any] | list[dict[str, Any]] | None  # one parameter set, or several (a parameter file)


def build(report_ids: list[str] | None = None, overrides: Overrides = None, all_variants: bool = False,
          options: BuildOptions | None = None, out=None) -> list[Outcome]:
    """Build the requested reports (only what changed) and return one outcome per variant.

    Everything is validated before the lock is taken; with it held, leftovers of killed builds are removed first."""
    options = options or BuildOptions()
    out = out or sys.stderr
    selected = select_variants(report_ids, overrides, all_variants, options.languages)
    root = project_root()
    when = build_time()
    with build_lock(root, options.wait, when):
        return _build(selected, root, when, options, out, keep_existing=not overrides)


def dry_run(report_ids: list[str] | None = None, overrides: Overrides = None, all_variants: bool = False,
            options: BuildOptions | None = None) -> tuple[list[tuple[Variant, list[str]]], list[Variant]]:
    """What ``build`` with the same arguments would build and why, and what it would leave as it is; nothing is
    executed or written and no lock is taken."""
    options = options or BuildOptions()
    selected = select_variants(report_ids, overrides, all_variants, options.languages)
    root = project_root()
    previous = cache.load_state(root)
    if not overrides:
        selected = with_recorded(selected, previous, load_manifest())
    return plan(selected, previous, root, options, {})


def _build(selected: list[Variant], root: Path, when: str, options: BuildOptions, out,
           keep_existing: bool = True) -> list[Outcome]:
    previous = cache.load_state(root, repair=True)
    manifest = load_manifest()
    if keep_existing:  # every variant already in reports/ of these reports is kept current, grids and one-offs alike
        selected = with_recorded(selected, previous, manifest)
    for report in {v.report.id: v.report for v in selected}.values():
        edits = local_edits(report)
        if edits:
            _log(out, f"{relative(report.notebook, root)}: its parameters cell says {'; '.join(edits)}. A build "
                      "injects reports.toml's values, so this changes nothing built (a local edit? `git checkout "
                      f"{relative(report.notebook, root)}` restores the committed one)")
    memo = {}
    planned, current = plan(selected, previous, root, options, memo)
    todo = [v for v, _ in planned]
    outcomes = [previous[f"{v.report.id}/{v.id}"].but(status=BuildStatus.CURRENT, title=v.title, label=v.label,
                                                      detail=v.detail, stale=()) for v in current]
    others = stale_elsewhere(previous, selected, manifest, root, options, memo)
    if others and any(o.status is BuildStatus.STALE for o in others):
        _log(out, f"{sum(o.status is BuildStatus.STALE for o in others)} variant(s) of reports not in this build are stale "
                  "(`kommunelab build --dry-run` says why; `kommunelab build` rebuilds them)")
    if not todo:
        _log(out, f"nothing to do: all {len(selected)} report variant(s) are up to date (use --force to rebuild)")
        was_stale = any(previous[o.name].status is BuildStatus.STALE for o in outcomes)  # current again: say so
        if others or was_stale or not publish.unchanged(root, previous, manifest):
            with deferred_signals():
                publish.write_outputs(root, outcomes + others, previous, manifest, when,
                                      language=index_language(options))
        return outcomes
    from . import render  # nbconvert and the browser driver: imported only when there is something to build
    from .run.execute import ensure_kernel

    ensure_kernel()  # once, here: workers installing it at the same time would race
    chromium = ensure_chromium(install=False) if any("pdf" in formats_for(v, options) for v in todo) else None
    jobs = min(options.jobs, len(todo))  # a worker with nothing to build would only start a kernel template
    where = f"on the Dask cluster at {options.scheduler}" if options.executor == "dask" else f"with {jobs} worker(s)"
    _log(out, f"building {len(todo)} of {len(selected)} report variant(s) {where}"
              + (f"; {len(current)} up to date" if current else ""))
    tmp_root = root / REPORTS / TMP / str(os.getpid())
    revision = git_revision(root)  # found once: for every kernel, and for the record
    env = {"KOMMUNELAB_ROOT": str(root), "PYDEVD_DISABLE_FILE_VALIDATION": "1", BUILD_TIME_ENV: when,
           REVISION_ENV: revision,
           "JUPYTER_RUNTIME_DIR": str(tmp_root / "runtime")}  # connection files go with the build's folder
    if os.environ.get(PSEUDO_ENV):
        env[PSEUDO_ENV] = os.environ[PSEUDO_ENV]
    if options.data_mirror:
        env["KOMMUNELAB_DATA_MIRROR"] = str(Path(options.data_mirror).resolve())
    by_task = {}
    for v in todo:
        executed = root / REPORTS / v.report.id / f"{v.id}.ipynb"
        task = Task(report=v.report.id, variant=v.id, title=v.title, notebook=str(v.report.notebook),
                    params=v.params, formats=formats_for(v, options), show_code=options.show_code, chromium=chromium,
                    workdir=str(tmp_root / v.report.id / v.id), env=env, timeout=options.timeout_for(v.report),
                    max_output_mb=options.max_output_mb, kernel_memory_mb=options.kernel_memory_mb,
                    record_paths=(relative(v.report.notebook, root), relative(executed, root)), build_time=when,
                    fork_kernels=options.fork_kernels, shown=tuple(variant_parameters(v)))
        by_task[task] = v
    progress = run.Progress(len(todo), out)
    try:
        for task, result in run.run(list(by_task), render.RENDER, jobs, options.fork_kernels,
                                       options.scheduler if options.executor == "dask" else None):
            v = by_task[task]
            with deferred_signals() as held:  # a variant's files move in together, or not at all
                outcome = publish.promote(v, result, root, previous.get(f"{v.report.id}/{v.id}"), when,
                                          task.formats, options.show_code)
                outcomes.append(outcome)
                progress.step(outcome)
            if held:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        progress.close()
        with deferred_signals():  # what finished stays recorded, as one set
            publish.write_outputs(root, outcomes + others, previous, manifest, when, revision=revision,
                                  language=index_language(options))
        _log(out, "interrupted: finished variants are in place and recorded; nothing half-written was kept")
        raise
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
        _remove_empty(root / REPORTS / TMP)
    progress.close()
    changes = publish.drift(previous, outcomes)
    with deferred_signals() as held:  # the records switch as one set; a signal now waits until they are in place
        publish.write_outputs(root, outcomes + others, previous, manifest, when,
                              changes if any(o.status is BuildStatus.BUILT for o in outcomes) else None, revision,
                              language=index_language(options))
    for line in publish.drift_lines(changes):
        _log(out, line)
    built = sum(o.status is BuildStatus.BUILT for o in outcomes)
    failed = sum(o.status is BuildStatus.FAILED for o in outcomes)
    _log(out, f"{built} built, {len(outcomes) - built - failed} up to date, {failed} failed; "
              f"index: {root / REPORTS / 'index.html'}")
    if held:
        _log(out, "interrupted after the build had finished: its outputs and records were written whole")
        raise KeyboardInterrupt
    return outcomes


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def exit_code(outcomes: list[Outcome]) -> int:
    """0 when every variant is built or up to date, 1 when any failed (2, a bad request, is raised before)."""
    return 1 if any(o.status is BuildStatus.FAILED for o in outcomes) else 0


def failure_table(outcomes: list[Outcome], width: int = 120) -> str:
    """The failed variants: report, parameters, stage and cell, error, and the executed notebook kept. A failure
    repeated across variants (same stage, cell, exception and message) is given once, with the variants it hit.
    Long values wrap rather than being cut, so the offending parameter is always visible."""
    failed = [o for o in outcomes if o.failure is not None and o.status is BuildStatus.FAILED]
    if not failed:
        return ""
    groups: dict[tuple, list[Outcome]] = {}
    for o in failed:
        f = o.failure
        groups.setdefault((o.report, f.stage, f.cell, f.exception, f.message), []).append(o)
    lines = ["Failures:"]
    for (_, stage, cell, exception, message), hit in groups.items():
        o, f = hit[0], hit[0].failure
        where = f"{stage}" + (f", cell {cell}" if cell is not None else "")
        if len(hit) == 1:
            lines.append(f"- {o.name} [{where}]")
            params = ", ".join(f"{k}={v}" for k, v in o.params.items())
        else:
            names = ", ".join(h.variant for h in hit[:6]) + (f" and {len(hit) - 6} more" if len(hit) > 6 else "")
            lines.append(f"- {len(hit)} variants of {o.report} [{where}], the same failure: {names}")
            params = ""
        notebook = f.notebook + (" (and one for each of the others)" if f.notebook and len(hit) > 1 else "")
        for label, text in (("parameters", params), ("error", f"{exception}: {message}"),
                            ("cell source", f.cell_source.strip().splitlines()[0] if f.cell_source.strip() else ""),
                            ("notebook", notebook)):
            if text:
                lines.extend(textwrap.wrap(text, width=width, initial_indent=f"    {label + ':':<13}",
                                           subsequent_indent=" " * 17, break_long_words=True))
    return "\n".join(lines)
