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


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())  # PEP 503


def _pins(lock: str) -> dict[str, str]:
    """name -> version of every requirement in a lock file, checking that each carries at least one hash."""
    text = (REPO / lock).read_text(encoding="utf-8")
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if m:
            assert "--hash=sha256:" in block, f"{lock}: {m.group(1)} has no hash"
            pins[_normal(m.group(1))] = m.group(2)
    return pins


def test_the_locks_pin_every_dependency_with_hashes_and_agree():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {_normal(_name(d)) for d in project["dependencies"]} <= set(runtime)
    assert {_normal(_name(d)) for deps in project["optional-dependencies"].values() for d in deps} <= set(dev)
    assert {name: dev.get(name) for name in runtime} == runtime  # one resolution: the runtime lock is part of dev's
    assert {"zipp", "lazy-importer", "setuptools"} <= set(dev)  # once missing, so a setup took whatever was newest


def test_every_installed_distribution_is_pinned_at_its_version():
    from importlib.metadata import distributions

    pinned = _pins("requirements-dev.lock")
    installed = {_normal(d.metadata["Name"]): d.version for d in distributions()}
    loose = {name: version for name, version in installed.items()
             if name not in ("kommunelab", "pip") and pinned.get(name) != version}
    assert loose == {}, "installed but not pinned at that version in requirements-dev.lock (run make lock)"


def test_environment_yml_installs_the_same_lock():
    import yaml

    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert [d for d in env["dependencies"] if not isinstance(d, dict)] == ["python=3.11.7", "pip"]
    assert pip == ["--require-hashes", "-r requirements-dev.lock"]


def test_notebooks_are_stored_without_outputs_and_have_a_parameters_cell():
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"


def test_the_parameters_cell_has_the_manifests_names_and_types_and_valid_values():
    """The manifest is the only source of defaults: the cell must declare the manifest's parameters with their
    types, and its values must be valid ones; they may differ from the defaults (an analyst's local edit), which
    the build ignores and reports (tests/test_build.py)."""
    from kommunelab.manifest import parameters_cell

    for report in load_manifest().values():
        declared = parameters_cell(report.notebook)
        assert declared is not None, f"{report.id}: write parameters as `name: type = default  # help`"
        assert {n: t for n, (t, _) in declared.items()} == {n: p.type for n, p in report.parameters.items()}
        validate_parameters(report, {n: v for n, (_, v) in declared.items()})
        nb = json.loads(report.notebook.read_text(encoding="utf-8"))
        code = "".join("".join(c["source"]) for c in nb["cells"])
        assert f'parameters("{report.id}", globals())' in code, f"{report.id}: the setup cell validates its parameters"


LIB = REPO / "lib" / "kommunelab"
# The engine's stages in order: a module may import its own stage and earlier ones, never a later one.
STAGES = ("plan", "run", "render", "publish")
ENGINE = {"kommunelab.engine", "kommunelab.cli", "kommunelab.scaffold"}


def _imports(path: Path) -> set[str]:
    """Every kommunelab module ``path`` imports, at its top or inside a function, as dotted names."""
    import ast

    package = ".".join(("kommunelab", *path.relative_to(LIB).parent.parts))  # what `from .` names
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p) if node.level else node.module or ""
            found |= {module} | {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("kommunelab")}


