"""Command line: a thin layer over the Python API (kommunelab.engine, kommunelab.manifest, ...)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import FileSystemError, KommunelabError, shorten


def _cmd_list(args) -> int:
    from .manifest import load_manifest

    for rid, report in load_manifest().items():
        print(f"{rid}\n  {report.title}\n  notebook: {report.notebook.name}")
        for p in report.parameters.values():
            grid = "  [grid]" if p.name in report.grid else ""
            print(f"  -p {p.name}=<{p.type}>  default {p.default!r}{grid}  {p.help}")
    return 0


def _cmd_params(args) -> int:
    from .manifest import choices_table, load_manifest
    from .names import did_you_mean

    manifest = load_manifest()
    if args.report not in manifest:
        raise KommunelabError(f"unknown report {shorten(args.report, 60)!r}{did_you_mean(args.report, manifest)} "
                              f"(known: {', '.join(manifest)})")
    report = manifest[args.report]
    print(f"{report.id}: {report.title}")
    for p in report.parameters.values():
        print(f"\n{p.name} ({p.type}), default {p.default!r}\n  {p.help}\n  allowed: {p.allowed()}")
        if p.name in report.grid:
            print(f"  grid: {report.grid[p.name]!r} (expanded by --all-variants)")
        if p.choices_from:
            try:
                table = choices_table(p.choices_from)
            except KommunelabError as exc:  # the values come from data this machine does not have yet
                print(f"  values: not listed, the data they come from is missing here: {exc}")
                continue
            names = sorted(k for k, v in table.items() if k != v and not k.islower())
            print(f"  {len(set(table.values()))} values, e.g. {', '.join(names[:12])} ...")
    return 0


def _cmd_build(args) -> int:
    from .engine.build import BuildOptions, build, dry_run, exit_code, failure_table
    from .engine.plan.request import parse_assignments, read_parameter_sets

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    jobs = {} if args.jobs is None else {"jobs": args.jobs}  # the default is BuildOptions' own
    options = BuildOptions(formats=formats, **jobs, force=args.force, show_code=args.show_code,
                           data_mirror=args.data_mirror, timeout=args.timeout, max_output_mb=args.max_output_mb,
                           kernel_memory_mb=args.kernel_memory_mb, wait=args.wait,
                           fork_kernels=not args.fresh_kernels, executor=args.executor, scheduler=args.scheduler,
                           languages=tuple(c.strip() for c in (args.language or "").split(",") if c.strip()))
    overrides = parse_assignments(args.param)
    if args.parameters_file:
        # Each set in the file, with the -p values on top: one variant per set.
        overrides = [{**params, **overrides} for params in read_parameter_sets(args.parameters_file)]
    if args.dry_run:
        todo, current = dry_run(args.reports or None, overrides, args.all_variants, options)
        for v, reasons in todo:
            print(f"would build {v.report.id}/{v.id}: {'; '.join(reasons)}")
        print(f"{len(todo)} to build, {len(current)} up to date; nothing was executed or written")
        return 0
    outcomes = build(args.reports or None, overrides, args.all_variants, options)
    table = failure_table(outcomes)
    if table:
        print(f"\n{table}", file=sys.stderr)
    return exit_code(outcomes)


def _cmd_status(args) -> int:
    from .engine.publish.status import status_lines
    from .paths import project_root

    print("\n".join(status_lines(project_root())))
    return 0


def _cmd_prune(args) -> int:
    from .engine.build import build_time
    from .engine.publish.prune import candidates, prune
    from .manifest import load_manifest
    from .paths import project_root, relative

    root, manifest = project_root(), load_manifest()
    files, dropped = candidates(root, manifest)
    if not files and not dropped:
        print("nothing to prune: every file in reports/ belongs to a default or grid variant in reports.toml")
        return 0
    for o in dropped:
        print(f"record: {o.name} ({', '.join(f'{k}={v}' for k, v in o.params.items())})")
    for path in files:
        print(f"file:   {relative(path, root)}")
    if not args.yes:
        print(f"{len(files)} file(s), {len(dropped)} record(s); run `{_me()} prune --yes` to remove them")
        return 0
    from .engine.publish.lock import build_lock

    with build_lock(root, started=build_time()):
        prune(root, manifest, build_time())
    print(f"removed {len(files)} file(s) and {len(dropped)} record(s); the index is updated")
    return 0


UNREACHABLE = 3  # exit code: a statistics office could not be reached, or its answer failed the checks


def _cmd_data_update(args) -> int:
    from .data.update import updates_for, write
    from .paths import relative

    updates, failures, notes = updates_for(args.tables)
    for line in notes + [line for u in updates for line in u.diff.lines()]:
        print(line)
    for line in failures:
        print(f"kommunelab: {line}; nothing was written", file=sys.stderr)
    changed = [u for u in updates if not u.diff.identical]
    if failures or not changed:
        return UNREACHABLE if failures else 0
    if not args.write:
        print(f"{len(changed)} table(s) would change; nothing was written. Run again with --write to replace the "
              "snapshot's files, checksums and retrieval dates, then review and commit the change.")
        return 0
    print("\n".join(f"wrote {relative(path)}" for path in write(changed)))
    return 0


def _cmd_data_verify(args) -> int:
    from .data.update import verify
    from .reference import reference_dir

    problems = verify()
    print("\n".join(f"kommunelab: {p}" for p in problems) or f"{reference_dir()}: every file described, listed in "
          "SHA256SUMS with its checksum, and valid", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


def _cmd_synthetic(args) -> int:
    if args.delivery:
        from .synthetic.delivery import write_delivery

        book = write_delivery(args.delivery)
        print(f"wrote the stand-ins as a delivery into {book.parent}, with its codebook {book.name} (marked "
              f"synthetic); `{_me()} microdata check {book.parent}` reads it")
        return 0
    from .synthetic import write_all

    for path in write_all():
        print(path)
    return 0


def _cmd_new(args) -> int:
    from .data.published import findings_path
    from .scaffold import finding_row_template, new_report

    for path in new_report(args.report, args.title):
        print(f"wrote {path}")
    print(f"next: open the notebook in JupyterLab (make lab), then `{_me()} build {args.report}`.\n"
          f"To record a finding, add a row like this to {findings_path()} and call finding() in the notebook:\n"
          f"{finding_row_template(args.report)}")
    return 0


def _me() -> str:
    """This command as the user can type it again from here: `.venv/bin/kommunelab` run from the project folder, with
    no virtual environment activated (README's form)."""
    import shlex

    me = Path(sys.argv[0])
    if me.name != "kommunelab":
        return "kommunelab"
    return shlex.quote(os.path.relpath(me) if me.is_absolute() and me.resolve().is_relative_to(Path.cwd()) else str(me))


def _cmd_kernel_install(args) -> int:
    from .engine.run.execute import KERNEL_NAME, install_kernel

    folder = install_kernel(args.name or KERNEL_NAME, user=args.user, prefix=args.prefix)
    print(f"installed the kernel {args.name or KERNEL_NAME!r} (Python (kommunelab), {sys.executable}) in {folder}; "
          "choose it in JupyterLab or `jupyter kernelspec list`")
    return 0


def _cmd_translations(args) -> int:
    from .translations import check, every_domain, update

    if args.check:
        problems = check()
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s)" if problems else "every catalog is complete")
        return 1 if problems else 0
    domains = every_domain()  # extracted once, for the update and the check after it
    written = update(domains)
    for path in written:
        print(f"updated {path}")
    problems = check(domains)
    print(f"{len(written)} catalog(s) updated; {len(problems)} message(s) still to translate or fix "
          "(`kommunelab translations --check` lists them)")
    return 0


