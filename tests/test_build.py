"""The build: execution, export, index, incremental skips and rebuilds, and failures (on a toy project)."""

from __future__ import annotations

import io
import json
import os
import re

import pytest

from kommunelab.engine.build import BuildOptions, build, exit_code, failure_table
from kommunelab.engine.plan import cache
from kommunelab.errors import ParameterError

from .conftest import edit_snapshot, write_notebook

pytestmark = pytest.mark.slow
HTML_ONLY = BuildOptions(formats=("html",), jobs=2)


def run(reports=None, overrides=None, options=HTML_ONLY, all_variants=False):
    out = io.StringIO()
    outcomes = build(reports, overrides, all_variants, options, out=out)
    log = out.getvalue() + "\n" + failure_table(outcomes)
    return exit_code(outcomes), {o.name: o.status for o in outcomes}, log


def test_build_writes_reports_index_and_state_then_second_build_executes_nothing(toy_project):
    code, statuses, log = run()
    assert code == 0, log
    assert statuses == {"hello/default": "built", "other/default": "built"}
    reports = toy_project / "reports"
    for kind in ("html", "ipynb"):
        assert (reports / "hello" / f"default.{kind}").is_file()
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "hello/default.html" in index and "Other report" in index
    state = json.loads((reports / "build.json").read_text(encoding="utf-8"))
    assert {r["variant"] for r in state["variants"]} == {"default"}
    hello = next(r for r in state["variants"] if r["report"] == "hello")
    assert "dataset:dk/population.csv" in hello["inputs"]["data"]  # data read is tracked, by what it is
    assert str(toy_project) not in (reports / "build.json").read_text(encoding="utf-8")  # no absolute path
    assert not (reports / ".tmp").exists()

    code, statuses, log = run()
    assert code == 0
    assert set(statuses.values()) == {"current"}
    assert "nothing to do" in log


def _touch_notebook(root):
    path = root / "notebooks" / "hello.ipynb"
    path.write_text(path.read_text(encoding="utf-8").replace("how many", "how many, edited"), encoding="utf-8")


def _touch_parameters(root):
    path = root / "reports.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("default = 3", "default = 4"), encoding="utf-8")


def _gribskov_plus_one(path):
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("270,municipality,2016,41107", "270,municipality,2016,41108"), encoding="utf-8")


def _touch_data(root):
    edit_snapshot(root / "data" / "reference", "dk/population.csv", _gribskov_plus_one)


def _touch_lock(root):  # a development tool's bump: no output depends on it
    (root / "requirements.lock").write_text("pandas==1\nruff==99\n")


def _edit_library_file(monkeypatch, suffix):
    """As if the library file ending in ``suffix`` had been edited (the library is the real one, not a copy)."""
    real = cache.sha256_file
    monkeypatch.setattr(cache, "sha256_file", lambda p: "edited" if str(p).endswith(suffix) else real(p))


def _bump_package(monkeypatch):
    cache.runtime_packages.cache_clear()
    monkeypatch.setattr(cache, "runtime_packages", lambda: {"pandas": "99.0"})


# The notebook, its parameters and the data it read belong to one report; a library module to the reports whose
# notebooks import it (hello imports kommunelab.data and .report; other imports nothing of ours); the renderer and
# the runtime packages to all; the lock file and modules no notebook imports to none.
@pytest.mark.parametrize("touch, expected", [
    (_touch_notebook, ("built", "current")), (_touch_parameters, ("built", "current")),
    (_touch_data, ("built", "current")), (_touch_lock, ("current", "current")),
    ("data/schema.py", ("built", "current")), ("engine/publish/index.py", ("current", "current")),
    ("engine/build.py", ("current", "current")), ("engine/render/__init__.py", ("built", "built")),
    ("templates/kommunelab/report.css", ("built", "built")),
    ("packages", ("built", "built"))])
def test_changing_an_input_rebuilds_what_depends_on_it(built_toy, monkeypatch, touch, expected):
    toy_project = built_toy
    assert set(run()[1].values()) == {"current"}  # the copy of the built project is current where it lies
    if touch == "packages":
        _bump_package(monkeypatch)
    elif isinstance(touch, str):
        _edit_library_file(monkeypatch, touch)
    else:
        touch(toy_project)
    code, statuses, log = run()
    assert code == 0, log
    assert (statuses["hello/default"], statuses["other/default"]) == expected


