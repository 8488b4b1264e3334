"""Scale-out: the Dask executor on a distributed.LocalCluster (2 workers on loopback, started here) gives the
findings the local pool gives, brings the files back, and a worker that dies fails only its variant."""

from __future__ import annotations

import io
import json

import pytest

from kommunelab.engine.build import BuildOptions, build, exit_code, failure_table

from .conftest import write_notebook

distributed = pytest.importorskip("distributed", reason="the Dask executor needs the distributed package")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    import dask

    # One retry instead of three: a task that kills its worker is given up sooner.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=None) as local:
        yield local.scheduler_address


def findings(root):
    records = json.loads((root / "reports" / "findings.json").read_text(encoding="utf-8"))
    return {(f["report"], f["variant"], f["id"]): (f["value"], f["status"], f.get("ci")) for f in records}


def test_the_dask_executor_gives_the_local_pools_findings(project, cluster):
    reports = ["coi_citizens_volunteers", "kl_collaborations"]
    local = build(reports, None, False, BuildOptions(formats=("html",), jobs=2), out=io.StringIO())
    assert exit_code(local) == 0, failure_table(local)
    expected = findings(project)
    html = {o.name: (project / "reports" / o.outputs["html"]).read_text(encoding="utf-8") for o in local}
    out = io.StringIO()
    remote = build(reports, None, False, BuildOptions(formats=("html", "pdf"), force=True, executor="dask",
                                                     scheduler=cluster), out=out)
    assert exit_code(remote) == 0, failure_table(remote)
    assert "on the Dask cluster at tcp://127.0.0.1:" in out.getvalue()
    assert findings(project) == expected
    for o in remote:
        for kind in ("ipynb", "html", "pdf"):
            assert (project / "reports" / o.outputs[kind]).stat().st_size > 1000, (o.name, kind)
        # The page is the same apart from the build time.
        page = (project / "reports" / o.outputs["html"]).read_text(encoding="utf-8")
        assert len(page.splitlines()) == len(html[o.name].splitlines()), o.name
    assert not list((project / "reports").glob(".tmp/*")), "the client's temporary folder is removed"


def _add_report(root, name: str, title: str, grid: str = "") -> None:
    """Add notebooks/<name>.ipynb to the toy project's manifest as a report with one int parameter x."""
    manifest = root / "reports.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + f'''
[reports.{name}]
title = "{title}"
notebook = "notebooks/{name}.ipynb"
formats = ["html"]
{grid}[reports.{name}.parameters.x]
type = "int"
default = 1
''', encoding="utf-8")


def test_a_worker_that_dies_fails_only_its_variant(toy_project, cluster):
    write_notebook(toy_project / "notebooks" / "killer.ipynb", "x = 1",
                   "import os, signal\n"
                   "def parent(pid):\n"
                   "    return int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])\n"
                   "worker = parent(os.getpid())\n"
                   "while b'kommunelab.kernel' in open(f'/proc/{worker}/cmdline', 'rb').read():\n"
                   "    worker = parent(worker)  # past the kernel template the kernel was forked from\n"
                   "os.kill(worker, signal.SIGKILL)")
    _add_report(toy_project, "killer", "Kills its worker")
    outcomes = build(["killer", "other"], None, False, BuildOptions(formats=("html",), executor="dask",
                                                                   scheduler=cluster), out=io.StringIO())
    status = {o.report: o for o in outcomes}
    assert status["other"].status == "built"
    assert status["killer"].status == "failed" and status["killer"].failure.stage == "worker"
    assert "KilledWorker" in status["killer"].failure.exception, status["killer"].failure


def test_dask_options_are_checked_before_anything_runs():
    from kommunelab.errors import KommunelabError

    with pytest.raises(KommunelabError, match="needs --scheduler"):
        BuildOptions(executor="dask")
    with pytest.raises(KommunelabError, match="is for --executor dask"):
        BuildOptions(scheduler="tcp://127.0.0.1:1")


def test_dask_workers_fork_their_kernels_from_a_template_they_keep(toy_project, cluster):
    """As in the local pool: each variant's kernel is a fork of the worker process's prepared template."""
    write_notebook(toy_project / "notebooks" / "forked.ipynb", "x = 1",
                   "import os\nparent = open(f'/proc/{os.getppid()}/cmdline', 'rb').read()\n"
                   "assert b'--template' in parent, parent")
    _add_report(toy_project, "forked", "Forked", grid="grid = { x = [1, 2, 3] }\n")
    outcomes = build(["forked"], None, True, BuildOptions(formats=("html",), executor="dask", scheduler=cluster),
                     out=io.StringIO())
    assert [o.status for o in outcomes] == ["built"] * 3, failure_table(outcomes)
