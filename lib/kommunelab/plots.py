"""One seaborn theme and palette for every report, and figure helpers that number-format axes by locale."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns
from matplotlib.ticker import FuncFormatter

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


def number_axis(ax, axis: str = "y", locale: str = "en", decimals: int = 0, percent: bool = False) -> None:
    """Format an axis's tick labels with the locale's separators (and a % / pct. suffix)."""
    def label(x, _pos):
        return fmt.percent(x, decimals, locale) if percent else fmt.number(x, decimals, locale)

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(label))

