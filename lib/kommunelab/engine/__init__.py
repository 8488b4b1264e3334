"""The engine: it builds reports in four stages, each a package with one job, handing typed records
(kommunelab.records) to the next:

- plan: the request validated, input keys, what is stale and why (engine.plan);
- run: a pool of worker processes or a Dask cluster; each worker executes a variant's notebook with papermill in a
  kernel of its own, within limits (engine.run);
- render: HTML with nbconvert, PDF with Chromium (engine.render);
- publish: outputs promoted, build.json, findings.json, drift.json and the index written as one set; prune; status
  (engine.publish).

A stage imports earlier stages only; engine.build composes them. This package imports nothing of the library itself,
so a variant's rebuild key (engine.plan.cache), which follows imports, counts the stages that shape a report's output
and not the build's bookkeeping.

The engine's processes (a build, its workers, a Dask worker running its tasks) skip one optional import: jsonschema,
which nbformat and papermill validate notebooks with, imports rfc3987_syntax where it is installed (JupyterLab's
dependencies bring it) to check the "iri" string formats, and that module builds some 35 Earley parsers as it is
imported: 1 to 1.6 s of CPU in every process that imports nbformat (python-jsonschema/jsonschema#1428). No notebook
schema uses those formats, and nbformat does not check formats at all. A process that imported it before keeps it.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # import rfc3987_syntax raises ImportError, which jsonschema expects
