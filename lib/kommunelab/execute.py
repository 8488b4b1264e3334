"""Execute one parameterised notebook with papermill's Python API.

Knows nothing about reports or municipalities: a notebook, parameters, and where to write the executed copy.
Cell indices in failures count the cells of the *source* notebook: papermill's injected-parameters cell and the
error markers it adds are not counted, so "cell 1" is the cell after a leading parameters cell.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.exceptions import PapermillExecutionError, strip_color

from .kernel import QUIET

KERNEL_NAME = "kommunelab"
INJECTED = "injected-parameters"
ERROR_MARKER = "papermill-error-cell-tag"


@dataclass(frozen=True)
class ExecutionFailure:
    """Where a notebook failed: enough to find and fix it without opening the notebook first."""

    exception: str
    message: str
    cell: int | None = None
    cell_source: str = ""
    traceback: str = ""


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register this interpreter as the ``name`` kernel (in sys.prefix) if it is missing or is another Python."""
    import sys

    argv = [sys.executable, "-m", "kommunelab.kernel", "-f", "{connection_file}", QUIET]
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
        if spec.argv and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve() and spec.argv[1:] == argv[1:]:
            return name
    except NoSuchKernel:
        pass
    install_kernel(name)
    return name


def install_kernel(name: str = KERNEL_NAME, user: bool = False, prefix: str | None = None) -> Path:
    """Register this interpreter (the project's environment) as the ``name`` kernel for any Jupyter: in this
    environment (default), the user's Jupyter folder (``user``) or under ``prefix`` (e.g. a JupyterHub's). Returns
    the kernel's folder."""
    import sys

    from ipykernel.kernelspec import install

    argv = [sys.executable, "-m", "kommunelab.kernel", "-f", "{connection_file}", QUIET]
    folder = Path(install(kernel_name=name, display_name="Python (kommunelab)", user=user,
                          prefix=None if user else (prefix or sys.prefix)))
    spec_file = folder / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec["argv"] = argv  # kommunelab.kernel: dies with its worker, and honours the memory cap
    spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder


class _SavedAtTheEnd(NotebookExecutionManager):
    """Papermill's bookkeeping, but the executed notebook is written once, when execution ends (success, error or a
    dead kernel alike), instead of at every cell's start and end: 26 writes of a 100 KB notebook cost a variant
    0.2 s. The cell that was running when a kernel died is still marked (its start time is in memory)."""

    def save(self, **kwargs) -> None:
        if self.end_time is not None:
            super().save(**kwargs)


class _Engine(NBClientEngine):
    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        nb_man = _SavedAtTheEnd(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


ENGINE = "kommunelab"
papermill_engines.register(ENGINE, _Engine)


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], cwd: Path, timeout: float = 900,
                     env: dict[str, str] | None = None, record_paths: tuple[str, str] | None = None,
                     kernel_manager_class: type | None = None) -> ExecutionFailure | None:
    """Run ``notebook`` with ``parameters`` and write the executed copy to ``output`` (written on failure too).

    ``record_paths`` (input, output) replaces the paths papermill records in the notebook's metadata, so the
    executed copy names where it will be kept rather than a temporary folder. ``kernel_manager_class`` (handed to
    nbclient through papermill) starts the kernel another way, e.g. kommunelab.forking. Returns None on success.
    """
    kernel = ensure_kernel()
    old_env = dict(os.environ)
    os.environ.update(env or {})  # the kernel inherits this process's environment
    failure = None
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name=kernel, cwd=str(cwd),
            progress_bar=False, log_output=False, engine_name=ENGINE,
            request_save_on_cell_execute=True,  # the engine gets the output path: written even if the kernel dies
            execution_timeout=timeout, shutdown_kernel="immediate",
            **({"kernel_manager_class": kernel_manager_class} if kernel_manager_class else {}),
        )
    except PapermillExecutionError as exc:
        failure = ExecutionFailure(exc.ename, exc.evalue, _source_index(output, exc.cell_index), exc.source,
                                   strip_color("\n".join(exc.traceback or ())))
    except Exception as exc:  # kernel died, timeout, bad notebook: still a failure of this variant only
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        index, source = _running_cell(output)
        failure = ExecutionFailure(type(exc).__name__, message, index, source)
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    if record_paths is not None and output.is_file():
        _record_paths(output, *record_paths)
    return failure


def _source_cells(executed: Path) -> list[dict]:
    """The executed notebook's cells without papermill's error markers (as when papermill counted the failing cell)."""
    cells = json.loads(executed.read_text(encoding="utf-8")).get("cells", [])
    return [c for c in cells if ERROR_MARKER not in c.get("metadata", {}).get("tags", [])]


def _to_source_index(cells: list[dict], index: int) -> int:
    injected = sum(1 for c in cells[:index] if INJECTED in c.get("metadata", {}).get("tags", []))
    return index - injected


def _source_index(executed: Path, cell_index: int | None) -> int | None:
    """Index in the source notebook of papermill's failing cell (its index counts the injected cell, not markers)."""
    if cell_index is None:
        return None
    try:
        return _to_source_index(_source_cells(executed), cell_index)
    except (OSError, ValueError):
        return cell_index


def _running_cell(executed: Path) -> tuple[int | None, str]:
    """The cell that was running when the kernel died or the cell timed out: the last one papermill started."""
    try:
        cells = _source_cells(executed)
    except (OSError, ValueError):
        return None, ""
    started = [i for i, c in enumerate(cells)
               if c.get("cell_type") == "code" and c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:
        return None, ""
    i = started[-1]
    source = cells[i].get("source", "")
    return _to_source_index(cells, i), "".join(source) if isinstance(source, list) else source


def _record_paths(executed: Path, input_path: str, output_path: str) -> None:
    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.setdefault("papermill", {})
    meta["input_path"], meta["output_path"] = input_path, output_path
    nbformat.write(nb, executed)
