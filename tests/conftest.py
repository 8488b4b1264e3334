"""Shared fixtures. The reference data come from the offline mirror ($KOMMUNELAB_DATA_MIRROR, which .ci/run and
the Makefile point at ../shared/data); tests never touch the internet."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]

# The mirror beside the clone (../shared/data) unless KOMMUNELAB_DATA_MIRROR says otherwise; set it empty to run the
# tests as on a machine without one: the tests that need reference data are then skipped, saying so.
if "KOMMUNELAB_DATA_MIRROR" not in os.environ and (REPO.parent / "shared" / "data").is_dir():
    os.environ["KOMMUNELAB_DATA_MIRROR"] = str((REPO.parent / "shared" / "data").resolve())
NO_MIRROR = ("needs the offline data mirror (reference statistics): none here. Put the project beside ../shared/data "
             "or set KOMMUNELAB_DATA_MIRROR to a mirror folder")


@pytest.fixture(scope="session")
def mirror() -> Path:
    value = os.environ.get("KOMMUNELAB_DATA_MIRROR", "")
    if not value or not Path(value).is_dir():
        pytest.skip(NO_MIRROR)
    return Path(value)


@pytest.fixture
def project(tmp_path, monkeypatch, mirror) -> Path:
    """A scratch copy of the project (manifest, notebooks, published and synthetic data, lock) as KOMMUNELAB_ROOT.

    The library itself is the installed one; builds write into the scratch reports/ folder.
    """
    yield from _as_project_root(copy_project(tmp_path / "project"), monkeypatch)


def copy_project(root: Path) -> Path:
    """The project's manifest, notebooks, published and synthetic data and lock, copied to ``root``."""
    root.mkdir(parents=True)
    for name in ("reports.toml", "requirements.lock"):
        shutil.copy(REPO / name, root / name)
    for folder in ("notebooks", "data/published", "data/synthetic"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def _as_project_root(root: Path, monkeypatch):
    """Make ``root`` the project for the test, with the library's caches emptied before and after."""
    monkeypatch.setenv("KOMMUNELAB_ROOT", str(root))
    _clear_caches()
    yield root
    _clear_caches()


def _clear_caches() -> None:
    from kommunelab import findings, labels, manifest, survey
    from kommunelab.data import municipality_choices

    survey.stand_in_checksums.cache_clear()
    survey._LAST.clear()
    manifest.choices_table.cache_clear()
    labels.labels_table.cache_clear()
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
def toy_project(tmp_path, monkeypatch, mirror) -> Path:
    """A minimal project with two quick reports: `hello` (reads public data, from its own data/raw/ copy: no mirror is
    set, so a test can change that copy) and `other`."""
    root = tmp_path / "toy"
    (root / "notebooks").mkdir(parents=True)
    (root / "data" / "raw" / "dk").mkdir(parents=True)
    shutil.copy(mirror / "dk" / "population.csv", root / "data" / "raw" / "dk" / "population.csv")
    (root / "requirements.lock").write_text("pandas==0\n")
    write_notebook(root / "notebooks" / "hello.ipynb", "n = 3  # how many\nword = 'hej'  # a word",
                   "from kommunelab import data\nfrom kommunelab.report import provenance\n"
                   "pop = data.population(year=2016, level='country')\n"
                   "print('Danmark, Ærø og Åbenrå:', int(pop['population'].iloc[0]) * n, word)",
                   "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [n, 2, 1])\nplt.title('Æblegrød')\nplt.show()",
                   "provenance({'n': n, 'word': word})", title="Hello kommunelab: Æbler, Øer og Århus")
    monkeypatch.setenv("KOMMUNELAB_DATA_MIRROR", "")
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
    yield from _as_project_root(root, monkeypatch)