def test_no_engine_stage_imports_a_later_one():
    assert not (LIB / "build").exists(), "the engine lives in kommunelab/engine"
    assert sorted(p.name for p in (LIB / "engine").iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(STAGES)
    checked = 0
    for i, stage in enumerate(STAGES):
        for path in (LIB / "engine" / stage).rglob("*.py"):
            checked += 1
            for module in _imports(path):
                parts = module.split(".")
                if parts[:2] == ["kommunelab", "engine"]:
                    assert len(parts) > 2 and parts[2] in STAGES, f"{path.name} imports the engine itself ({module})"
                    assert STAGES.index(parts[2]) <= i, f"engine/{stage}/{path.name} imports {module}, a later stage"
    assert checked >= 12


def test_no_status_is_written_outside_the_records_module():
    """The statuses are kommunelab.records' enums: a status string written elsewhere in the library (not counting
    docstrings) or in a template would be a second, unchecked copy of it."""
    import ast

    from kommunelab.records import BuildStatus, FindingStatus, Verdict

    values = {str(s) for s in (*BuildStatus, *FindingStatus, *Verdict)}
    found = []
    for path in sorted(LIB.rglob("*.py")):
        if path.name == "records.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)}
        found += [f"{path.relative_to(LIB)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in values and id(node) not in docstrings]
    for path in sorted((LIB / "templates").rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(LIB)} {q}{v}{q}" for v in values for q in "'\"" if f"{q}{v}{q}" in text]
            found += [f"{path.relative_to(LIB)} .s-{v}" for v in values if f"s-{v} " in text or f"s-{v}," in text]
    assert found == []


def test_every_table_is_declared_in_the_registry():
    """Table schemas live in kommunelab.data.tables (fields written once, tables by name): no other module makes a
    Schema or a Column."""
    import ast

    makers = []
    for path in sorted(LIB.rglob("*.py")):
        if path.relative_to(LIB).as_posix() in ("data/tables.py", "data/schema.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "Schema", "Column"):
                makers.append(f"{path.relative_to(LIB)}:{node.lineno}")
    assert makers == []


def test_no_module_keeps_state_for_another():
    """State a notebook run builds up (parameters, figure numbers, files read) lives in kommunelab.session; other
    module-level state is a process's own resource (the printer, the kernel template), used only where it is kept.
    No module-level empty dict, list or set waits to be filled from elsewhere."""
    import ast

    owners, sources = {}, {}
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB).as_posix()
        sources[rel] = path.read_text(encoding="utf-8")
        tree = ast.parse(sources[rel])
        for node in tree.body:
            value = getattr(node, "value", None)
            empty = (isinstance(value, ast.Dict | ast.List | ast.Set) and not (getattr(value, "keys", None)
                     or getattr(value, "elts", None))) or (isinstance(value, ast.Call)
                                                          and getattr(value.func, "id", "") in ("dict", "list", "set"))
            assert not (isinstance(node, ast.Assign | ast.AnnAssign) and empty), f"{rel}:{node.lineno}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                owners.update({name: rel for name in node.names})
    assert set(owners.values()) <= {"session.py", "engine/render/__init__.py", "engine/run/forking.py",
                                    "engine/run/remote.py", "engine/run/worker.py"}
    for name, owner in owners.items():
        elsewhere = [rel for rel, text in sources.items() if rel != owner and f".{name}" in text]
        assert elsewhere == [], f"{owner}'s {name} is reached from {elsewhere}"


def test_the_library_has_no_import_cycles():
    """Not even behind imports inside functions (the three that were: manifest and labels, data and choices,
    findings and synthetic). A module importing its own package's __init__ is not counted."""
    def module_name(path: Path) -> str:
        return ".".join(("kommunelab", *path.relative_to(LIB).with_suffix("").parts)).removesuffix(".__init__")

    files = {module_name(p): p for p in LIB.rglob("*.py")}
    graph = {name: {m for m in _imports(path) if m in files and m != name and not name.startswith(m + ".")}
             for name, path in files.items()}
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            assert state.get(dep) != 1, "import cycle: " + " -> ".join(path[path.index(dep):] + [dep])
            if dep not in state:
                visit(dep, path + [dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_readme_status_table_is_the_records_modules():
    from kommunelab.records import status_table

    assert status_table() in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_notebook_side_never_imports_the_engine():
    import nbformat

    def module_file(name: str) -> Path | None:
        parts = name.split(".")[1:]
        if not parts:
            return LIB / "__init__.py"
        rel = Path(*parts)
        for candidate in (LIB / rel.with_suffix(".py"), LIB / rel / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    todo = set()
    for path in (REPO / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                todo |= {m.removeprefix("from ").split(" import ")[0].strip() for m in cell.source.splitlines()
                         if m.startswith(("from kommunelab", "import kommunelab"))}
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert not any(name == e or name.startswith(e + ".") for e in ENGINE), f"the notebooks reach {name}"
        path = module_file(name)
        if path is not None:
            todo |= _imports(path) - seen


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


@pytest.mark.slow
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
    from kommunelab.engine.run.execute import install_kernel

    folder = install_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "kommunelab"
    assert spec["argv"][:3] == [sys.executable, "-m", "kommunelab.kernel"]


WORKFLOW = REPO / ".github" / "workflows" / "reports.yml"


def test_the_workflow_runs_the_readme_command_nightly_and_publishes_despite_a_failed_variant():
    import yaml

    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"] and "workflow_dispatch" in triggers
    build, publish = flow["jobs"]["build"], flow["jobs"]["publish"]
    steps = build["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "make reports" in runs and any("apt-get install" in r and "chromium" in r for r in runs)
    assert any("safe.directory" in r for r in runs)  # git in the container trusts the checkout: the revision is known
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "DATA_MIRROR" not in text and "github.workspace" not in text  # no configuration, no host paths
    after = steps[runs.index("make reports") + 1:]
    # Every step after the build runs when the build failed (one failed variant): status, cache, artifact, site.
    assert after and all("!cancelled()" in str(s.get("if", "")) for s in after)
    uses = {str(s.get("uses", "")).split("@")[0]: s for s in steps}
    assert uses["actions/upload-artifact"]["with"]["path"].rstrip("/") == "reports"
    assert "actions/cache/save" in uses and "actions/upload-pages-artifact" in uses
    assert "!cancelled()" in publish["if"] and publish["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert flow["permissions"] == {} and build["permissions"] == {"contents": "read"}
    assert uses["actions/checkout"]["with"]["persist-credentials"] is False
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    cron = re.search(r"```cron\n(.*?)\n```", readme, re.S).group(1)
    assert "make reports" in cron and ".github/workflows/reports.yml" in readme


def _tool(name: str) -> str:
    import sys

    return str(Path(sys.executable).with_name(name))


@pytest.mark.slow
def test_the_workflow_passes_the_github_schema_and_zizmor_offline():
    import subprocess

    schema = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                            capture_output=True, text=True, timeout=120)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = subprocess.run([_tool("zizmor"), "--offline", "--no-progress", str(WORKFLOW)], capture_output=True,
                           text=True, timeout=120)
    assert audit.returncode == 0 and "No findings" in audit.stdout, audit.stdout + audit.stderr
