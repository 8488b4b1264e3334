"""Scale-out on a Dask cluster (``kommunelab build --executor dask --scheduler tcp://HOST:8786``).

Each variant is one task: a Dask worker builds it in a scratch folder of its own machine, in a kernel forked from
the worker's kernel template (prepared once per worker process, as in the local pool; a fresh kernel with
``--fresh-kernels``), and sends the files back with the result, so workers share no filesystem with the client; the client
puts them in place and writes build.json, findings.json and the index as for a local build. A worker needs the
project's environment (the same revision, installed with ``make setup``), Chromium for PDFs, and the data mirror or
network. A worker that dies fails its variant only (after Dask has retried it elsewhere).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from ...errors import KommunelabError
from ...records import Result, Task
from .worker import Render, run_task

_SCRATCH: Path | None = None


def _scratch() -> Path:
    """This worker process's scratch folder (the printer's browser profile lives there across tasks), removed when
    the process exits; folders of worker processes that are gone (killed) are removed when the next one starts."""
    global _SCRATCH
    if _SCRATCH is None:
        from ...lifetime import alive

        base = Path(tempfile.gettempdir())
        for stale in base.glob(f"{SCRATCH_PREFIX}*-*"):
            owner = stale.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
            if owner.isdigit() and not alive(int(owner)):
                shutil.rmtree(stale, ignore_errors=True)
        _SCRATCH = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        atexit.register(_remove_scratch)
    return _SCRATCH


SCRATCH_PREFIX = "kommunelab-dask-"


def _remove_scratch() -> None:
    """(The printer's browser, whose profile is in the folder, is closed first: it registered its own exit handler
    later, and exit handlers run last-registered first.)"""
    if _SCRATCH is not None:
        shutil.rmtree(_SCRATCH, ignore_errors=True)


def _here(task: Task) -> Task:
    """The task as this machine runs it: its project (the client's folder if it exists here, else this machine's
    $KOMMUNELAB_ROOT or the installed project), its own Chromium and scratch folder."""
    from ...chromium import find_chromium
    from ...paths import project_root

    client_root = Path(task.env.get("KOMMUNELAB_ROOT", ""))
    root = client_root if (client_root / task.record_paths[0]).is_file() else project_root()
    env = {**task.env, "KOMMUNELAB_ROOT": str(root), "JUPYTER_RUNTIME_DIR": str(_scratch() / "runtime")}
    mirror = env.get("KOMMUNELAB_DATA_MIRROR")
    if mirror and not Path(mirror).is_dir():
        env.pop("KOMMUNELAB_DATA_MIRROR")  # the client's mirror is not here: this machine's own setting applies
    chromium = find_chromium() if task.chromium else None
    if task.chromium and chromium is None:
        raise KommunelabError(f"no Chromium on the Dask worker {os.uname().nodename} to print PDFs; install one")
    return task.but(notebook=str(root / task.record_paths[0]), env=env, chromium=chromium,
                    workdir=str(_scratch() / task.report / task.variant))


def run_remote(task: Task, render: Render) -> tuple[Result, dict[str, bytes]]:
    """Run on a Dask worker: build one variant and return its result with the bytes of its files."""
    here = _here(task)
    if here.fork_kernels:
        from .forking import start_template

        start_template(here.env)  # this worker process's template (kept for its later tasks), prepared for this machine
    try:
        result = run_task(here, render)
        payload = {kind: Path(path).read_bytes() for kind, path in result.files.items()}
    finally:
        shutil.rmtree(here.workdir, ignore_errors=True)
    return result.but(files={}), payload


def land(task: Task, result: Result, payload: dict[str, bytes]) -> Result:
    """On the client: write the files a worker sent into the task's temporary folder, where a local worker would
    have left them."""
    work = Path(task.workdir)
    work.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, data in payload.items():
        path = work / f"{task.variant}.{kind}"
        path.write_bytes(data)
        files[kind] = str(path)
    return result.but(files=files)


def dask_executor(scheduler: str):
    """A concurrent.futures executor over the Dask cluster at ``scheduler`` (Client.get_executor)."""
    try:
        from distributed import Client
    except ImportError:
        raise KommunelabError("--executor dask needs the distributed package: `.venv/bin/pip install distributed` "
                              "(it is in the project's dev and dask extras)") from None
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise KommunelabError(f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); start one with "
                              "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1`") from None
    return client, client.get_executor(pure=False)
