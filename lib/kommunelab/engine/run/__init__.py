"""The run stage: the tasks on a pool of worker processes (or a Dask cluster, engine.run.remote), each executed by
engine.run.worker and rendered by the step the engine passes in; progress reported; a clean stop on Ctrl-C or
SIGTERM.

A live bar on a terminal; one timestamped line per variant otherwise (cron, CI, pipes).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial

from ...records import BuildStatus, Outcome, Result, Stage, Task
from .worker import Render, run_task, start_worker

# What an exception that carries no message means here.
WHY = {"CancelledError": "the task was cancelled: the Dask scheduler or the worker went away before it finished",
       "BrokenProcessPool": "a worker process died (killed, or out of memory) before it finished"}


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(tasks: list[Task], render: Render, jobs: int, fork_kernels: bool = True,
        scheduler: str | None = None) -> Iterator[tuple[Task, Result]]:
    """Yield each task with its result as it finishes: on ``jobs`` local worker processes, or on the Dask cluster at
    ``scheduler``. On Ctrl-C or SIGTERM the local workers (and so their kernels) are terminated, or the cluster's
    tasks cancelled, and KeyboardInterrupt propagates; what finished before has already been yielded."""
    if scheduler:
        from .remote import dask_executor, land, run_remote

        client, pool = dask_executor(scheduler)
        work, finish, stop = partial(run_remote, render=render), (lambda task, value: land(task, *value)), client.close
    else:
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=start_worker,
                                      initargs=(fork_kernels, tasks[0].env if tasks else {}))
        work, finish, stop = partial(run_task, render=render), (lambda task, value: value), _stop_workers
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)  # cron's kill: stop as cleanly as Ctrl-C
    try:
        futures = {pool.submit(work, t): t for t in tasks}
        for fut in cf.as_completed(futures):
            task = futures[fut]
            try:
                result = finish(task, fut.result())
            except Exception as exc:  # the worker process itself died (Dask: KilledWorker after its retries)
                result = Result.failed(Stage.WORKER, exc, str(exc) or WHY.get(
                    type(exc).__name__, "the worker ended without saying why"))
            yield task, result
    except (KeyboardInterrupt, GeneratorExit):
        pool.shutdown(wait=False, cancel_futures=True)
        stop()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    pool.shutdown(wait=True)
    if scheduler:
        stop()


def _stop_workers(grace: float = 5.0) -> None:
    """Kill the running workers and everything below them (kernel templates, kernels, Chromium and its driver), and
    wait until they are gone, so that removing the build's temporary folder cannot race a browser still writing its
    profile there."""
    from ...lifetime import alive, descendants, kill_all

    workers = [c.pid for c in multiprocessing.active_children() if c.pid is not None]
    pids = workers + [p for w in workers for p in descendants(w)]
    kill_all(pids)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.02)
    for child in multiprocessing.active_children():
        child.join(0.1)


def timestamp() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Progress:
    """A live bar on a terminal; one plain, timestamped line per variant otherwise."""

    def __init__(self, total: int, out, running: Callable[[], list[str]] | None = None):
        self.total, self.done, self.out, self.running = total, 0, out, running
        self.bar = None
        if hasattr(out, "isatty") and out.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=out, unit="report", dynamic_ncols=True)

    def step(self, outcome: Outcome) -> None:
        self.done += 1
        line = f"[{self.done}/{self.total}] {outcome.status.label:<6} {outcome.name} ({outcome.seconds:.1f} s)"
        if outcome.failure:
            line += f" - {outcome.failure.line()}"
        if self.bar is not None:
            self.bar.update(1)
            if outcome.status is BuildStatus.FAILED:
                self.bar.write(line)
        else:
            print(f"{timestamp()} {line}", file=self.out, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
