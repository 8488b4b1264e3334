"""Execute one parameterised notebook with papermill's Python API.

Knows nothing about reports or municipalities: a notebook, parameters, and where to write the executed copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from papermill.exceptions import PapermillExecutionError

KERNEL_NAME = "kommunelab"


@dataclass
class ExecutionFailure:
    """Where a notebook failed: enough to find and fix it without opening the notebook first."""

    cell_index: int | None
    exception: str
    message: str


QUIET = "--IPKernelApp.log_level=ERROR"  # the kernel's start-up warnings are noise in cron logs


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register this interpreter as the ``name`` kernel (in sys.prefix) if it is missing or is another Python."""
    import json
    import sys

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
        if spec.argv and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve() and QUIET in spec.argv:
            return name
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    folder = Path(install(kernel_name=name, display_name="Python (kommunelab)", prefix=sys.prefix))
    spec_file = folder / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec["argv"] = [sys.executable, *spec["argv"][1:], QUIET]
    spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return name


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], cwd: Path,
                     timeout: int = 900, env: dict[str, str] | None = None) -> ExecutionFailure | None:
    """Run ``notebook`` with ``parameters`` and write the executed copy to ``output``.

    Returns None on success, or where it failed (the executed copy, with the error, is written either way).
    """
    kernel = ensure_kernel()
    old_env = dict(os.environ)
    os.environ.update(env or {})  # the kernel inherits this process's environment
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name=kernel, cwd=str(cwd),
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, shutdown_kernel="immediate",
        )
    except PapermillExecutionError as exc:
        return ExecutionFailure(_source_cell_index(output, exc.cell_index), exc.ename, exc.evalue)
    except Exception as exc:  # kernel died, timeout, bad notebook: still a failure of this variant only
        return ExecutionFailure(None, type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc) else "")
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    return None


def _source_cell_index(executed: Path, cell_index: int | None) -> int | None:
    """Index of the failing cell in the *source* notebook (papermill inserts an injected-parameters cell)."""
    if cell_index is None:
        return None
    try:
        cells = nbformat.read(executed, as_version=4).cells
    except Exception:
        return cell_index
    injected = sum(1 for c in cells[:cell_index] if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    return cell_index - injected
