"""The Danish municipalities on a map, offline: the boundaries the project ships (data/reference/dk/
municipalities.topojson, DAGI 2014) decoded by hand (TopoJSON is quantised, delta-encoded arcs shared by neighbouring
polygons), projected for a national map, and drawn as vector shapes: a matplotlib choropleth for a report, plain SVG
paths for the index. Neighbours are the municipalities that share an arc of boundary.

No tiles, no network, no GIS stack: the file is 0.3 MB and Denmark is small enough for an equirectangular projection
scaled at its middle latitude (distances east-west are off by under 3% at its edges).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import DataError
from .provenance import record_read, sha256_file

BOUNDARIES = "dk/municipalities.topojson"
LATITUDE = 56.0  # the projection's standard parallel: the middle of Denmark
NOT_A_MUNICIPALITY = {411}  # Christiansø, in the file but governed by the state


@dataclass(frozen=True)
class Shapes:
    """Each municipality's polygons (rings of projected x, y; north up, east right), and who shares a boundary."""

    rings: dict[int, tuple[tuple[tuple[float, float], ...], ...]]  # code -> rings (outer and holes alike)
    neighbours: dict[int, frozenset[int]]
    bounds: tuple[float, float, float, float]  # min x, min y, max x, max y

    def centroid(self, code: int) -> tuple[float, float]:
        """The area-weighted centre of a municipality's largest polygon (a point inside for the shapes here)."""
        ring = max(self.rings[code], key=lambda r: abs(_area(r)))
        a = _area(ring)
        edges = list(zip(ring, ring[1:] + ring[:1], strict=True))
        cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in edges)
        cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in edges)
        return cx / (6 * a), cy / (6 * a)


def _area(ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)) / 2


def project(lon: float, lat: float) -> tuple[float, float]:
    """Longitude and latitude (degrees) to map units: degrees of latitude, east-west scaled at LATITUDE."""
    return lon * math.cos(math.radians(LATITUDE)), lat


def shapes() -> Shapes:
    """The municipalities' shapes from the snapshot (or the mirror), recorded as read for the provenance block and
    the rebuild key; decoded once per version of the file."""
    from .reference import locate, resource

    path, origin = locate(BOUNDARIES)
    about = resource(BOUNDARIES)
    checksum = sha256_file(path)
    record_read(str(path), checksum, origin, about.publisher, about.source_table, key=f"dataset:{BOUNDARIES}",
                retrieved=about.retrieved if origin == "snapshot" else "", licence="; ".join(about.licences),
                attribution=about.attribution)
    return _decoded(str(path), checksum)


def warm() -> None:
    """Decode the boundaries into this process's cache (kept per content of the file) without recording a read: a
    build's kernel template calls it, so each variant's kernel finds them decoded; shapes() still records them."""
    from .reference import locate

    try:
        path, _ = locate(BOUNDARIES)
        _decoded(str(path), sha256_file(path))
    except Exception:  # the variant that draws the map says what is wrong, in its own cell
        pass


@cache
def _decoded(path: str, checksum: str) -> Shapes:
    try:
        topology = json.loads(Path(path).read_text(encoding="utf-8"))
        return decode(topology)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise DataError(path, f"not the TopoJSON of municipal boundaries the project expects: {exc}",
                        hint="restore it with `git checkout -- data/reference`") from None


TOLERANCE = 0.004  # map units (about 400 m): what a national map at A4 or screen width cannot show is dropped