def _cmd_microdata_init(args) -> int:
    from .data.tables import SURVEY_TABLES
    from .delivery.draft import draft_codebook
    from .survey import init_descriptor

    path = Path(args.path)
    if path.is_dir() and any((path / f"{t}.csv").is_file() for t in SURVEY_TABLES):
        target = init_descriptor(path)  # tables already in the project's columns
        print(f"wrote {target}: fill in the FILL IN fields (title, sources, licenses), then pass the folder as "
              "-p data_dir=...")
        return 0
    draft = draft_codebook(path)
    print(f"wrote {draft.path}, a draft codebook:")
    for table, columns in draft.mapped.items():
        print(f"  {table}: {len(columns)} column(s) matched to a variable")
    print(f"Still to decide ({len(draft.decisions)}):")
    for line in draft.decisions:
        print(f"  - {line}")
    print(f"then: `{_me()} microdata check {draft.path.parent}`")
    return 0


def _cmd_microdata_check(args) -> int:
    from .delivery.check import check, render

    report, _ = check(args.path)
    print(render(report))
    if report.usable:
        return 0
    for problem in report.problems:
        print(f"kommunelab: {problem}", file=sys.stderr)
    return 2


def make_parser() -> argparse.ArgumentParser:
    from .engine.plan.request import default_jobs

    parser = argparse.ArgumentParser(prog="kommunelab", description="Build the kommunelab reports.")
    parser.add_argument("--data-mirror", metavar="DIR", default=None, help="read the reference files found in DIR "
                        "(laid out like data/reference/, with its SHA256SUMS) instead ($KOMMUNELAB_DATA_MIRROR)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the reports and their parameters")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("params", help="show one report's parameters and what they allow")
    p.add_argument("report")
    p.set_defaults(func=_cmd_params)

    p = sub.add_parser("build", help="build reports (only what changed)",
                       description="Execute, export and index reports. Rebuilds a variant only when its notebook, "
                                   "parameters, manifest entry, library modules, data files, runtime packages or "
                                   "Chromium changed. Without -p, every variant of the named reports (all reports "
                                   "when none is named) already in reports/ is kept current too, grids included.")
    p.add_argument("reports", nargs="*", metavar="REPORT", help="report ids (default: all)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a parameter of the (single) report being built (NAME=VALUE or NAME:VALUE); repeatable")
    p.add_argument("-f", "--parameters-file", type=Path, metavar="FILE",
                   help="YAML file of parameters: one mapping, or a list of mappings to build several variants")
    p.add_argument("--all-variants", action="store_true", help="build every combination of the parameter grid")
    p.add_argument("--language", metavar="CODE", help="build each report in this language (da, nb, en; several "
                   "comma-separated, or all) where it is written in it; the index is then written in it too. "
                   "Default: each report's own language (reports.toml)")
    p.add_argument("--jobs", type=int, default=None, help=f"parallel worker processes (default: the number "
                   f"of cores, {default_jobs()})")
    p.add_argument("--formats", default="html,pdf", help="comma-separated: html, pdf (default html,pdf)")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    p.add_argument("--dry-run", action="store_true",
                   help="list the variants that would be built and which input changed for each; run and write nothing")
    p.add_argument("--show-code", action="store_true", help="include the code cells in HTML and PDF")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds one variant may take, execution and printing together (default: the report's "
                        "`timeout` in reports.toml, else 600)")
    p.add_argument("--max-output-mb", type=float, default=20.0, help="what one cell may output (default 20 MB)")
    p.add_argument("--kernel-memory-mb", type=int, default=4096, help="memory one kernel may use (default 4096 MB)")
    p.add_argument("--wait", action="store_true",
                   help="wait for a build already running on the same reports/ folder instead of refusing at once")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="where variants run: local worker processes (default) or a Dask cluster (--scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="the Dask scheduler for --executor dask, e.g. tcp://10.0.0.5:8786 (README: Scale-out)")
    p.add_argument("--fresh-kernels", action="store_true",
                   help="start every kernel as a new Python (slower) instead of forking it from a worker's template "
                        "that has the libraries imported")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("status", help="the last build: when, revision, variants by status, failures, stale variants",
                       description="Read reports/build.json and reports/drift.json: when the last build ran and from "
                                   "which git revision, variants by status, what failed, what is stale and why, and "
                                   "how many findings changed.")
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("prune", help="list (and with --yes remove) outputs of variants reports.toml no longer declares",
                       description="Lists files in reports/ that belong to no default or grid variant of reports.toml: "
                                   "removed reports and variants, and one-off variants built with -p. Nothing is "
                                   "removed without --yes.")
    p.add_argument("--yes", action="store_true", help="remove what is listed")
    p.set_defaults(func=_cmd_prune)

    p = sub.add_parser("data", help="the pinned snapshot of reference data: update from the sources, or verify")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    q = data_sub.add_parser("update", help="download tables from the statistics offices and show what would change",
                            description="Download, validate whole, print what would change in data/reference/ "
                            "(rows, largest changes, new years); write only with --write. Exit 3: a source failed.")
    q.add_argument("tables", nargs="*", metavar="TABLE", help="population, unemployment, no_municipalities, ...")
    q.add_argument("--write", action="store_true",
                   help="replace the snapshot's files, SHA256SUMS and retrieval dates (a change to review and commit)")
    q.set_defaults(func=_cmd_data_update)
    q = data_sub.add_parser("verify", help="check data/reference/ against its checksums, descriptor and schemas")
    q.set_defaults(func=_cmd_data_verify)

    p = sub.add_parser("synthetic", help="regenerate the synthetic survey stand-ins in data/synthetic/")
    p.add_argument("--delivery", metavar="DIR", type=Path, help="instead, write the stand-ins into DIR as a research "
                   "centre would deliver them (.sav, .dta, .xlsx, with a codebook marking them synthetic)")
    p.set_defaults(func=_cmd_synthetic)

    p = sub.add_parser("new", help="start a new report: notebook, reports.toml entry, a findings row to fill in",
                       description="Write notebooks/REPORT.ipynb (kernel, typed parameters cell, setup cell, tags, "
                                   "an example figure) and add [reports.REPORT] to reports.toml; it builds as it is.")
    p.add_argument("report", help="the new report's id: lower-case letters, digits and _ (e.g. kl_budget)")
    p.add_argument("--title", help="the report's title (default: from the id)")
    p.set_defaults(func=_cmd_new)

    p = sub.add_parser("kernel", help="register the project's kernel for Jupyter")
    kern = p.add_subparsers(dest="kernel_command", required=True)
    q = kern.add_parser("install", help="register this environment as the 'kommunelab' kernel",
                        description="Register this environment's Python as a Jupyter kernel, so that any JupyterLab "
                                    "or JupyterHub on this machine can run the notebooks: in this environment "
                                    "(default), in your user's Jupyter folder (--user), or under --prefix.")
    where = q.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install in the user's Jupyter folder (~/.local/share/jupyter)")
    where.add_argument("--prefix", metavar="DIR", help="install under DIR/share/jupyter/kernels (e.g. a hub's prefix)")
    q.add_argument("--name", help="kernel name (default kommunelab; notebooks ask for that name)")
    q.set_defaults(func=_cmd_kernel_install)

    p = sub.add_parser("microdata", help="bring real survey microdata in: draft a codebook, check a delivery")
    micro = p.add_subparsers(dest="microdata_command", required=True)
    q = micro.add_parser("init", help="write a draft codebook for the delivery in PATH (a folder or a file)",
                         description="For a delivery (.sav, .zsav, .dta, .xlsx, .csv): write kommunelab-codebook.toml, "
                                     "matching variable and value labels to the project's columns and codes, and "
                                     "list what is still to decide. For a folder of tables already in the project's "
                                     "columns (coi_workplaces.csv, ...): write a datapackage.json template.")
    q.add_argument("path", type=Path)
    q.set_defaults(func=_cmd_microdata_init)
    q = micro.add_parser("check", help="read the delivery in PATH through its codebook and report, before any build",
                         description="Rows read, codes seen against codes mapped, item non-response by reason, "
                                     "weighted and unweighted n; exit 0 when the delivery can be used, 2 with one "
                                     "line per problem otherwise.")
    q.add_argument("path", type=Path)
    q.set_defaults(func=_cmd_microdata_check)
    p = sub.add_parser("translations", help="extract the reader-facing messages, update the catalogs, compile them",
                       description="Extract every message from the library, the index template, the notebooks, "
                                   "reports.toml, findings.csv and the data's categories; merge them into "
                                   "lib/kommunelab/locale/<language>/LC_MESSAGES/<domain>.po (new ones untranslated) "
                                   "and compile. --check changes nothing and exits 1 when a catalog is incomplete.")
    p.add_argument("--check", action="store_true", help="only say what is missing, untranslated, fuzzy or obsolete")
    p.set_defaults(func=_cmd_translations)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.data_mirror:
        os.environ["KOMMUNELAB_DATA_MIRROR"] = os.path.abspath(args.data_mirror)
    try:
        return args.func(args)
    except BrokenPipeError:  # `kommunelab list | head`: the reader has gone; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (KommunelabError, OSError) as exc:  # OSError: the file system refused something outside any variant
        print(f"kommunelab: error: {shorten(str(exc), 2000)}", file=sys.stderr)
        return 2 if isinstance(exc, KommunelabError) and not isinstance(exc, FileSystemError) else 4
    except KeyboardInterrupt:
        print("kommunelab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
