"""One module per report: the computations its notebook shows. Notebooks call these; these never call notebooks."""
