"""The kommunelab kernel: IPython's kernel, started so that it dies with the process that started it and, when
$KOMMUNELAB_KERNEL_MEMORY_MB is set, cannot grow past that much memory (a cell that tries fails with MemoryError).

Two ways to start one:
- fresh: ``python -m kommunelab.kernel -f FILE`` (registered as the `kommunelab` kernel by
  kommunelab.engine.run.execute.ensure_kernel; what JupyterLab and a plain papermill run use);
- forked: ``python -m kommunelab.kernel --template`` starts a *template* process that imports the notebooks'
  libraries once and then, for each line ``{"argv", "cwd", "env"}`` on its stdin, forks a child that becomes a
  fresh kernel started with ``argv`` (the options a fresh one would be given, ``-f CONNECTION_FILE`` among them) and
  answers ``{"pid": N}``. A build's workers use it (kommunelab.engine.run.forking) so that a variant
  does not pay for starting Python, importing pandas, seaborn and statsmodels, and reading the reference data again.
  Every child starts from the template's state (prepare()), which has imported modules and filled the data caches
  kept per version of each file, but run no notebook code: nothing one variant does is seen by the next.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import signal
import sys

from .lifetime import die_with_parent
from .records import MEMORY_ENV, OUTPUT_ENV

QUIET = "--IPKernelApp.log_level=ERROR"  # the kernel's start-up warnings are noise in cron logs
# What a build's kernel is started with beyond its spec, by the client (engine.run.execute) and for a kernel started
# ahead (engine.run.forking.start_spare) alike: nbclient's own default, IPython's history in memory, not in the user's
# ~/.ipython, which a nightly build would otherwise grow by every cell of every variant.
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)
INLINE = "module://matplotlib_inline.backend_inline"
# What the notebooks import (and what importing them costs most): imported once by the template, never run.
PRELOAD = ("numpy", "pandas", "scipy.stats", "statsmodels.api", "matplotlib.pyplot", "seaborn", "babel.numbers",
           "pandas.io.formats.style",  # the tables' Styler (and Jinja2): pandas imports it on first use, 0.06 s
           # what a variant otherwise imported on first use, 0.06 s in all: the figures' SVG, the data behind each
           # figure and table as CSV and text, the catalogs' compiler, the report's parameters
           "matplotlib.backends.backend_svg", "pandas.io.formats.csvs", "pandas.io.formats.string",
           "pandas.core.methods.to_dict", "babel.lists", "babel.messages.mofile", "babel.messages.pofile",
           "kommunelab.manifest", "kommunelab.choices",
           "IPython.display", "kommunelab.report", "kommunelab.geo", "kommunelab.findings", "kommunelab.plots",
           "kommunelab.stats", "kommunelab.survey", "kommunelab.profile", "kommunelab.analysis.coi",
           "kommunelab.analysis.di", "kommunelab.analysis.kl", "kommunelab.analysis.kora", "kommunelab.analysis.ks",
           # what IPKernelApp.initialize imports (imported here, it costs a kernel 0.1 s to start instead of 0.26 s)
           "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "ipykernel.comm",
           "ipykernel.eventloops", "ipykernel.iostream", "ipykernel.heartbeat", "ipykernel.parentpoller",
           "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
           "IPython.extensions.storemagic", "IPython.utils.wildcard", "sqlite3", "pdb", "psutil",
           "tornado.platform.asyncio")


# What fills the caches a notebook's reads look in first (the reference data, kept per version of each file; nothing
# recorded) and what a variant would otherwise load on first use (Babel's locale data; PIL's image plugins, which a
# figure with an image in it, a colour bar, imports when it is saved). Named, as PRELOAD is, rather than imported
# here: preparing a template changes no output, so the modules are inputs only of the variants whose notebooks import
# them (engine.plan.cache reads import statements).
WARM = ("kommunelab.data:warm", "kommunelab.geo:warm", "kommunelab.i18n:warm", "PIL.Image:preinit")


def limit_memory() -> None:
    limit = os.environ.get(MEMORY_ENV, "").strip()
    if limit.isdigit() and int(limit) > 0:
        cap = int(limit) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


class OutputLimitExceeded(Exception):
    """Raised in a cell that prints past $KOMMUNELAB_MAX_OUTPUT_BYTES: the cell stops there, and so does its memory."""


def output_cap_message(limit: int) -> str:
    """What a cell stopped at the output cap says (the kernel's count and the build client's alike)."""
    return f"a cell may output at most {limit / 1024 / 1024:g} MB (--max-output-mb); this one was stopped there"


def cap_output(shell) -> None:
    """Count what each cell writes to stdout and stderr, and fail the cell at $KOMMUNELAB_MAX_OUTPUT_BYTES: an endless
    print loop stops at the cap instead of filling the kernel's buffers (the build's client has its own check for
    rich outputs)."""
    value = os.environ.get(OUTPUT_ENV, "").strip()
    if not value.isdigit() or int(value) <= 0:
        return
    limit, written = int(value), [0]
    shell.events.register("pre_run_cell", lambda info: written.__setitem__(0, 0))
    for stream in (sys.stdout, sys.stderr):
        def write(text, _write=stream.write):
            written[0] += len(text)
            if written[0] > limit:
                raise OutputLimitExceeded(output_cap_message(limit))
            return _write(text)
        stream.write = write


def main() -> None:
    if sys.argv[1:] == ["--template"]:
        serve_template()
        return
    die_with_parent()
    limit_memory()
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    cap_output(app.shell)
    app.start()


def prepare() -> None:
    """What a template does before it forks a kernel (and bench/floor.py before it runs a variant, so the floor is
    measured from the same start): import PRELOAD, read the reference data into the caches kept per version of each
    file (WARM: the reference tables and the boundaries; nothing is recorded as read), and freeze what is alive then
    out of the garbage collector's sight: a child's collections would otherwise walk every imported object again (0.2 s
    a profile), and the frozen objects stay in pages the children share with the template."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # a kernel that needs it will fail as a fresh one would, in the notebook's own cell
            pass
    for spec in WARM:
        module, name = spec.split(":")
        try:
            getattr(importlib.import_module(module), name)()
        except ImportError:
            pass
    gc.collect()
    gc.freeze()


def serve_template() -> None:
    """Prepare (imports, data caches), then fork one kernel per request read from stdin (see the module text)."""
    die_with_parent()
    os.environ.setdefault("MPLBACKEND", INLINE)  # as ipykernel sets it, before pyplot is imported
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy's import-time warning is noise in logs
    prepare()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the template's children (kernels) are reaped automatically
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    answers.write('{"ready": true}\n')
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            answers.close()
            _become_kernel(request)  # never returns
        answers.write(json.dumps({"pid": pid}) + "\n")


def _become_kernel(request: dict) -> None:
    code = 1
    try:
        os.setsid()  # its own process group, as a freshly launched kernel has
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # subprocesses started by notebook code are waited for
        die_with_parent()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[0] = request["cwd"]
        limit_memory()
        from ipykernel.kernelapp import IPKernelApp
        from IPython.core.pylabtools import activate_matplotlib
        from matplotlib import get_backend
        from matplotlib_inline.backend_inline import configure_inline_support

        app = IPKernelApp.instance()
        app.initialize(request["argv"])
        if get_backend() == INLINE:
            # What importing the inline backend does in a fresh kernel once the shell exists (here it was imported
            # by the template, before there was a shell).
            activate_matplotlib(INLINE)
            configure_inline_support(app.shell, INLINE)
        cap_output(app.shell)
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # say why on stderr (the build's log), as a kernel that fails to start does
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
