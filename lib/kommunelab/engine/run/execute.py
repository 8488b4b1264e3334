"""Execute one parameterised notebook with papermill's Python API.

Knows nothing about reports or municipalities: a notebook, parameters, and where to write the executed copy.
Cell indices in failures count the cells of the *source* notebook: papermill's injected-parameters cell and the
error markers it adds are not counted, so "cell 1" is the cell after a leading parameters cell.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient.util import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.exceptions import PapermillExecutionError, strip_color
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args
from traitlets import Integer

from ...kernel import KERNEL_ARGUMENTS, QUIET, OutputLimitExceeded, output_cap_message

OUTPUT_TOO_LARGE = "OutputTooLarge"  # the failure of a cell stopped at the output cap, however it was stopped

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


def _kernel_argv() -> list[str]:
    """How Jupyter starts a kommunelab kernel: this interpreter running kommunelab.kernel, which dies with its
    worker and honours the memory cap."""
    return [sys.executable, "-m", "kommunelab.kernel", "-f", "{connection_file}", QUIET]


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register this interpreter as the ``name`` kernel (in sys.prefix) if it is missing or is another Python."""
    argv = _kernel_argv()
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
    from ipykernel.kernelspec import install

    folder = Path(install(kernel_name=name, display_name="Python (kommunelab)", user=user,
                          prefix=None if user else (prefix or sys.prefix)))
    spec_file = folder / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec["argv"] = _kernel_argv()
    spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder


class _SavedAtTheEnd(NotebookExecutionManager):
    """Papermill's bookkeeping, but the executed notebook is written once, when execution ends, instead of at every
    cell's start and end (26 writes of the notebook cost a variant 0.2 s): by papermill itself after a run that
    ended (a cell's error included), and here after one that was stopped (a dead kernel, the output cap, a time
    limit), which papermill does not write. The cell that was running then is still marked (its start time is in
    memory)."""

    stopped = False  # execution raised: papermill will not write the notebook, this manager does

    def save(self, **kwargs) -> None:
        if self.end_time is not None and self.stopped:
            super().save(**kwargs)


class _OutputCapReached(Exception):
    """The client saw a cell's rich outputs pass the cap while it ran (the kernel's own count, for what a cell prints,
    raises kommunelab.kernel.OutputLimitExceeded inside the cell instead)."""

    def __init__(self, cell_index: int, limit: int):
        self.cell_index, self.limit = cell_index, limit
        super().__init__(output_cap_message(limit))


def _message_size(msg: dict) -> int:
    """About how many bytes an output message adds to the notebook: its text and data."""
    content = msg.get("content", {})
    size = len(content.get("text", "")) + sum(len(line) for line in content.get("traceback", ()))
    data = content.get("data", {})
    return size + sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


class _CappedClient(PapermillNotebookClient):
    """Papermill's client with the output cap enforced as output arrives (rich outputs too, which the kernel's own
    print cap does not see): past ``max_output_bytes`` in one cell, its outputs end with a note, later ones are
    dropped, the kernel is interrupted, and the cell fails as OutputTooLarge."""

    max_output_bytes = Integer(0, help="what one cell may output (0: no cap)").tag(config=True)

    def output(self, outs, msg, display_id, cell_index):
        if self.max_output_bytes:
            sizes = self.__dict__.setdefault("_kommunelab_sizes", {})
            overflow = self.__dict__.setdefault("_kommunelab_overflow", set())
            if cell_index in overflow:
                return None
            sizes[cell_index] = sizes.get(cell_index, 0) + _message_size(msg)
            if sizes[cell_index] > self.max_output_bytes:
                overflow.add(cell_index)
                outs.append(nbformat.v4.new_output("stream", name="stderr", text=(
                    f"[kommunelab: output stopped here: this cell printed more than "
                    f"{self.max_output_bytes / 1024 / 1024:g} MB, the limit (--max-output-mb)]\n")))
                interrupted = self.km.interrupt_kernel()
                if inspect.isawaitable(interrupted):
                    asyncio.ensure_future(interrupted)
                return None
        return super().output(outs, msg, display_id, cell_index)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            if cell_index in self.__dict__.get("_kommunelab_overflow", ()):
                raise _OutputCapReached(cell_index, self.max_output_bytes)

    execute_cell = run_sync(async_execute_cell)  # nbclient binds its sync twin to its own coroutine: bind ours

    def setup_kernel(self, **kwargs):
        """nbclient's, but the kernel client's channels are stopped and the kernel shut down at the end even when the
        kernel was started ahead and handed in (``km``): nbclient leaves both running then, and every variant left a
        worker one heartbeat thread and one ZeroMQ context (two more threads) polling, so that the 49th variant of a
        worker took a second longer than its first."""
        return super().setup_kernel(**{"cleanup_kc": True, **kwargs})


