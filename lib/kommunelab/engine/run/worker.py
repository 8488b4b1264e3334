"""Build one variant in a worker process: execute it (papermill), then hand the executed notebook to the render
step the engine passed in (HTML, PDF), all in a private temporary folder. Never raises: a failure comes back as data
naming its stage.

A worker builds many variants and keeps what is costly to start between them: a kernel template with the libraries
imported (each variant's kernel is a fresh fork of it), one Chromium, one HTML exporter.

Limits: a wall-clock budget for the whole variant (execution and printing; a watchdog kills the kernel and Chromium
when it runs out), a cap on what one cell may output, and a memory cap on the kernel (kommunelab.kernel).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Protocol

from ...records import MEMORY_ENV, OUTPUT_ENV, BuildStatus, Failure, Result, Stage, Task, collect_outputs


class Render(Protocol):
    """The render stage's steps for one variant. The engine passes them in (engine.render.RENDER), so this stage
    never imports a later one."""

    def __call__(self, task: Task, executed: Path, seconds_left: float) -> tuple[dict[str, str], Failure | None]:
        """The files made from the executed notebook, (kind -> path, None), or ({}, the failure). Never raises."""

    def warm(self, task: Task) -> None:
        """Start what rendering ``task`` will need and is kept between variants (a browser), so that it starts while
        the variant's kernel does. Never raises."""


_ADOPTS = False  # set in a pool worker that adopts orphans (start_worker)


def start_worker(fork_kernels: bool = True, env: dict[str, str] | None = None) -> None:
    """Pool initializer: a worker dies with the build that started it, even when the build is killed. Its kernel
    template starts preparing now (in ``env``, the build's environment for kernels), while the worker imports
    papermill and nbconvert."""
    global _ADOPTS
    from ...lifetime import become_subreaper, die_with_parent

    die_with_parent()
    _ADOPTS = become_subreaper()  # processes a notebook abandons come to this worker, which ends them (run_task)
    if fork_kernels:
        from .forking import start_template

        start_template(env)


# How long (at most; no longer than the variant's own limit) a worker may take to give up a variant after its
# watchdog killed the kernel and Chromium: a healthy one returns within a second (its client sees the kernel gone,
# the print fails). One still inside the variant then is stuck in its own process, which no kill of its children
# frees: it exits, and the build reports the variant, and those not yet started, failed ("a worker process died")
# instead of waiting for ever; the next build builds them.
STUCK_GRACE_S = 20.0


class Watchdog:
    """Kills this worker's children (the kernel, Chromium) when the variant's wall-clock budget runs out, and ends the
    worker itself if it is still in the variant STUCK_GRACE_S (at most ``seconds``) later."""

    def __init__(self, seconds: float):
        self.expired = False
        self.grace = grace = min(STUCK_GRACE_S, seconds)
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True
        self.last_resort = threading.Timer(grace, self._stuck)
        self.last_resort.daemon = True
        self._lock = threading.Lock()  # the variant's end and the budget's end, one after the other
        self._over = False

    def _expire(self) -> None:
        from ...lifetime import kill_descendants

        with self._lock:
            if self._over:
                return
            self.expired = True
            self.last_resort.start()
        kill_descendants()  # the kernel template and its kernel, Chromium and Playwright's driver

    def _stuck(self) -> None:
        import sys

        with self._lock:  # held to the end: the variant cannot be said to have ended while the worker exits
            if self._over:
                return
            print(f"kommunelab: a worker was still in its variant {self.grace:g} s after the variant's time limit "
                  "stopped its kernel and Chromium; the worker exits", file=sys.stderr, flush=True)
            os._exit(os.EX_TEMPFAIL)

    def __enter__(self) -> Watchdog:
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._over = True
        self.timer.cancel()
        self.last_resort.cancel()


def run_task(task: Task, render: Render) -> Result:
    start = time.perf_counter()
    try:
        with Watchdog(task.timeout) as watchdog:
            result = _run(task, render, start)
    except Exception as exc:  # e.g. the temporary folder cannot be written: a failure of this variant only
        result = Result.failed(Stage.WORKER, exc)
    if _ADOPTS:
        from ...lifetime import kill_strays

        kill_strays()  # nothing a variant started outlives it, setsid'd grandchildren included
    if watchdog.expired:
        before = result.failure or Failure(stage=Stage.LIMIT, exception="")
        failure = Failure(stage=Stage.LIMIT, exception="TimeLimitExceeded",
                          message=f"the variant ran past its limit of {task.timeout:g} s (execution and printing "
                                  "together); the kernel and Chromium were stopped",
                          cell=before.cell, cell_source=before.cell_source)
        result = Result(status=BuildStatus.FAILED, files=result.files, failure=failure)
    return result.but(seconds=time.perf_counter() - start)


def _run(task: Task, render: Render, start: float) -> Result:
    from .execute import KERNEL_NAME, OUTPUT_TOO_LARGE, execute_notebook
    from .forking import BuildKernelManager, ForkingKernelManager, start_spare, take_spare

    work = Path(task.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if task.env.get("JUPYTER_RUNTIME_DIR"):  # kernel connection files (with their signing keys) go with the build
        Path(task.env["JUPYTER_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    executed = work / f"{task.variant}.ipynb"
    cap = int(task.max_output_mb * 1024 * 1024)
    env = {**task.env, MEMORY_ENV: str(task.kernel_memory_mb), OUTPUT_ENV: str(cap)}
    manager = ForkingKernelManager if task.fork_kernels else BuildKernelManager
    cwd = Path(task.notebook).parent
    kernel_env = {**os.environ, **env}  # what a kernel started for this variant inherits
    spare = take_spare(str(cwd), kernel_env) if task.fork_kernels else None
    render.warm(task)  # a first variant: the browser starts while the kernel template is still importing
    # The watchdog enforces the variant's budget; papermill's per-cell timeout is only a backstop behind it.
    failed = execute_notebook(Path(task.notebook), executed, task.params, cwd=cwd, timeout=task.timeout + 30, env=env,
                              record_paths=task.record_paths, kernel_manager_class=manager, max_output_bytes=cap,
                              km=spare)
    if task.fork_kernels:  # the next variant's kernel starts while this one is rendered
        try:
            start_spare(KERNEL_NAME, str(cwd), kernel_env)
        except Exception:  # (the template is gone: the next variant starts one as usual)
            pass
    kept = {"ipynb": str(executed)} if executed.is_file() else {}
    if failed is not None:
        failure = Failure(stage=Stage.LIMIT if failed.exception == OUTPUT_TOO_LARGE else Stage.EXECUTE,
                          exception=failed.exception, message=failed.message, cell=failed.cell,
                          cell_source=failed.cell_source, traceback=failed.traceback)
        if failed.exception == "MemoryError":
            failure = failure.but(stage=Stage.LIMIT, message=f"the kernel reached its memory limit of "
                                                             f"{task.kernel_memory_mb} MB")
        return Result(status=BuildStatus.FAILED, files=kept, failure=failure)
    try:
        collected = collect_outputs(executed)
    except Exception as exc:
        return Result.failed(Stage.EXPORT, exc, files=kept)
    files, failure = render(task, executed, max(1.0, task.timeout - (time.perf_counter() - start)))
    if failure is not None:  # an export or print failure fails this variant, not the build
        return Result(status=BuildStatus.FAILED, files=kept, failure=failure)
    return Result(status=BuildStatus.BUILT, files={**kept, **files}, collected=collected)
