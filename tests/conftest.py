"""Shared fixtures. The reference data are the project's own pinned snapshot (data/reference/): every test runs on a
clone alone, and none touches the internet or anything beside the clone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]

# The tests read the snapshot the project ships; a mirror folder set in the caller's environment would change that.
os.environ.pop("KOMMUNELAB_DATA_MIRROR", None)


@pytest.fixture(scope="session")
def reference() -> Path:
    """The project's pinned snapshot of the reference data (read it; copy it before changing anything)."""
    return REPO / "data" / "reference"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A scratch copy of the project (manifest, notebooks, published and synthetic data, lock) as KOMMUNELAB_ROOT.

    The library itself is the installed one; builds write into the scratch reports/ folder.
    """
    yield from _as_project_root(copy_project(tmp_path / "project"), monkeypatch)


def copy_project(root: Path) -> Path:
    """The project's manifest, notebooks, data (reference snapshot, published, synthetic) and lock, copied to ``root``
    (writable, whatever the modes of the files copied)."""
    root.mkdir(parents=True)
    for name in ("reports.toml", "requirements.lock"):
        shutil.copy(REPO / name, root / name)
    for folder in ("notebooks", "data/published", "data/synthetic", "data/reference"):
        shutil.copytree(REPO / folder, root / folder)
    for path in (root / "data").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def _as_project_root(root: Path, monkeypatch):
    """Make ``root`` the project for the test, with the library's caches emptied before and after."""
    monkeypatch.setenv("KOMMUNELAB_ROOT", str(root))
    _clear_caches()
    yield root
    _clear_caches()


def _clear_caches() -> None:
    from kommunelab import findings, manifest, session, survey
    from kommunelab.data import municipality_choices

    survey.stand_in_checksums.cache_clear()
    session.reset()
    from kommunelab.delivery import stand_in

    stand_in._stand_in_rows.cache_clear()
    survey._checked.cache_clear()
    manifest.choices_table.cache_clear()
    manifest.labels_table.cache_clear()
    municipality_choices.cache_clear()
    findings.published_findings.cache_clear()


def write_notebook(path: Path, parameters: str, *cells: str, title: str = "Test report") -> None:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(parameters)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), p] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "kommunelab", "display_name": "Python (kommunelab)", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def toy_project(tmp_path, monkeypatch, reference) -> Path:
    """A minimal project with two quick reports: `hello` (reads public data, from its own copy of the snapshot, which
    a test may change with :func:`edit_snapshot`) and `other`."""
    yield from _as_project_root(make_toy(tmp_path / "toy", reference), monkeypatch)


@pytest.fixture(scope="module")
def _built_toy(tmp_path_factory, reference) -> Path:
    """The toy project built once (HTML) for the tests of a module that start from a built project."""
    import io

    from kommunelab.engine.build import BuildOptions, build, exit_code

    root = make_toy(tmp_path_factory.mktemp("built") / "toy", reference)
    patch = pytest.MonkeyPatch()
    patch.setenv("KOMMUNELAB_ROOT", str(root))
    _clear_caches()
    try:
        assert exit_code(build(None, None, False, BuildOptions(formats=("html",)), out=io.StringIO())) == 0
    finally:
        patch.undo()
        _clear_caches()
    return root


@pytest.fixture
def built_toy(_built_toy, tmp_path, monkeypatch) -> Path:
    """A copy of the toy project as built (a copy elsewhere is current: build.json holds no absolute path)."""
    root = tmp_path / "toy"
    shutil.copytree(_built_toy, root, symlinks=True)
    yield from _as_project_root(root, monkeypatch)


def make_toy(root: Path, reference: Path) -> Path:
    (root / "notebooks").mkdir(parents=True)
    shutil.copytree(reference, root / "data" / "reference")
    for path in (root / "data").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (root / "requirements.lock").write_text("pandas==0\n")
    write_notebook(root / "notebooks" / "hello.ipynb", "n = 3  # how many\nword = 'hej'  # a word",
                   "from kommunelab import data\nfrom kommunelab.report import provenance\n"
                   "pop = data.population(year=2016, level='country')\n"
                   "print('Danmark, Ærø og Åbenrå:', int(pop['population'].iloc[0]) * n, word)",
                   "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [n, 2, 1])\nplt.title('Æblegrød')\nplt.show()",
                   "provenance({'n': n, 'word': word})", title="Hello kommunelab: Æbler, Øer og Århus")
    write_notebook(root / "notebooks" / "other.ipynb", "fail = False  # raise on purpose",
                   "x = 40 + 2", "if fail:\n    raise RuntimeError('asked to fail')", "print(x)",
                   title="Other report")
    (root / "reports.toml").write_text('''
[reports.hello]
title = "Hello kommunelab"
notebook = "notebooks/hello.ipynb"
formats = ["html"]
[reports.hello.parameters.n]
type = "int"
default = 3
min = 1
max = 10
[reports.hello.parameters.word]
type = "str"
default = "hej"
choices = ["hej", "hallo"]

[reports.other]
title = "Other report"
notebook = "notebooks/other.ipynb"
formats = ["html"]
[reports.other.parameters.fail]
type = "bool"
default = false
''', encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def native_built(tmp_path_factory):
    """Every report with its defaults in its own language (Danish, and Norwegian bokmål for KS), HTML and PDF, built
    once into a scratch project: (root, report id -> Outcome). A test may add variants; none may change these."""
    import io

    from kommunelab.engine.build import BuildOptions, build, exit_code, failure_table

    root = copy_project(tmp_path_factory.mktemp("native") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOMMUNELAB_ROOT", str(root))
    out = io.StringIO()
    outcomes = build(None, None, False, BuildOptions(jobs=2), out=out)
    mp.undo()
    assert exit_code(outcomes) == 0, out.getvalue() + failure_table(outcomes)
    return root, {o.report: o for o in outcomes}


def edit_snapshot(folder: Path, relpath: str, edit) -> Path:
    """Change ``relpath`` in a copy of the snapshot (``edit(path)``) and list its new checksum, as a reviewed
    update would: the file is then what the loaders read."""
    from kommunelab.provenance import sha256_file

    target = folder / relpath
    edit(target)
    sums = folder / "SHA256SUMS"
    lines = [f"{sha256_file(target)}  {relpath}" if line.endswith(f"  {relpath}") else line
             for line in sums.read_text(encoding="utf-8").splitlines()]
    sums.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def a_finding(**changes):
    """A valid kommunelab.records.Finding (a recomputation inside its target), with ``changes`` applied."""
    from kommunelab.records import Finding

    base = dict(id="x", facts_id="F1", statement="a statement", published=50.0, published_text="50%", unit="pct",
                target=(49.5, 50.5), target_rule="rounded", target_text="49.5% to 50.5%", value=50.1, ci=None,
                bounds=None, n=None, value_text="50.1%", in_target=True, ci_overlaps_target=None,
                status="reproduced", check="recomputation", truth=None, truth_text=None, recovered=None, passed=None,
                evidence="public-data", source="https://example.org", note="", scope="all")
    return Finding(**{**base, **changes})
