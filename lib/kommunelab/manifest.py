"""The report manifest (reports.toml): which reports exist, their parameters, and their grids.

A report declares its parameters with a type, a default and what is allowed (``choices``, ``min``/``max`` or
``choices_from``, the import path of a function returning {accepted spelling: canonical value}). A grid names
parameters whose every allowed value gives one output ("variant"). Parameters are validated here, before any
kernel starts.

What a reader sees of a variant (its title and label) is at the end of this module.
"""

from __future__ import annotations

import importlib
import math
import tomllib
from dataclasses import dataclass, field
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

from . import names
from .errors import KommunelabError, ManifestError, ParameterError
from .i18n import LANGUAGE
from .paths import MANIFEST_NAME, project_root

TYPES = {"str": str, "int": int, "float": float, "bool": bool}
FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    help: str = ""
    choices: tuple | None = None
    choices_from: str | None = None
    min: float | None = None
    max: float | None = None
    check: str | None = None  # import path of a validator called with the value; raises KommunelabError to refuse
    labels_from: str | None = None  # import path of a function returning {value: (label, detail)} for readers

    def allowed(self) -> str:
        if self.choices is not None:
            return ", ".join(map(str, self.choices))
        if self.choices_from is not None:
            return f"values listed by `kommunelab params` ({self.choices_from})"
        if self.min is not None or self.max is not None:
            lo = "" if self.min is None else f"{self.min} <= "
            hi = "" if self.max is None else f" <= {self.max}"
            return f"{lo}{self.type}{hi}"
        return f"any {self.type}"