def simplify(points: list[tuple[float, float]], tolerance: float = TOLERANCE) -> list[tuple[float, float]]:
    """Douglas-Peucker on one arc: its ends are kept (so neighbours still share them), and every point within
    ``tolerance`` of the line between the points kept either side of it is dropped."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy)
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            x, y = points[i]
            d = abs(dy * (x - x0) - dx * (y - y0)) / norm if norm else math.hypot(x - x0, y - y0)
            if d > worst:
                worst, index = d, i
        if worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def decode(topology: dict) -> Shapes:
    """A TopoJSON topology of polygons with a KOMKODE property (4-digit code) -> Shapes (each shared arc simplified
    once, so neighbouring shapes still meet)."""
    if topology.get("type") != "Topology":
        raise ValueError("type is not Topology")
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:  # quantised and delta-encoded: each position is added to the one before
        x = y = 0
        points = []
        for position in arc:  # (a position may carry a third value, which maps ignore)
            x, y = x + position[0], y + position[1]
            points.append(project(x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(simplify(points))

    def ring(indices: list[int]) -> tuple[tuple[float, float], ...]:
        points: list[tuple[float, float]] = []
        for i in indices:  # ~i (a negative index) is arc i reversed; each arc's first point repeats the last one's
            part = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(part if not points else part[1:])
        return tuple(points)

    rings: dict[int, list] = {}
    arcs_of: dict[int, set[int]] = {}
    (collection,) = topology["objects"].values()
    for geometry in collection["geometries"]:
        code = int(geometry["properties"]["KOMKODE"])
        if code in NOT_A_MUNICIPALITY:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            for indices in polygon:
                rings.setdefault(code, []).append(ring(indices))
                arcs_of.setdefault(code, set()).update(i if i >= 0 else ~i for i in indices)
    users: dict[int, set[int]] = {}
    for code, used in arcs_of.items():
        for i in used:
            users.setdefault(i, set()).add(code)
    neighbours = {code: frozenset(c for i in used for c in users[i] if c != code) for code, used in arcs_of.items()}
    xs = [x for rs in rings.values() for r in rs for x, _ in r]
    ys = [y for rs in rings.values() for r in rs for _, y in r]
    return Shapes({c: tuple(rs) for c, rs in rings.items()}, neighbours, (min(xs), min(ys), max(xs), max(ys)))


def choropleth(ax, values: dict[int, float], *, highlight: int | None = None, cmap: str = "cividis",
               label: str = "", locale: str | None = None, decimals: int = 0):
    """Draw the municipalities on ``ax``, each filled by its value in ``values`` (cividis: dark blue for the least to
    light yellow for the most, readable with any colour vision; no value: light grey), ``highlight`` outlined in red;
    a colour bar below, labelled ``label``, in the locale's number format. Returns the colour bar."""
    import matplotlib as mpl
    from matplotlib.collections import PolyCollection

    from . import plots

    geo = shapes()
    codes = sorted(geo.rings)
    known = [values[c] for c in codes if c in values]
    norm = mpl.colors.Normalize(min(known), max(known))
    colours = mpl.colormaps[cmap]
    polys, faces = [], []
    for code in codes:
        for r in geo.rings[code]:
            polys.append(r)
            faces.append(colours(norm(values[code])) if code in values else "#e2e8f0")
    ax.add_collection(PolyCollection(polys, facecolors=faces, edgecolors="white", linewidths=0.3))
    if highlight is not None:
        ax.add_collection(PolyCollection(geo.rings[highlight], facecolors="none", edgecolors="#c53030",
                                         linewidths=1.6, zorder=3))
    x0, y0, x1, y1 = geo.bounds
    ax.set_xlim(x0 - 0.05, x1 + 0.05)
    ax.set_ylim(y0 - 0.05, y1 + 0.05)
    ax.set_aspect("equal")
    ax.set_axis_off()
    bar = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=colours), ax=ax, shrink=0.5, pad=0.02,
                             orientation="horizontal", location="bottom", aspect=30)
    bar.set_label(label)
    plots.number_axis(bar.ax, "x", locale, decimals)
    return bar


def svg_map(links: dict[int, tuple[str, str]], width: int = 640) -> str:
    """The municipalities as an SVG for the index: each municipality a path, and those in ``links`` (code -> (page,
    name)) a link to their page with their name as its title (shown on hover and read on focus). The caller escapes
    nothing: names and pages are escaped here."""
    from html import escape

    geo = shapes()
    x0, y0, x1, y1 = geo.bounds
    k = width / (x1 - x0)
    height = round((y1 - y0) * k)

    def path(code: int) -> str:
        return "".join("M" + "L".join(f"{(x - x0) * k:.1f},{(y1 - y) * k:.1f}" for x, y in r) + "Z"
                       for r in geo.rings[code])

    parts = []
    for code in sorted(geo.rings):
        if code in links:
            page, name = links[code]
            parts.append(f'<a href="{escape(page)}" data-code="{code}"><title>{escape(name)}</title>'
                         f'<path d="{path(code)}"/></a>')
        else:
            parts.append(f'<path class="none" d="{path(code)}"/>')
    return (f'<svg class="kl-map" viewBox="0 0 {width} {height}" role="group" xmlns="http://www.w3.org/2000/svg">'
            + "".join(parts) + "</svg>")
