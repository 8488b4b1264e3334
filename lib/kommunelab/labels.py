"""What a reader sees of a report variant: its title and the label that tells it apart.

``variant_title`` in reports.toml (e.g. "{municipality} — municipality profile {year}") is filled in with each
parameter written by its label: from the parameter's ``labels_from`` (import path of a function returning
{value: (label, detail)}, e.g. "270" -> ("Gribskov", "Region Hovedstaden")), else the value with underscores as spaces.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .errors import KommunelabError
from .manifest import Parameter, Variant, _function


@cache
def labels_table(import_path: str) -> dict[str, tuple[str, str]]:
    return {str(k): tuple(v) for k, v in _function(import_path, "labels_from")().items()}


def value_label(p: Parameter, value: Any) -> tuple[str, str]:
    """(label, detail) of one parameter value for readers: from the parameter's ``labels_from`` when it has one and
    knows the value, else the value itself with underscores written as spaces."""
    if p.labels_from is not None:
        try:
            found = labels_table(p.labels_from).get(str(value))
        except KommunelabError:
            found = None  # no data to label from: the value itself still identifies the variant
        if found:
            return found[0], found[1]
    return str(value).replace("_", " "), ""


def _shown(v: Variant) -> list[str]:
    """The parameters that tell the variant apart: grid parameters and those not at their default."""
    defaults = v.report.defaults()
    return [k for k in v.report.parameters if k in v.report.grid or v.params[k] != defaults[k]]


def variant_label(v: Variant) -> str:
    """A grid parameter by its value's label ("Gribskov", "size class"), any other by name and value ("year 2016")."""
    def one(k: str) -> str:
        text = value_label(v.report.parameters[k], v.params[k])[0]
        return text if k in v.report.grid else f"{k.replace('_', ' ')} {text}"

    return ", ".join(one(k) for k in _shown(v))


def variant_parameters(v: Variant) -> list[tuple[str, str]]:
    """(parameter, value label) of each parameter that tells the variant apart: [("breakdown", "size class")]."""
    return [(k.replace("_", " "), value_label(v.report.parameters[k], v.params[k])[0]) for k in _shown(v)]


def variant_detail(v: Variant) -> str:
    return ", ".join(d for k in _shown(v) if (d := value_label(v.report.parameters[k], v.params[k])[1]))


def variant_title(v: Variant) -> str:
    """The report's title for the default variant; otherwise ``variant_title`` filled in with labels, or without one
    the title followed by the label."""
    if not _shown(v):
        return v.report.title
    if v.report.variant_title:
        labels = {k: value_label(p, v.params[k])[0] for k, p in v.report.parameters.items()}
        return v.report.variant_title.format(**labels)
    return f"{v.report.title} — {variant_label(v)}"
