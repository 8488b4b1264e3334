"""The engine: it builds reports in four stages, each a package with one job, handing typed records
(kommunelab.records) to the next:

- plan: the request validated, input keys, what is stale and why (engine.plan);
- run: a pool of worker processes or a Dask cluster; each worker executes a variant's notebook with papermill in a
  kernel of its own, within limits (engine.run);
- render: HTML with nbconvert, PDF with Chromium (engine.render);
- publish: outputs promoted, build.json, findings.json, drift.json and the index written as one set; prune; status
  (engine.publish).

A stage imports earlier stages only; engine.build composes them. This package imports nothing itself, so a
variant's rebuild key (engine.plan.cache), which follows imports, counts the stages that shape a report's output and
not the build's bookkeeping.
"""
