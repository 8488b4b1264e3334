"""Stage 3a: build one variant in a worker process: execute (papermill), export HTML (nbconvert), print the PDF
(Chromium), all into a private temporary folder. Never raises: a failure comes back as data naming its stage."""

from __future__ import annotations

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
    timeout: float
    record_paths: tuple[str, str]  # (notebook, executed notebook) as they will be named once published
    build_time: str


@dataclass(frozen=True)
class TaskResult:
    status: str  # built | failed
    files: dict[str, str] = field(default_factory=dict)  # kind -> temporary path
    collected: Collected = field(default_factory=Collected)
    failure: Failure | None = None
    seconds: float = 0.0


def run_task(task: Task) -> TaskResult:
    from ..execute import execute_notebook
    from ..export import html_to_pdf, notebook_to_html

    start = time.perf_counter()
    work = Path(task.workdir)
    work.mkdir(parents=True, exist_ok=True)
    executed = work / f"{task.variant}.ipynb"
    files = {"ipynb": str(executed)}
    failed = execute_notebook(Path(task.notebook), executed, task.params, cwd=Path(task.notebook).parent,
                              timeout=task.timeout, env=task.env, record_paths=task.record_paths)
    if failed is not None:
        failure = Failure("execute", failed.exception, failed.message, failed.cell, failed.cell_source,
                          failed.traceback)
        return TaskResult("failed", files if executed.is_file() else {}, failure=failure,
                          seconds=time.perf_counter() - start)
    stage = "export"
    try:
        collected = collect_outputs(executed)
        if "html" in task.formats or "pdf" in task.formats:
            html = work / f"{task.variant}.html"
            html.write_text(notebook_to_html(executed, task.show_code, task.title), encoding="utf-8")
            if "html" in task.formats:
                files["html"] = str(html)
            if "pdf" in task.formats:
                stage = "print"
                pdf = work / f"{task.variant}.pdf"
                html_to_pdf(html, pdf, task.chromium, created=task.build_time)
                files["pdf"] = str(pdf)
    except Exception as exc:  # an export or print failure fails this variant, not the build
        return TaskResult("failed", {"ipynb": str(executed)}, failure=Failure(stage, type(exc).__name__, str(exc)),
                          seconds=time.perf_counter() - start)
    return TaskResult("built", files, collected, seconds=time.perf_counter() - start)
