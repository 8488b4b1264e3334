"""One seaborn theme and palette for every report, and figure helpers that number-format axes by locale."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns
from matplotlib.ticker import Formatter

from . import fmt

PALETTE = ["#1f4e79", "#c05621", "#2f855a", "#805ad5", "#b7791f", "#718096", "#c53030", "#2b6cb0"]
HIGHLIGHT, CONTEXT = PALETTE[0], "#a0aec0"
# Text in figures: DejaVu Sans (matplotlib's own, so the layout is measured in it), then near-metric fallbacks for
# a reader whose browser lacks it.
FONTS = ["DejaVu Sans", "Verdana", "Bitstream Vera Sans"]


def use_house_style() -> None:
    """Apply the house theme (call once at the top of a notebook)."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, font="sans-serif",
                  rc={"figure.figsize": (7.2, 3.6), "figure.dpi": 110, "savefig.dpi": 110, "axes.titlesize": 12,
                      "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.labelsize": 10,
                      "axes.spines.top": False, "axes.spines.right": False, "grid.color": "#e2e8f0",
                      "legend.frameon": False, "font.sans-serif": FONTS,
                      # Figures go into the HTML as SVG: vector (crisp in print at any size), a third of a PNG's
                      # bytes, text kept as text in the fonts above, and the same bytes on every run.
                      "svg.fonttype": "none", "svg.hashsalt": "kommunelab"})
    mpl.rcParams["figure.constrained_layout.use"] = True
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg", bbox_inches="tight", metadata={"Date": None})
    except ImportError:
        pass


class LocaleFormatter(Formatter):
    """Tick labels in the locale's number format with as many decimals as the tick positions need (at least
    ``decimals``): ticks at 1.0, 1.25, 1.5 print "1.00, 1.25, 1.50", never "1.2, 1.2"; a target at 37.5 prints "37.5"."""

    def __init__(self, locale: str | None = None, decimals: int = 0, percent: bool = False):
        self.locale, self.decimals, self.percent = locale, decimals, percent
        self._places = decimals

    def set_locs(self, locs):
        super().set_locs(locs)
        lo, hi = self.axis.get_view_interval() if self.axis is not None else (min(locs, default=0), max(locs, default=0))
        visible = [v for v in locs if min(lo, hi) - 1e-9 <= v <= max(lo, hi) + 1e-9] or list(locs)
        self._places = fmt.decimals_for(visible, self.decimals)

    def __call__(self, x, pos=None):
        places = self._places if pos is not None else max(self._places, self.decimals)
        return fmt.percent(x, places, self.locale) if self.percent else fmt.number(x, places, self.locale)


def number_axis(ax, axis: str = "y", locale: str | None = None, decimals: int = 0, percent: bool = False) -> None:
    """Format an axis's tick labels with the locale's separators (and a % / pct. suffix), with at least ``decimals``
    decimals and as many more as the tick positions need."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(LocaleFormatter(locale, decimals, percent))


def tick_labels(ax, axis: str = "y") -> list[tuple[float, str]]:
    """The (position, label) of each major tick inside the axis's view: what a reader sees, from the axis's own
    locator and formatter (as drawing would, without rendering the figure)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    ax.autoscale_view()
    locs = list(target.get_majorticklocs())
    labels = target.get_major_formatter().format_ticks(locs)
    lo, hi = sorted(target.get_view_interval())
    return [(loc, label) for loc, label in zip(locs, labels, strict=True) if lo - 1e-9 <= loc <= hi + 1e-9]
