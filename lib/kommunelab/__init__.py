"""kommunelab: reproduce public reports on municipal collaboration and innovation in Denmark and Norway.

Data flows data -> stats -> findings -> plots/fmt -> notebook -> build. Notebooks import what they need:
``from kommunelab import data, stats, fmt, plots`` and ``from kommunelab.findings import finding``.
"""

__version__ = "0.1.0"
