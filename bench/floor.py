"""The floor for a batch of variants: each notebook's code run as a plain script in an interpreter prepared as a
build's kernel template is (kommunelab.kernel.prepare: the libraries imported, the reference data read into the caches
kept per version of each file, the garbage collector's view frozen), a fresh fork per variant (no kernel, no
messaging, no saving), its figures rendered as the inline backend would render them, plus the HTML export of the
executed notebook the build wrote. With CHROMIUM, also each page printed to PDF as a build prints it (one browser
kept for all; kommunelab.engine.render.html_to_pdf): the floor of a build that makes PDFs too. A print is counted in
CPU seconds of this process and the browser's (Playwright's driver, Chromium's processes): Chromium prints in several
processes at once, so its wall time would undercount what it takes from the cores. Called by bench/run.py:

    python bench/floor.py VARIANTS.json [CHROMIUM] [--wait]  # [{"notebook": ..., "params": {...}, "executed": ...}]

Prints {"execute_s": [...], "export_s": [...], "print_s": [...], "loop_s": ...} (seconds per variant, in order;
print_s in CPU seconds, empty without CHROMIUM; loop_s the wall time of all variants). With --wait it prepares, prints
"ready" and starts its variants when a line arrives on stdin: bench/run.py starts one floor per core so, at once, to
measure the floor with the cores shared as they really are rather than divided by their number.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU seconds of this process (not its reaped children: the variants' forks) and of every live descendant with
    the children it reaped (the browser's print processes)."""
    from kommunelab.lifetime import descendants

    total = sum(os.times()[:2])
    for pid in descendants():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        total += sum(int(x) for x in stat[stat.rindex(")") + 2:].split()[11:15]) / HZ
    return total


def main() -> None:
    import matplotlib.pyplot as plt
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from kommunelab.engine.render import close_printer, html_to_pdf, notebook_to_html
    from kommunelab.kernel import prepare

    args = [a for a in sys.argv[1:] if a != "--wait"]
    variants = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    chromium = args[1] if len(args) > 1 else None
    scratch = Path(tempfile.mkdtemp(prefix="kommunelab-floor-"))
    prepare()
    if "--wait" in sys.argv:
        print("ready", flush=True)
        sys.stdin.readline()
    execute_s, export_s, print_s = [], [], []
    loop = time.perf_counter()
    for v in variants:
        notebook = Path(v["notebook"])
        nb = parameterize_notebook(load_notebook_node(str(notebook)), v["params"])
        cells = [c.source for c in nb.cells if c.cell_type == "code"]
        os.chdir(notebook.parent)
        # Each variant in a fresh fork of this interpreter: prepared as a kernel template is, but nothing a previous
        # variant loaded or cached is there (as for the build's kernels).
        read, write = os.pipe()
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            namespace: dict = {"__name__": "__main__"}
            with contextlib.redirect_stdout(io.StringIO()):
                for source in cells:
                    exec(compile(source, str(notebook), "exec"), namespace)
                    for number in plt.get_fignums():  # what the inline backend does at the end of a cell
                        plt.figure(number).savefig(io.BytesIO(), format="svg", bbox_inches="tight")
                    plt.close("all")
            os.write(write, b"ok")
            os._exit(0)
        os.close(write)
        ok = os.read(read, 2) == b"ok"
        os.close(read)
        os.waitpid(pid, 0)
        if not ok:
            sys.exit(f"floor: {notebook} with {v['params']} failed")
        execute_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        html = notebook_to_html(Path(v["executed"]), title=v.get("title"))
        export_s.append(time.perf_counter() - start)
        if chromium:
            page = scratch / "page.html"
            page.write_text(html, encoding="utf-8")
            start = cpu_seconds()
            html_to_pdf(page, scratch / "page.pdf", chromium, created="2026-01-01T00:00:00+00:00", scratch=scratch)
            print_s.append(cpu_seconds() - start)
    loop_s = time.perf_counter() - loop
    close_printer()
    shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"execute_s": execute_s, "export_s": export_s, "print_s": print_s, "loop_s": loop_s}))


if __name__ == "__main__":
    main()