def test_an_analysts_edit_and_save_in_jupyterlab_changes_no_build(toy_project):
    """A value changed in the parameters cell, the notebook run and saved with its outputs: nothing is rebuilt (the
    build injects reports.toml's values), and the build says where notebook and manifest part."""
    import nbformat

    path = toy_project / "notebooks" / "hello.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "n: int = 3  # how many\nword: str = 'hej'  # a word"
    nbformat.write(nb, path)
    assert run()[0] == 0
    nb.cells[1].source = "n: int = 7  # how many\nword: str = 'hej'  # a word"  # the analyst's value
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="Danmark 16000000")]
    nb.cells[2].execution_count = 4
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nbformat.write(nb, path)
    code, statuses, log = run()
    assert code == 0 and statuses == {"hello/default": "current", "other/default": "current"}, log
    assert "notebooks/hello.ipynb: its parameters cell says n = 7 (reports.toml: 3)" in log
    nb.cells[2].source += "\nprint('one more line')"  # a change to what the notebook does is a change
    nbformat.write(nb, path)
    assert run()[1]["hello/default"] == "built"


def test_library_inputs_follow_the_notebooks_imports():
    from kommunelab.paths import project_root

    notebooks = project_root() / "notebooks"
    profile = cache.library_inputs(notebooks / "municipality_profile.ipynb")
    coi = cache.library_inputs(notebooks / "coi_citizens_volunteers.ipynb")
    assert "profile.py" in profile and "analysis/coi.py" not in profile and "analysis/coi.py" in coi
    assert "stats.py" in coi and "data/schema.py" in profile  # reached through other modules' imports
    assert "engine/publish/index.py" not in profile and "cli.py" not in coi  # the build's bookkeeping shapes no output
    assert "engine/build.py" not in profile and "engine/plan/cache.py" not in coi
    assert {"engine/render/__init__.py", "engine/run/execute.py", "records.py",
            "templates/kommunelab/report.css"} <= set(profile) & set(coi)


def test_force_rebuilds(built_toy):
    code, statuses, _ = run(options=BuildOptions(formats=("html",), force=True))
    assert set(statuses.values()) == {"built"}