class _Engine(NBClientEngine):
    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        """Papermill's, with the capped client (the cap comes as the engine argument ``max_output_bytes``)."""
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                             log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
        return _CappedClient(nb_man, **final).execute()

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, record_paths=None, **kwargs):
        """Papermill's, with the notebook saved as _SavedAtTheEnd says and ``record_paths`` (input, output), when
        given, recorded in its metadata instead of the paths papermill ran it at, before any write."""
        nb_man = _SavedAtTheEnd(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                autosave_cell_every=autosave_cell_every)
        if record_paths is not None:
            nb_man.nb.metadata.papermill["input_path"], nb_man.nb.metadata.papermill["output_path"] = record_paths
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        except BaseException:
            nb_man.stopped = True
            raise
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


ENGINE = "kommunelab"
papermill_engines.register(ENGINE, _Engine)


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], cwd: Path, timeout: float = 900,
                     env: dict[str, str] | None = None, record_paths: tuple[str, str] | None = None,
                     kernel_manager_class: type | None = None, max_output_bytes: int = 0,
                     km: Any = None) -> ExecutionFailure | None:
    """Run ``notebook`` with ``parameters`` and write the executed copy to ``output`` (written on failure too).

    ``record_paths`` (input, output) replaces the paths papermill records in the notebook's metadata, so the
    executed copy names where it will be kept rather than a temporary folder. ``kernel_manager_class`` (handed to
    nbclient through papermill) starts the kernel another way, e.g. kommunelab.engine.run.forking; ``km``, a kernel manager
    whose kernel is already started (kommunelab.engine.run.forking.take_spare), is used instead of starting one, and
    shut down after. ``max_output_bytes`` caps what one cell may output, enforced while it runs (failure
    "OutputTooLarge"). Returns None on success.
    """
    kernel = ensure_kernel()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        failure = _execute_once(notebook, output, parameters, cwd, timeout, env, kernel, kernel_manager_class,
                                max_output_bytes, km if attempt == 1 else None, record_paths)
        if failure is None or failure.cell is not None or not _start_failed(failure) or attempt == KERNEL_START_ATTEMPTS:
            break  # done, or failed in a cell: never run a notebook's cells twice
    return failure


# A kernel can die before it answers, when the ports jupyter_client chose for it were taken by another process in
# between (ZMQError: Address already in use); starting it again with new ports is safe: no cell has run.
KERNEL_START_ATTEMPTS = 2


def _start_failed(failure: ExecutionFailure) -> bool:
    return "kernel_info" in failure.message or "Address already in use" in failure.message


def _execute_once(notebook: Path, output: Path, parameters: dict[str, Any], cwd: Path, timeout: float,
                  env: dict[str, str] | None, kernel: str, kernel_manager_class: type | None,
                  max_output_bytes: int, km: Any = None,
                  record_paths: tuple[str, str] | None = None) -> ExecutionFailure | None:
    old_env = dict(os.environ)
    os.environ.update(env or {})  # the kernel inherits this process's environment
    failure = None
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name=kernel, cwd=str(cwd),
            progress_bar=False, log_output=False, engine_name=ENGINE,
            request_save_on_cell_execute=True,  # the engine gets the output path: written even if the kernel dies
            execution_timeout=timeout, shutdown_kernel="immediate", max_output_bytes=int(max_output_bytes),
            extra_arguments=list(KERNEL_ARGUMENTS),
            **({"kernel_manager_class": kernel_manager_class} if kernel_manager_class else {}),
            **({"km": km} if km is not None else {}),  # shut by the client at the end (_CappedClient.setup_kernel)
            **({"record_paths": tuple(record_paths)} if record_paths is not None else {}),
        )
    except _OutputCapReached as exc:
        index = _source_index(output, exc.cell_index) if output.is_file() else exc.cell_index
        failure = ExecutionFailure(OUTPUT_TOO_LARGE, str(exc), index, _cell_source(output, exc.cell_index))
    except PapermillExecutionError as exc:
        name = OUTPUT_TOO_LARGE if exc.ename == OutputLimitExceeded.__name__ else exc.ename  # the kernel's cap
        failure = ExecutionFailure(name, exc.evalue, _source_index(output, exc.cell_index), exc.source,
                                   strip_color("\n".join(exc.traceback or ())))
    except Exception as exc:  # kernel died, timeout, bad notebook: still a failure of this variant only
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        index, source = _running_cell(output)
        failure = ExecutionFailure(type(exc).__name__, message, index, source)
    finally:
        os.environ.clear()
        os.environ.update(old_env)
        if km is not None and km.has_kernel:  # papermill stopped before the client took it
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # it died in its cell (the failure says so) or was killed
                pass
    return failure


def _cell_source(executed: Path, index: int) -> str:
    """The source of cell ``index`` of the executed notebook (as papermill counts, the injected cell included)."""
    try:
        source = _source_cells(executed)[index].get("source", "")
    except (OSError, ValueError, IndexError):
        return ""
    return "".join(source) if isinstance(source, list) else source


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
