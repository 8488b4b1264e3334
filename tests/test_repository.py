"""The repository's own promises: dependency lists agree, notebooks are stored clean, the manifest is sound."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from kommunelab.errors import ManifestError
from kommunelab.manifest import load_manifest, validate_parameters, variants

REPO = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {_name(d) for d in project["dependencies"]}
    declared |= {_name(d) for deps in project["optional-dependencies"].values() for d in deps}
    conda = set()
    text = (REPO / "environment.yml").read_text()
    for line in text[text.index("\ndependencies:"):].splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.-]+)\s*$", line)
        if m:
            conda.add(_name(m.group(1)))
    assert conda - {"python", "pip"} == declared


def test_every_dependency_is_pinned_in_the_lock():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {_name(line) for line in (REPO / "requirements.lock").read_text().splitlines()
              if line and not line.startswith("#")}
    wanted = {_name(d) for d in project["dependencies"]} | {_name(d) for d in project["optional-dependencies"]["dev"]}
    assert wanted <= {p.replace("_", "-") for p in pinned} | pinned


def test_notebooks_are_stored_without_outputs_and_have_a_parameters_cell():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"


def test_the_parameters_cell_has_the_manifests_names_types_and_defaults():
    import ast

    for report in load_manifest().values():
        nb = json.loads(report.notebook.read_text(encoding="utf-8"))
        source = "".join(next(c["source"] for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])))
        declared = {}
        for node in ast.parse(source).body:
            assert isinstance(node, ast.AnnAssign), f"{report.id}: write parameters as `name: type = default  # help`"
            declared[node.target.id] = (node.annotation.id, ast.literal_eval(node.value))
        expected = {name: (p.type, p.default) for name, p in report.parameters.items()}
        assert declared == expected, f"{report.id}: notebook {declared} vs manifest {expected}"
        code = "".join("".join(c["source"]) for c in nb["cells"])
        assert f'parameters("{report.id}", globals())' in code, f"{report.id}: the setup cell validates its parameters"


def test_no_library_module_is_over_300_lines():
    for path in (REPO / "lib" / "kommunelab").rglob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 300, f"{path.relative_to(REPO)} has {lines} lines; split it by job"


def test_municipality_grid_expands_to_98_and_refuses_unknown_names(project):
    report = load_manifest()["municipality_profile"]
    assert len(variants(report, all_variants=True)) == 98
    assert validate_parameters(report, {"municipality": "Gribskov"})["municipality"] == "270"
    assert validate_parameters(report, {"municipality": 101})["municipality"] == "101"
    from kommunelab.errors import ParameterError

    with pytest.raises(ParameterError, match="'Gribskow' is not known.*closest: Gribskov"):
        validate_parameters(report, {"municipality": "Gribskow"})
    with pytest.raises(ParameterError, match="'year': 2030 is above the maximum"):
        validate_parameters(report, {"year": "2030"})


def test_manifest_errors_name_the_problem(tmp_path):
    path = tmp_path / "reports.toml"
    path.write_text('[reports.x]\ntitle = "X"\nnotebook = "missing.ipynb"\n')
    with pytest.raises(ManifestError, match=r"\[reports.x\]: notebook missing.ipynb does not exist"):
        load_manifest(path)
    (tmp_path / "x.ipynb").write_text("{}")
    path.write_text('[reports.x]\ntitle = "X"\nnotebook = "x.ipynb"\n[reports.x.parameters.n]\ntype = "number"\ndefault = 1\n')
    with pytest.raises(ManifestError, match="parameters.n: type must be one of str, int, float, bool"):
        load_manifest(path)


def test_notebooks_are_stripped_on_commit_by_a_git_filter(tmp_path):
    """`make setup` installs nbstripout as the notebooks' git filter: a run notebook added with its outputs is
    stored without them."""
    import shutil
    import subprocess
    import sys

    attributes = (REPO / ".gitattributes").read_text(encoding="utf-8")
    assert "*.ipynb filter=nbstripout" in attributes
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(REPO / ".gitattributes", repo / ".gitattributes")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([sys.executable, "-m", "nbstripout", "--install"], cwd=repo, check=True)
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells = [cell]
    nbformat.write(nb, repo / "run.ipynb")
    subprocess.run([*git, "add", "run.ipynb"], check=True)
    stored = json.loads(subprocess.run([*git, "show", ":run.ipynb"], check=True, capture_output=True).stdout)
    assert stored["cells"][0]["outputs"] == [] and stored["cells"][0]["execution_count"] is None


def test_make_lab_allows_root_and_the_kernel_installs_for_any_jupyter(tmp_path):
    import os
    import subprocess
    import sys

    dry = subprocess.run(["make", "-n", "-W", ".venv/.installed", "lab"], cwd=REPO, capture_output=True, text=True)
    line = [x for x in dry.stdout.splitlines() if "jupyter lab" in x]
    assert line and ("--allow-root" in line[0]) == (os.getuid() == 0), dry.stdout
    from kommunelab.execute import install_kernel

    folder = install_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "kommunelab"
    assert spec["argv"][:3] == [sys.executable, "-m", "kommunelab.kernel"]


def test_the_workflow_runs_the_readme_command_nightly_and_on_demand():
    import yaml

    flow = yaml.safe_load((REPO / ".github" / "workflows" / "reports.yml").read_text(encoding="utf-8"))
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"] and "workflow_dispatch" in triggers
    steps = flow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "make reports" in runs and any("apt-get install" in r and "chromium" in r for r in runs)
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["path"].rstrip("/") == "reports" and uploads[0].get("if") == "always()"
    assert flow["jobs"]["publish"]["steps"][0]["uses"].startswith("actions/deploy-pages")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    cron = re.search(r"```cron\n(.*?)\n```", readme, re.S).group(1)
    assert "make reports" in cron and ".github/workflows/reports.yml" in readme