def test_failing_notebook_keeps_previous_output_and_others_still_build(built_toy):
    toy_project = built_toy
    good_html = (toy_project / "reports" / "other" / "default.html").read_text(encoding="utf-8")
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "x = 1", "raise ValueError('broken on purpose')")
    _touch_notebook(toy_project)
    code, statuses, log = run()
    assert code == 1
    assert statuses == {"hello/default": "built", "other/default": "failed"}
    assert "Failures:" in log and "ValueError: broken on purpose" in log
    # the source notebook is markdown title, parameters, x = 1, raise: the raise is cell 3
    assert re.search(r"- other/default \[execute, cell 3\]\n\s+parameters:\s+fail=False", log), log
    assert (toy_project / "reports" / "other" / "default.failed.ipynb").is_file()
    assert (toy_project / "reports" / "other" / "default.html").read_text(encoding="utf-8") == good_html
    state = json.loads((toy_project / "reports" / "build.json").read_text(encoding="utf-8"))
    other = next(r for r in state["variants"] if r["report"] == "other")
    assert other["status"] == "failed" and other["outputs"]["html"] == "other/default.html"
    assert other["failure"] == {"stage": "execute", "exception": "ValueError", "cell": 3,
                                "notebook": "reports/other/default.failed.ipynb"}  # no message: it may quote a file
    index = (toy_project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "execute, cell 3: ValueError" in index and "broken on purpose" not in index  # no message published


def test_bad_parameters_are_refused_before_anything_runs(toy_project):
    with pytest.raises(ParameterError, match="report 'hello', parameter 'n'.*above the maximum"):
        run(["hello"], {"n": "11"})
    with pytest.raises(ParameterError, match="parameter 'word'.*not allowed.*hej, hallo"):
        run(["hello"], {"word": "goddag"})
    with pytest.raises(ParameterError, match="parameter 'n': expects int, got 'three'"):
        run(["hello"], {"n": "three"})
    with pytest.raises(ParameterError, match="parameter 'colour': unknown parameter.*n, word"):
        run(["hello"], {"colour": "red"})
    assert not (toy_project / "reports").exists()


def test_parameter_override_builds_a_named_variant(toy_project):
    code, statuses, _ = run(["hello"], {"n": "5", "word": "hallo"})
    assert code == 0 and statuses == {"hello/n-5_word-hallo": "built"}
    html = (toy_project / "reports" / "hello" / "n-5_word-hallo.html").read_text(encoding="utf-8")
    assert "hallo" in html


def test_html_renders_offline_without_code(toy_project):
    run(["hello"])
    html = (toy_project / "reports" / "hello" / "default.html").read_text(encoding="utf-8")
    # No resource (script, stylesheet, image, font, CSS import) is fetched from the network.
    assert not re.search(r"""<(script|img|iframe|link)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"""url\(\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html
    assert 'src="data:image/png;base64,' in html  # the figure is embedded
    assert "Ærø og Åbenrå" in html  # Danish letters survive
    assert "from kommunelab import data" not in html  # code hidden by default


def _text(html: str) -> str:
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


CODE_ONLY = "plt.plot([1, 2, 3], [n, 2, 1])"  # a line of code that no output prints


def test_show_code_includes_the_code(toy_project):
    run(["hello"])
    assert CODE_ONLY not in _text((toy_project / "reports" / "hello" / "default.html").read_text(encoding="utf-8"))
    run(["hello"], options=BuildOptions(formats=("html",), show_code=True))
    assert CODE_ONLY in _text((toy_project / "reports" / "hello" / "default.html").read_text(encoding="utf-8"))


def test_pdf_is_printed_with_title_and_danish_letters(toy_project):
    from pypdf import PdfReader

    text = (toy_project / "reports.toml").read_text(encoding="utf-8").replace('formats = ["html"]\n', "", 1)
    (toy_project / "reports.toml").write_text(text, encoding="utf-8")
    code, statuses, log = run(["hello"], options=BuildOptions(formats=("html", "pdf")))
    assert code == 0, log
    reader = PdfReader(toy_project / "reports" / "hello" / "default.pdf")
    assert len(reader.pages) >= 1
    content = " ".join(page.extract_text() for page in reader.pages)
    assert "Hello kommunelab" in content
    assert "Æbler, Øer og Århus" in content


# ---- where a failure is reported -------------------------------------------------------------------------------
@pytest.mark.parametrize("cells, expected_cell, source", [
    (["raise ValueError('first after parameters')", "x = 1"], 2, "raise ValueError('first after parameters')"),
    (["x = 1", "y = 2", "raise ValueError('third')"], 4, "raise ValueError('third')"),
    (["x = 1", "import os\nos._exit(1)", "print(3)"], 3, "import os\nos._exit(1)"),
])
def test_the_failing_cell_is_counted_in_the_source_notebook(toy_project, cells, expected_cell, source):
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", *cells)
    outcomes = build(["other"], None, False, HTML_ONLY, out=io.StringIO())
    (outcome,) = outcomes
    # cells: markdown title (0), parameters (1), then the ones above from 2
    assert outcome.status == "failed" and outcome.failure.stage == "execute"
    assert outcome.failure.cell == expected_cell and outcome.failure.cell_source == source
    assert (toy_project / outcome.failure.notebook).is_file()  # the executed notebook is kept, kernel death too


def test_the_time_limit_names_the_running_cell_and_a_stale_failed_notebook_goes(toy_project):
    import time

    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "x = 1", "import time\ntime.sleep(60)")
    start = time.monotonic()
    (outcome,) = build(["other"], None, False, BuildOptions(formats=("html",), timeout=12), out=io.StringIO())
    assert time.monotonic() - start < 45
    assert outcome.failure.stage == "limit" and outcome.failure.exception == "TimeLimitExceeded"
    assert outcome.failure.cell == 3 and "limit of 12 s" in outcome.failure.message
    failed = toy_project / "reports" / "other" / "default.failed.ipynb"
    assert failed.is_file() and "time.sleep(60)" in failed.read_text(encoding="utf-8")
    write_notebook(toy_project / "notebooks" / "other.ipynb", "fail = False", "x = 1")
    (outcome,) = build(["other"], None, False, HTML_ONLY, out=io.StringIO())
    assert outcome.status == "built" and not failed.exists()


# ---- keys and records that follow the project ----------------------------------------------------------------
def test_a_clone_elsewhere_has_nothing_to_rebuild(toy_project, tmp_path, monkeypatch):
    import shutil

    assert run()[0] == 0
    clone = tmp_path / "elsewhere"
    shutil.copytree(toy_project, clone)
    monkeypatch.setenv("KOMMUNELAB_ROOT", str(clone))
    code, statuses, _ = run()
    assert code == 0 and set(statuses.values()) == {"current"}


def test_switching_mirrors_rebuilds_exactly_the_readers_of_a_changed_file(toy_project, tmp_path, monkeypatch, reference):
    import shutil

    def make_mirror(name, edit=False):
        folder = tmp_path / name
        shutil.copytree(reference, folder)
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        if edit:
            edit_snapshot(folder, "dk/population.csv", _gribskov_plus_one)
        return folder

    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(make_mirror("a")))
    assert run()[0] == 0
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(make_mirror("same")))
    assert set(run()[1].values()) == {"current"}  # another folder, the same files: nothing to do
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", str(make_mirror("b", edit=True)))
    code, statuses, _ = run()
    assert code == 0 and statuses == {"hello/default": "built", "other/default": "current"}


