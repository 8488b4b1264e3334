"""Stage 3a: build one variant in a worker process: execute (papermill), export HTML (nbconvert), print the PDF
(Chromium), all into a private temporary folder. Never raises: a failure comes back as data naming its stage.

A worker builds many variants and keeps what is costly to start between them: a kernel template with the libraries
imported (each variant's kernel is a fresh fork of it), one Chromium, one HTML exporter.

Limits: a wall-clock budget for the whole variant (execution and printing; a watchdog kills the kernel and Chromium
when it runs out), a cap on what one cell may output, and a memory cap on the kernel (kommunelab.kernel).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Collected, collect_outputs
from .results import Failure


@dataclass(frozen=True, eq=False)  # identity equality: a task is one unit of work, used as a key by the runner
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
    timeout: float  # seconds for the whole variant: execution and printing
    max_output_mb: float
    kernel_memory_mb: int
    record_paths: tuple[str, str]  # (notebook, executed notebook) as they will be named once published
    build_time: str
    fork_kernels: bool = True  # kernels forked from this worker's template (kommunelab.forking) or started fresh
    shown: tuple[tuple[str, str], ...] = ()  # (parameter, value label) that tell the variant apart: under the heading


@dataclass(frozen=True)
class TaskResult:
    status: str  # built | failed
    files: dict[str, str] = field(default_factory=dict)  # kind -> temporary path
    collected: Collected = field(default_factory=Collected)
    failure: Failure | None = None
    seconds: float = 0.0


_ADOPTS = False  # set in a pool worker that adopts orphans (start_worker)


def start_worker(fork_kernels: bool = True) -> None:
    """Pool initializer: a worker dies with the build that started it, even when the build is killed. Its kernel
    template starts importing now, while the worker imports papermill and nbconvert."""
    global _ADOPTS
    from ..lifetime import become_subreaper, die_with_parent

    die_with_parent()
    _ADOPTS = become_subreaper()  # processes a notebook abandons come to this worker, which ends them (run_task)
    if fork_kernels:
        from ..forking import start_template

        start_template()


class Watchdog:
    """Kills this worker's children (the kernel, Chromium) when the variant's wall-clock budget runs out."""

    def __init__(self, seconds: float):
        self.expired = False
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def _expire(self) -> None:
        from ..lifetime import kill_descendants

        self.expired = True
        kill_descendants()  # the kernel template and its kernel, Chromium and Playwright's driver

    def __enter__(self) -> Watchdog:
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()


def run_task(task: Task) -> TaskResult:
    start = time.perf_counter()
    try:
        with Watchdog(task.timeout) as watchdog:
            result = _run(task, start)
    except Exception as exc:  # e.g. the temporary folder cannot be written: a failure of this variant only
        result = TaskResult("failed", failure=Failure("worker", type(exc).__name__, str(exc)))
    if _ADOPTS:
        from ..lifetime import kill_strays

        kill_strays()  # nothing a variant started outlives it, setsid'd grandchildren included
    if watchdog.expired:
        failure = Failure("limit", "TimeLimitExceeded", f"the variant ran past its limit of {task.timeout:g} s "
                          "(execution and printing together); the kernel and Chromium were stopped",
                          *(result.failure.cell, result.failure.cell_source) if result.failure else (None, ""))
        result = TaskResult("failed", result.files, failure=failure)
    return TaskResult(result.status, result.files, result.collected, result.failure, time.perf_counter() - start)


def _run(task: Task, start: float) -> TaskResult:
    from ..execute import OUTPUT_TOO_LARGE, execute_notebook
    from ..export import html_to_pdf, notebook_to_html
    from ..kernel import MEMORY_ENV, OUTPUT_ENV

    work = Path(task.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if task.env.get("JUPYTER_RUNTIME_DIR"):  # kernel connection files (with their signing keys) go with the build
        Path(task.env["JUPYTER_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    executed = work / f"{task.variant}.ipynb"
    files = {"ipynb": str(executed)}
    cap = int(task.max_output_mb * 1024 * 1024)
    env = {**task.env, MEMORY_ENV: str(task.kernel_memory_mb), OUTPUT_ENV: str(cap)}
    from ..forking import BuildKernelManager, ForkingKernelManager

    manager = ForkingKernelManager if task.fork_kernels else BuildKernelManager
    # The watchdog enforces the variant's budget; papermill's per-cell timeout is only a backstop behind it.
    failed = execute_notebook(Path(task.notebook), executed, task.params, cwd=Path(task.notebook).parent,
                              timeout=task.timeout + 30, env=env, record_paths=task.record_paths,
                              kernel_manager_class=manager, max_output_bytes=cap)
    if failed is not None:
        stage = "limit" if failed.exception == OUTPUT_TOO_LARGE else "execute"
        failure = Failure(stage, failed.exception, failed.message, failed.cell, failed.cell_source, failed.traceback)
        if failed.exception == "MemoryError":
            failure = Failure("limit", "MemoryError", f"the kernel reached its memory limit of {task.kernel_memory_mb} "
                              "MB", failed.cell, failed.cell_source, failed.traceback)
        return TaskResult("failed", files if executed.is_file() else {}, failure=failure)
    stage = "export"
    try:
        collected = collect_outputs(executed)
        if "html" in task.formats or "pdf" in task.formats:
            html = work / f"{task.variant}.html"
            html.write_text(notebook_to_html(executed, task.show_code, task.title, task.shown), encoding="utf-8")
            if "html" in task.formats:
                files["html"] = str(html)
            if "pdf" in task.formats:
                stage = "print"
                pdf = work / f"{task.variant}.pdf"
                remaining = max(1.0, task.timeout - (time.perf_counter() - start))
                html_to_pdf(html, pdf, task.chromium, timeout=remaining, created=task.build_time,
                            scratch=work.parents[1])
                files["pdf"] = str(pdf)
    except Exception as exc:  # an export or print failure fails this variant, not the build
        return TaskResult("failed", {"ipynb": str(executed)}, failure=Failure(stage, type(exc).__name__, str(exc)))
    return TaskResult("built", files, collected)