@dataclass(frozen=True)
class Report:
    id: str
    title: str
    notebook: Path
    parameters: dict[str, Parameter]
    grid: dict[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = FORMATS
    description: str = ""
    timeout: float | None = None  # seconds one variant may take, execution and printing (build --timeout overrides)
    variant_title: str = ""  # e.g. "{municipality} — municipality profile {year}": the title of a non-default variant
    source: str = ""  # the publication (or statistics) the report rests on, cited in its "how to cite" line
    source_language: str = "und"  # the language its source is written in (the lang of a quote from it)

    def defaults(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.parameters.items()}

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it can be built in (its ``language`` parameter's choices, the default first); () when it
        has no language parameter."""
        p = self.parameters.get(LANGUAGE)
        if p is None:
            return ()
        return (p.default, *(c for c in p.choices or () if c != p.default))


@dataclass(frozen=True)
class Variant:
    """One output of a report: the report with one complete set of validated parameters."""

    report: Report
    params: dict[str, Any]

    @property
    def id(self) -> str:
        defaults = self.report.defaults()
        # the language always: each language's version of a variant is a file of its own
        keys = [k for k in sorted(self.params)
                if k in self.report.grid or k == LANGUAGE or self.params[k] != defaults[k]]
        if not keys:
            return "default"
        return "_".join(f"{k}-{_slug(self.params[k])}" for k in keys)

    @property
    def label(self) -> str:
        """What tells this variant apart from the report's default, for readers (variant_label below)."""
        return variant_label(self)

    @property
    def detail(self) -> str:
        """More about the label where a parameter has it (a municipality's region)."""
        return variant_detail(self)

    @property
    def title(self) -> str:
        """The report's title, or for a variant that is not the default its own ("Gribskov — municipality profile
        2021"; variant_title below)."""
        return variant_title(self)


SLUG_LENGTH = 32


def _slug(value: Any) -> str:
    """A file-name-safe form of a parameter value, unique per value: where the readable form loses anything (case,
    characters outside [a-z0-9.-], length), a short hash of the value is added."""
    import hashlib

    text = str(value)
    slug = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-.") else "-" for ch in text.lower())
    if slug == text and len(slug) <= SLUG_LENGTH and slug:
        return slug
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{slug[:SLUG_LENGTH].strip('-')}-{digest}" if slug.strip("-") else digest


def load_manifest(path: Path | None = None) -> dict[str, Report]:
    path = path or project_root() / MANIFEST_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: not found; every project needs a {MANIFEST_NAME}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    reports = {}
    for rid, spec in raw.get("reports", {}).items():
        reports[rid] = _parse_report(path, rid, spec)
    if not reports:
        raise ManifestError(f"{path}: declares no [reports.<id>] tables")
    return reports


def site_language(path: Path | None = None) -> str:
    """The language of the site's index.html (reports.toml ``[site] language``; English when it says none)."""
    path = path or project_root() / MANIFEST_NAME
    try:
        code = tomllib.loads(path.read_text(encoding="utf-8")).get("site", {}).get("language", "en")
    except (OSError, tomllib.TOMLDecodeError):
        return "en"
    from .i18n import LANGUAGES

    if code not in LANGUAGES:
        raise ManifestError(f"{path}: [site] language must be one of {', '.join(LANGUAGES)}, got {code!r}")
    return code


def _parse_report(path: Path, rid: str, spec: dict) -> Report:
    where = f"{path}: [reports.{rid}]"
    for key in ("notebook", "title"):
        if key not in spec:
            raise ManifestError(f"{where} lacks '{key}'")
    notebook = (path.parent / spec["notebook"]).resolve()
    if not notebook.is_file():
        raise ManifestError(f"{where}: notebook {spec['notebook']} does not exist")
    params = {}
    for name, p in spec.get("parameters", {}).items():
        ptype = p.get("type")
        if ptype not in TYPES:
            raise ManifestError(f"{where}.parameters.{name}: type must be one of {', '.join(TYPES)}, got {ptype!r}")
        if "default" not in p:
            raise ManifestError(f"{where}.parameters.{name}: no default")
        choices = tuple(p["choices"]) if "choices" in p else None
        params[name] = Parameter(name, ptype, p["default"], p.get("help", ""), choices, p.get("choices_from"),
                                 p.get("min"), p.get("max"), p.get("check"), p.get("labels_from"))
    grid = dict(spec.get("grid", {}))
    for name in grid:
        if name not in params:
            raise ManifestError(f"{where}.grid names {name!r}, which is not one of its parameters")
    formats = tuple(spec.get("formats", FORMATS))
    bad = set(formats) - set(FORMATS)
    if bad:
        raise ManifestError(f"{where}: unknown formats {sorted(bad)}; allowed: {', '.join(FORMATS)}")
    timeout = spec.get("timeout")
    if timeout is not None and not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ManifestError(f"{where}: timeout must be a positive number of seconds, got {timeout!r}")
    report = Report(rid, spec["title"], notebook, params, grid, formats, spec.get("description", ""), timeout,
                    spec.get("variant_title", ""), spec.get("source", ""), spec.get("source_language", "und"))
    if report.variant_title:
        try:
            report.variant_title.format(**{name: "" for name in params})
        except (KeyError, IndexError, ValueError) as exc:
            raise ManifestError(f"{where}: variant_title {report.variant_title!r} names no parameter {exc}; "
                                f"its parameters: {', '.join(params) or 'none'}") from None
    # Defaults must themselves be valid, or every build of this report would fail. A default checked against a
    # table of data (choices_from) is checked when a variant is built: listing reports needs no data.
    for p in params.values():
        if p.choices_from is None:
            _validate_value(report, p, p.default)
    return report


def _function(import_path: str, key: str):
    module, _, func = import_path.partition(":")
    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:
        raise ManifestError(f"{key} = {import_path!r} cannot be loaded: {exc}") from None


@cache
def choices_table(import_path: str) -> dict[str, Any]:
    return dict(_function(import_path, "choices_from")())


def _coerce(report: Report, p: Parameter, value: Any) -> Any:
    want = TYPES[p.type]
    if isinstance(value, str) and want is not str:
        text = value.strip()
        try:
            if want is bool:
                if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return text.lower() in ("true", "1", "yes")
            converted = want(text)
            if want is float and not math.isfinite(converted):
                raise ParameterError(report.id, p.name, f"{value!r} is not a finite number", p.allowed())
            return converted
        except ValueError:
            raise ParameterError(report.id, p.name, f"expects {p.type}, got {value!r}", p.allowed()) from None
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if want is float and isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(report.id, p.name, f"{value!r} is not a finite number", p.allowed())
    if want is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise ParameterError(report.id, p.name, f"expects {p.type}, got {type(value).__name__} {value!r}",
                             p.allowed())
    return value


def _validate_value(report: Report, p: Parameter, value: Any) -> Any:
    value = _coerce(report, p, value)
    if p.choices is not None and value not in p.choices:
        raise ParameterError(report.id, p.name, f"{value!r} is not allowed", p.allowed())
    if p.choices_from is not None:
        table = choices_table(p.choices_from)
        canonical = names.resolve(table, value)
        if canonical is None:
            close = names.closest(table, value)
            hint = f"closest: {', '.join(close)}" if close else f"see `kommunelab params {report.id}`"
            raise ParameterError(report.id, p.name, f"{value!r} is not known; {hint}")
        value = canonical
    if p.min is not None and value < p.min:
        raise ParameterError(report.id, p.name, f"{value!r} is below the minimum", p.allowed())
    if p.max is not None and value > p.max:
        raise ParameterError(report.id, p.name, f"{value!r} is above the maximum", p.allowed())
    if p.check is not None and value != p.default:
        try:
            value = _function(p.check, "check")(value)
        except KommunelabError as exc:
            raise ParameterError(report.id, p.name, str(exc)) from None
        except OSError as exc:  # a path the file system refuses: too long, a loop of links, not allowed ...
            raise ParameterError(report.id, p.name, f"{exc.strerror or exc}: {value!r}") from None
    return value


def validate_parameters(report: Report, overrides: dict[str, Any]) -> dict[str, Any]:
    """The report's defaults with ``overrides`` applied, every value checked and canonicalised."""
    params = report.defaults()
    for name, value in overrides.items():
        if name not in report.parameters:
            known = ", ".join(report.parameters) or "none"
            raise ParameterError(report.id, name, "unknown parameter" + names.did_you_mean(name, report.parameters),
                                 f"this report's parameters: {known}")
        params[name] = _validate_value(report, report.parameters[name], value)
    return params


def grid_values(report: Report, name: str) -> list[Any]:
    """Every value the grid expands ``name`` to: the listed values, or all canonical choices for "all"."""
    spec = report.grid[name]
    p = report.parameters[name]
    if spec == "all":
        if p.choices is not None:
            return list(p.choices)
        if p.choices_from is not None:
            return sorted(set(choices_table(p.choices_from).values()), key=str)
        if p.type == "int" and p.min is not None and p.max is not None:
            return list(range(int(p.min), int(p.max) + 1))
        raise ManifestError(f"report {report.id!r}: grid {name} = 'all' needs choices, choices_from, or an int "
                            "parameter with min and max")
    if not isinstance(spec, list):
        raise ManifestError(f"report {report.id!r}: grid {name} must be a list of values or 'all'")
    return [_validate_value(report, p, v) for v in spec]


def variants(report: Report, overrides: dict[str, Any] | None = None, all_variants: bool = False) -> list[Variant]:
    """The variants to build: one with the given parameters, or the whole grid (overrides fix the rest)."""
    base = validate_parameters(report, overrides or {})
    if not all_variants or not report.grid:
        return [Variant(report, base)]
    names = [n for n in report.grid if n not in (overrides or {})]
    combos = product(*(grid_values(report, n) for n in names))
    return [Variant(report, {**base, **dict(zip(names, combo, strict=True))}) for combo in combos]


PARAMETERS_TAG = "parameters"


def parameters_cell(notebook: Path) -> dict[str, tuple[str, Any]] | None:
    """What a notebook's cell tagged "parameters" writes: {name: (type, value)}, for `name: type = value` lines.
    None when the notebook cannot be read or the cell is written otherwise (then it is compared whole)."""
    import json

    try:
        return declared_parameters(json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def declared_parameters(cells: list[dict]) -> dict[str, tuple[str, Any]] | None:
    """parameters_cell for a notebook's cells already read."""
    import ast

    try:
        cell = next(c for c in cells if PARAMETERS_TAG in c.get("metadata", {}).get("tags", []))
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        found = {}
        for node in ast.parse(source).body:
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(node.annotation, ast.Name) and node.value is not None):
                return None
            found[node.target.id] = (node.annotation.id, ast.literal_eval(node.value))
        return found
    except (OSError, ValueError, KeyError, TypeError, StopIteration, SyntaxError):
        return None


def not_defaults(report: Report, values: dict[str, Any]) -> dict[str, Any]:
    """The ``values`` of ``report``'s parameters that are not reports.toml's defaults."""
    return {name: value for name, value in values.items()
            if name in report.parameters and value != report.parameters[name].default}


def describe_not_defaults(report: Report, values: dict[str, Any]) -> list[str]:
    """'municipality = "101" (reports.toml: "270")' for each value that is not the default."""
    return [f"{name} = {value!r} (reports.toml: {report.parameters[name].default!r})"
            for name, value in not_defaults(report, values).items()]


def local_edits(report: Report) -> list[str]:
    """The values in the notebook's parameters cell that are not reports.toml's defaults (an analyst's edit in
    JupyterLab, saved). The build injects every parameter, so such a value changes no build; this says where a
    notebook and the manifest part."""
    cell = parameters_cell(report.notebook) or {}
    return describe_not_defaults(report, {name: value for name, (_, value) in cell.items()})


# ---- what a reader sees of a variant: its title and the label that tells it apart ---------------------------------
# ``variant_title`` in reports.toml (e.g. "{municipality} — municipality profile {year}") is filled in with each
# parameter written by its label: from the parameter's ``labels_from`` (import path of a function returning
# {value: (label, detail)}, e.g. "270" -> ("Gribskov", "Region Hovedstaden")), else the value with underscores as
# spaces.

@cache
def labels_table(import_path: str) -> dict[str, tuple[str, str]]:
    return {str(k): tuple(v) for k, v in _function(import_path, "labels_from")().items()}


def value_label(p: Parameter, value: Any) -> tuple[str, str]:
    """(label, detail) of one parameter value for readers: from the parameter's ``labels_from`` when it has one and
    knows the value, else the value itself with underscores written as spaces, in the language being written
    (kommunelab.i18n: a choice of reports.toml is in its report's catalog)."""
    from .i18n import _

    if p.labels_from is not None:
        try:
            found = labels_table(p.labels_from).get(str(value))
        except KommunelabError:
            found = None  # no data to label from: the value itself still identifies the variant
        if found:
            return found[0], found[1]
    text = str(value).replace("_", " ")
    return (_(text) if p.choices is not None else text), ""


def _shown(v: Variant) -> list[str]:
    """The parameters that tell the variant apart: grid parameters and those not at their default (not its
    language: the page is written in it)."""
    defaults = v.report.defaults()
    return [k for k in v.report.parameters
            if k != LANGUAGE and (k in v.report.grid or v.params[k] != defaults[k])]


def variant_language(v: Variant) -> str:
    """The language a variant is written in: its ``language`` parameter, English for a report without one."""
    return str(v.params.get(LANGUAGE, "en"))


def _in_its_language(function):
    """Run ``function(v)`` with text in ``v``'s language and its report's catalog."""
    from functools import wraps

    @wraps(function)
    def run(v: Variant):
        from .i18n import using

        with using(variant_language(v), v.report.id):
            return function(v)
    return run


@_in_its_language
def variant_label(v: Variant) -> str:
    """A grid parameter by its value's label ("Gribskov", "size class"), any other by name and value ("year 2016")."""
    from .i18n import _

    def one(k: str) -> str:
        text = value_label(v.report.parameters[k], v.params[k])[0]
        return text if k in v.report.grid else f"{_(k.replace('_', ' '))} {text}"

    return ", ".join(one(k) for k in _shown(v))


@_in_its_language
def variant_parameters(v: Variant) -> list[tuple[str, str]]:
    """(parameter, value label) of each parameter that tells the variant apart: [("breakdown", "size class")]."""
    from .i18n import _

    return [(_(k.replace("_", " ")), value_label(v.report.parameters[k], v.params[k])[0]) for k in _shown(v)]


@_in_its_language
def variant_detail(v: Variant) -> str:
    return ", ".join(d for k in _shown(v) if (d := value_label(v.report.parameters[k], v.params[k])[1]))


@_in_its_language
def variant_title(v: Variant) -> str:
    """The report's title for the default variant; otherwise ``variant_title`` filled in with labels, or without one
    the title followed by the label."""
    from .i18n import _

    if not _shown(v):
        return _(v.report.title)
    if v.report.variant_title:
        labels = {k: value_label(p, v.params[k])[0] for k, p in v.report.parameters.items()}
        return _(v.report.variant_title).format(**labels)
    return f"{_(v.report.title)} — {variant_label(v)}"