def test_variant_ids_are_unique_for_distinct_parameters(toy_project):
    from kommunelab.manifest import Variant, load_manifest

    report = load_manifest()["hello"]
    ids = {Variant(report, {**report.defaults(), "word": w}).id for w in ("hej", "hallo")}
    assert len(ids) == 2
    from kommunelab.manifest import _slug

    assert _slug("/data/micro_copy") != _slug("/data/micro-copy")
    assert _slug("Gribskov") != _slug("gribskov") and _slug("270") == "270"


def test_records_of_removed_reports_are_dropped_and_prune_removes_their_files(toy_project, capsys):
    from kommunelab.cli import main

    assert run()[0] == 0
    assert run(["hello"], {"n": "5"})[0] == 0  # a one-off variant
    manifest = toy_project / "reports.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text[: text.index("[reports.other]")], encoding="utf-8")
    assert run()[0] == 0
    state = json.loads((toy_project / "reports" / "build.json").read_text(encoding="utf-8"))
    assert {r["report"] for r in state["variants"]} == {"hello"}
    assert "Other report" not in (toy_project / "reports" / "index.html").read_text(encoding="utf-8")
    assert main(["prune"]) == 0
    listed = capsys.readouterr().out
    assert "reports/other/default.html" in listed and "reports/hello/n-5.html" in listed
    assert "reports/hello/default.html" not in listed
    assert (toy_project / "reports" / "other" / "default.html").is_file()  # nothing removed without --yes
    assert main(["prune", "--yes"]) == 0
    assert not (toy_project / "reports" / "other").exists() and not (toy_project / "reports" / "hello" / "n-5.html").exists()
    assert (toy_project / "reports" / "hello" / "default.html").is_file()
    state = json.loads((toy_project / "reports" / "build.json").read_text(encoding="utf-8"))
    assert [r["variant"] for r in state["variants"]] == ["default"]


# ---- determinism -------------------------------------------------------------------------------------------------
def test_two_builds_of_the_same_inputs_are_byte_identical(toy_project, monkeypatch):
    text = (toy_project / "reports.toml").read_text(encoding="utf-8").replace('formats = ["html"]\n', "", 1)
    (toy_project / "reports.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    force = BuildOptions(formats=("html", "pdf"), force=True)
    outputs = []
    for _ in range(2):
        assert run(["hello"], options=force)[0] == 0
        folder = toy_project / "reports" / "hello"
        outputs.append({kind: (folder / f"default.{kind}").read_bytes() for kind in ("html", "pdf")})
    assert outputs[0]["html"] == outputs[1]["html"]
    assert outputs[0]["pdf"] == outputs[1]["pdf"]
    executed = (toy_project / "reports" / "hello" / "default.ipynb").read_text(encoding="utf-8")
    assert ".tmp" not in executed and '"output_path": "reports/hello/default.ipynb"' in executed
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert run(["hello"], options=force)[0] == 0
    third = (toy_project / "reports" / "hello" / "default.html").read_bytes()
    marked = re.compile(rb'<time class="kl-build-field"[^>]*>[^<]*</time>')
    assert third != outputs[0]["html"] and marked.sub(b"", third) == marked.sub(b"", outputs[0]["html"])


def test_no_state_survives_from_one_variant_to_the_next(toy_project):
    """Three variants in one worker, each kernel forked from the same template: none sees what an earlier one left
    in its namespace, in an imported module or in the environment; and the kernels really are forked ones."""
    write_notebook(toy_project / "notebooks" / "leak.ipynb", "mark = 1",
                   "import os\nimport kommunelab\n"
                   "assert 'leftover' not in globals(), 'a variable survived'\n"
                   "assert not hasattr(kommunelab, 'left_behind'), 'module state survived'\n"
                   "assert 'KOMMUNELAB_LEFT_BEHIND' not in os.environ, 'the environment survived'\n"
                   "parent = open(f'/proc/{os.getppid()}/cmdline', 'rb').read()\n"
                   "assert b'--template' in parent, parent\n"
                   "leftover = kommunelab.left_behind = os.environ['KOMMUNELAB_LEFT_BEHIND'] = str(mark)")
    (toy_project / "reports.toml").write_text(
        (toy_project / "reports.toml").read_text(encoding="utf-8") + '\n[reports.leak]\ntitle = "Leak"\n'
        'notebook = "notebooks/leak.ipynb"\nformats = ["html"]\ngrid = { mark = [1, 2, 3] }\n'
        '[reports.leak.parameters.mark]\ntype = "int"\ndefault = 1\n', encoding="utf-8")
    outcomes = build(["leak"], None, True, BuildOptions(formats=("html",), jobs=1), out=io.StringIO())
    assert [o.status for o in outcomes] == ["built"] * 3, failure_table(outcomes)


def test_a_kernel_reads_again_a_data_file_changed_after_its_template_read_it(toy_project, tmp_path):
    """A worker's kernel template reads the reference data once, before it forks any kernel (kommunelab.kernel.prepare);
    a file changed after that is read again by the next kernel, which uses and records the file as it is then."""
    import nbformat

    from kommunelab.engine.run import forking
    from kommunelab.engine.run.execute import execute_notebook
    from kommunelab.provenance import sha256_file

    notebook = toy_project / "notebooks" / "check.ipynb"
    write_notebook(notebook, "x = 1", "from kommunelab import data, provenance\n"
                   "pop = data.population(year=2016, level='municipality')\n"
                   "print(int(pop.loc[pop.area_code == 270, 'population'].iloc[0]))\n"
                   "print([f['sha256'] for f in provenance.files_read() if f['path'].endswith('population.csv')])")
    env = {"KOMMUNELAB_ROOT": str(toy_project), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    (tmp_path / "runtime").mkdir()
    forking.start_template(env)
    try:
        forking.template()  # prepared: the snapshot is read
        changed = edit_snapshot(toy_project / "data" / "reference", "dk/population.csv", _gribskov_plus_one)
        executed = tmp_path / "check.ipynb"
        assert execute_notebook(notebook, executed, {}, cwd=notebook.parent, env=env,
                                kernel_manager_class=forking.ForkingKernelManager) is None
    finally:
        template = forking.template()
        template.kill()
        template.wait()
    printed = "".join(o.get("text", "") for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", []))
    assert printed.split() == ["41108", f"['{sha256_file(changed)}']"]


def test_a_forked_kernel_is_ready_when_it_says_so_not_after_a_silence():
    """The client of a forked kernel waits for kernel_info's reply and the idle status after it, not for 0.2 s of
    IOPub silence (jupyter_client's wait, bound under the public name at class creation, so both must be replaced)."""
    from kommunelab.engine.run.forking import ForkedKernelClient, ForkingKernelManager

    client = ForkingKernelManager(kernel_name="kommunelab").client()
    assert type(client) is ForkedKernelClient
    assert type(client).wait_for_ready is ForkedKernelClient._async_wait_for_ready


def test_a_kernel_started_ahead_is_used_only_where_and_as_it_was_started(toy_project, tmp_path):
    """A worker forks the next variant's kernel while it renders the last one (start_spare); the next variant takes
    it only when it was started in the variant's folder with the variant's environment, and otherwise it is shut."""
    from kommunelab.engine.run import forking
    from kommunelab.lifetime import alive

    (tmp_path / "runtime").mkdir()
    env = {**os.environ, "KOMMUNELAB_ROOT": str(toy_project), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    folder = str(toy_project / "notebooks")
    forking.start_template(env)
    try:
        forking.start_spare("kommunelab", folder, env)
        pid = forking.take_spare(folder, env).provisioner.process.pid
        assert alive(pid)
        forking.start_spare("kommunelab", folder, env)  # the one taken belongs to its taker; this is a new one
        spare = forking._spare[1].provisioner.process.pid
        assert spare != pid and forking._spare[1].connection_file.startswith(str(tmp_path / "runtime"))
        other = forking.take_spare(folder, {**env, "KOMMUNELAB_MAX_OUTPUT_BYTES": "1"})
        assert other is None and not alive(spare) and forking.take_spare(folder, env) is None
        forking.start_spare("kommunelab", folder, env)
        assert forking.take_spare(str(tmp_path), env) is None
    finally:
        template = forking.template()
        template.kill()
        template.wait()


def test_a_variant_leaves_its_worker_no_thread_or_socket(toy_project, tmp_path):
    """A worker builds dozens of variants: each must leave it as it found it. A kernel started ahead and handed to
    the client (take_spare) left its client's heartbeat thread and ZeroMQ context running, three threads and a dozen
    file descriptors per variant, and the worker's 49th variant took a second longer than its first."""
    from kommunelab.engine.run import forking
    from kommunelab.engine.run.execute import KERNEL_NAME, execute_notebook

    def held() -> tuple[int, int]:
        return len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))

    notebook = toy_project / "notebooks" / "check.ipynb"
    write_notebook(notebook, "x = 1", "print(x + 1)")
    (tmp_path / "runtime").mkdir()
    env = {"KOMMUNELAB_ROOT": str(toy_project), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    kernel_env = {**os.environ, **env}
    forking.start_template(env)
    after = []
    try:
        for n in range(4):
            forking.start_spare(KERNEL_NAME, str(notebook.parent), kernel_env)
            spare = forking.take_spare(str(notebook.parent), kernel_env)
            assert spare is not None
            assert execute_notebook(notebook, tmp_path / f"{n}.ipynb", {}, cwd=notebook.parent, env=env,
                                    kernel_manager_class=forking.ForkingKernelManager, km=spare) is None
            assert not spare.has_kernel  # shut down, not left to the worker's exit
            after.append(held())
    finally:
        template = forking.template()
        template.kill()
        template.wait()
    assert after[1:] == after[:1] * 3, after  # the first variant may start what a worker keeps (its event loop)


def test_every_kernel_of_a_build_keeps_its_history_in_memory_not_in_the_users_home(toy_project, tmp_path):
    """A forked kernel is started with the options a fresh one gets (here nbclient's: IPython's history in memory),
    whether the client starts it or it was started ahead. Forked kernels dropped them and wrote every cell of every
    variant into ~/.ipython/profile_default/history.sqlite (145 MB after a day of builds here)."""
    import nbformat

    from kommunelab.engine.run import forking
    from kommunelab.engine.run.execute import KERNEL_NAME, execute_notebook

    notebook = toy_project / "notebooks" / "check.ipynb"
    write_notebook(notebook, "x = 1", "print(get_ipython().history_manager.hist_file)")
    (tmp_path / "runtime").mkdir()
    env = {"KOMMUNELAB_ROOT": str(toy_project), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "IPYTHONDIR": str(tmp_path / "ipython")}
    kernel_env = {**os.environ, **env}
    forking.start_template(env)
    printed = []
    try:
        for how in ("fresh", "forked", "started ahead"):
            spare = None
            if how == "started ahead":
                forking.start_spare(KERNEL_NAME, str(notebook.parent), kernel_env)
                spare = forking.take_spare(str(notebook.parent), kernel_env)
                assert spare is not None
            manager = forking.BuildKernelManager if how == "fresh" else forking.ForkingKernelManager
            executed = tmp_path / f"{how}.ipynb"
            assert execute_notebook(notebook, executed, {}, cwd=notebook.parent, env=env, kernel_manager_class=manager,
                                    km=spare) is None
            printed.append((how, nbformat.read(executed, as_version=4).cells[-1].outputs[0]["text"].strip()))
    finally:
        template = forking.template()
        template.kill()
        template.wait()
    assert printed == [("fresh", ":memory:"), ("forked", ":memory:"), ("started ahead", ":memory:")]
    assert not list((tmp_path / "ipython").rglob("history.sqlite"))


def _task(notebook, tmp_path, **changes):
    from kommunelab.records import Task

    task = Task(report="check", variant="default", title="Check", notebook=str(notebook), params={},
                formats=("html", "pdf"), show_code=False, chromium=None,
                workdir=str(tmp_path / "build" / "check" / "default"),
                env={"KOMMUNELAB_ROOT": str(notebook.parents[1]), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
                timeout=120, max_output_mb=10, kernel_memory_mb=4096,
                record_paths=("notebooks/check.ipynb", "reports/check/default.ipynb"),
                build_time="2026-11-30T06:00:00+00:00", fork_kernels=False)
    return task.but(**changes)


def test_a_worker_warms_the_render_stage_before_it_executes_a_variant(toy_project, tmp_path):
    """The render stage's warm-up (its browser) comes before the variant's execution, so that on a worker's first
    variant the browser starts while the kernel does; the render step itself comes after, with the executed notebook."""
    from kommunelab.engine.run.worker import run_task
    from kommunelab.records import BuildStatus

    notebook = toy_project / "notebooks" / "check.ipynb"
    write_notebook(notebook, "x = 1", "print(x + 1)")
    task = _task(notebook, tmp_path)
    executed = tmp_path / "build" / "check" / "default" / "default.ipynb"
    calls = []

    class Recorder:
        def warm(self, task):
            calls.append(("warm", executed.exists()))

        def __call__(self, task, executed_path, seconds_left):
            calls.append(("render", executed_path.exists()))
            return {}, None

    result = run_task(task, Recorder())
    assert result.status is BuildStatus.BUILT, result.failure
    assert calls == [("warm", False), ("render", True)]


@pytest.mark.slow
def test_warming_starts_the_browser_the_print_then_uses_and_a_broken_one_fails_the_print_alone(toy_project, tmp_path):
    """warm starts this process's Chromium for a task that asks for a PDF (and none for one that does not); the
    print uses that browser, not a second one. A browser that cannot start makes warm do nothing: the print tries
    again and fails as the print's failure, naming Chromium."""
    from kommunelab.chromium import ensure_chromium
    from kommunelab.engine import render
    from kommunelab.errors import KommunelabError

    notebook = toy_project / "notebooks" / "check.ipynb"
    chromium = ensure_chromium(install=False)
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>t</title></head><body><h1>Gribskov</h1></body></html>", encoding="utf-8")
    render.close_printer()
    try:
        render.warm(_task(notebook, tmp_path, formats=("html",), chromium=chromium))
        assert render._printer is None
        render.warm(_task(notebook, tmp_path, chromium=chromium))
        started = render._printer
        assert started is not None and started.alive()
        render.html_to_pdf(page, tmp_path / "page.pdf", chromium, scratch=tmp_path / "build")
        assert render._printer is started and (tmp_path / "page.pdf").read_bytes().startswith(b"%PDF")
        render.close_printer()

        broken = tmp_path / "not-chromium"
        broken.write_text("#!/bin/sh\nexit 3\n")
        broken.chmod(0o755)
        render.warm(_task(notebook, tmp_path, chromium=str(broken)))  # does not raise
        assert render._printer is None
        with pytest.raises(KommunelabError, match="Chromium failed to print"):
            render.html_to_pdf(page, tmp_path / "page.pdf", str(broken), scratch=tmp_path / "build")
    finally:
        render.close_printer()


HEAVY = ("pandas", "numpy", "matplotlib", "papermill", "nbconvert", "nbclient", "playwright")


def _heavy_modules_after(code: str) -> list[str]:
    import subprocess
    import sys

    probe = f"import sys\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_a_no_op_build_imports_no_notebook_stack(toy_project):
    assert run()[0] == 0
    assert _heavy_modules_after("from kommunelab.cli import main\nassert main(['build']) == 0") == []


def test_the_engines_processes_do_not_build_jsonschemas_iri_parsers():
    """jsonschema imports rfc3987_syntax where it is installed, which builds its parsers as it is imported (1 s or more
    of CPU in every worker and build): the engine's processes skip it, and still validate notebooks."""
    import importlib.util
    import subprocess
    import sys

    probe = ("import sys\n{}\nimport nbformat\n"
             "nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')]))\n"
             "print(repr(sys.modules.get('rfc3987_syntax', 'absent')))")

    def imported(first: str) -> str:
        result = subprocess.run([sys.executable, "-c", probe.format(first)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert imported("import kommunelab.engine.render") == "None"
    if importlib.util.find_spec("rfc3987_syntax") is not None:  # as in the project's environment (JupyterLab's)
        assert imported("") != "None"  # nbformat alone imports it: the check above is not vacuous


def test_listing_the_98_profiles_needs_no_pandas(reference):
    code = ("from kommunelab.engine.build import select_variants\n"
            "assert len(select_variants(['municipality_profile'], None, True)) == 98")
    assert _heavy_modules_after(code) == []


@pytest.mark.slow
def test_html_needs_no_chromium_and_pdf_says_how_to_get_one(toy_project):
    """Chromium is needed only to print: on a machine without it (nothing on PATH, no $CHROMIUM) --formats html
    builds, and a PDF build stops before anything runs, saying how to install one."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CHROMIUM"}
    env.update(PATH="/nonexistent", KOMMUNELAB_ROOT=str(toy_project))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "kommunelab", "build", *args], env=env, capture_output=True,
                              text=True, timeout=300)

    text = (toy_project / "reports.toml").read_text(encoding="utf-8").replace('formats = ["html"]\n', "", 1)
    (toy_project / "reports.toml").write_text(text, encoding="utf-8")  # hello: HTML and PDF
    html = cli("--formats", "html", "--jobs", "1")
    assert html.returncode == 0, html.stderr
    assert (toy_project / "reports" / "hello" / "default.html").is_file()
    pdf = cli("hello", "--formats", "pdf", "--force")
    assert pdf.returncode == 2 and "no Chromium found for printing PDFs. Install one" in pdf.stderr, pdf.stderr



def test_a_build_kernel_client_starts_no_heartbeat(toy_project, tmp_path, monkeypatch):
    """The heartbeat channel's thread could block for ever sending a ping to a kernel just shut down, and stopping it
    (joining that thread) hung a worker: a build of the 98 profiles waited on one variant until it was killed. A
    build's clients, fresh or forked, start no heartbeat; whether the kernel is alive is asked of its manager."""
    from jupyter_client.channels import HBChannel

    from kommunelab.engine.run import forking
    from kommunelab.engine.run.execute import execute_notebook

    started = []
    monkeypatch.setattr(HBChannel, "start", lambda self: started.append(self))
    notebook = toy_project / "notebooks" / "check.ipynb"
    write_notebook(notebook, "x = 1", "print(x + 1)")
    (tmp_path / "runtime").mkdir()
    env = {"KOMMUNELAB_ROOT": str(toy_project), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    forking.start_template(env)
    try:
        for manager in (forking.BuildKernelManager, forking.ForkingKernelManager):
            assert execute_notebook(notebook, tmp_path / f"{manager.__name__}.ipynb", {}, cwd=notebook.parent, env=env,
                                    kernel_manager_class=manager) is None
    finally:
        template = forking.template()
        template.kill()
        template.wait()
    assert started == []


class StuckRender:
    """A render stage whose warm-up never returns: a worker stuck in its own process (a module-level class, so that a
    worker process can unpickle it)."""

    def warm(self, task):
        import time

        time.sleep(3600)

    def __call__(self, task, executed, seconds_left):
        return {}, None


@pytest.mark.slow
def test_a_worker_stuck_past_its_variants_limit_ends_and_the_build_does_not_wait_for_it(toy_project, tmp_path):
    """The watchdog kills a variant's kernel and Chromium at its time limit; a worker still stuck in the variant after
    that (in its own process, which no kill of its children frees) ends itself, and the build reports the variant as
    failed by a worker that died, instead of waiting for ever."""
    import signal

    from kommunelab.engine.run import run
    from kommunelab.records import BuildStatus, Stage

    def hung(signum, frame):
        raise TimeoutError("the build still waits on a stuck worker")

    notebook = toy_project / "notebooks" / "check.ipynb"
    write_notebook(notebook, "x = 1", "print(x + 1)")
    task = _task(notebook, tmp_path, timeout=2.0)
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(90)
    try:
        [(_, result)] = list(run([task], StuckRender(), jobs=1, fork_kernels=False))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.status is BuildStatus.FAILED and result.failure.stage is Stage.WORKER, result.failure
