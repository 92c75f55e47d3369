"""The command line: argument parsing, calling the library, choosing a reporter, the exit code.

Exit codes: 0 nothing at or above ``--fail-on`` was found; 1 something was;
2 usage error or internal failure (one line on stderr, a traceback only with ``--debug``).
"""

from __future__ import annotations

import os
import sys

from flyconf._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: `--version` stays fast

if TYPE_CHECKING:
    import argparse
    from typing import NoReturn, Sequence

    from flyconf.diagnostics import Diagnostic

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _parser_class() -> type["argparse.ArgumentParser"]:
    import argparse  # not needed for `flyconf --version`

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> "NoReturn":
            self.print_usage(sys.stderr)
            self.exit(EXIT_ERROR, f"flyconf: error: {message}\n")

    return _Parser


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _config_options(lint: "argparse.ArgumentParser") -> None:
    """`flyconf lint`'s configuration options (see flyconf/config.py)."""
    how = lint.add_mutually_exclusive_group()
    how.add_argument("--config", metavar="PATH",
                     help="use this configuration file for every file (flyconf.toml, or a pyproject.toml with "
                          "[tool.flyconf]) instead of the closest one to each file")
    how.add_argument("--isolated", action="store_true", help="read no configuration file")
    lint.add_argument("--exclude", type=_csv, action="extend", metavar="PATTERNS",
                      help="also skip files and directories matching these comma-separated patterns "
                           "(gitignore-style, relative to the current directory)")
    lint.add_argument("--show-settings", action="store_true",
                      help="print the settings in effect for each PATH and where each came from; lint nothing")


def build_parser() -> "argparse.ArgumentParser":
    _Parser = _parser_class()
    parser = _Parser(
        prog="flyconf",
        description="Lint Fly.io fly.toml files with the Dockerfiles and start scripts they deploy.",
    )
    parser.add_argument("--version", action="version", version=f"flyconf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    lint = sub.add_parser("lint", help="check fly.toml files (the default paths: the current directory)",
                          description="Check fly.toml files and directories (searched recursively).")
    lint.add_argument("paths", nargs="*", metavar="PATH",
                      help="files or directories to check; '-' reads standard input (default: .)")
    lint.add_argument("--format", choices=("text", "concise", "json", "sarif", "github"), default="text",
                      help="output format (default: text)")
    lint.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    lint.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                      help="lowest severity that makes the exit code 1 (default: the configuration's `fail-on`, "
                           "else warning)")
    lint.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    lint.add_argument("--select", type=_csv, metavar="RULES",
                      help="only these rules: comma-separated codes, code prefixes or names "
                           "(e.g. FC1,sqlite-not-on-volume)")
    lint.add_argument("--ignore", type=_csv, metavar="RULES", default=[],
                      help="skip these rules: comma-separated codes, code prefixes or names")
    lint.add_argument("--stdin-filename", metavar="NAME", default=None,
                      help="read standard input as the file NAME (also without '-'): NAME is reported and picks the "
                           "file's kind, and when NAME's directory exists the files beside it (its Dockerfile, "
                           "scripts, app configuration) take part, as for the file on disk")
    lint.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour the text output (default: auto: on a terminal, unless NO_COLOR is set)")
    lint.add_argument("--statistics", action="store_true", help="print a count per rule instead of the findings")
    _config_options(lint)
    lint.add_argument("--debug", action="store_true", help="show a traceback on internal errors")

    insp = sub.add_parser("inspect", help="show what flyconf understood of each app (databases, volumes, migrations)",
                          description="Show, for each app, what flyconf understood: the build, the process groups "
                                      "with their commands and mounts, each database (where it is declared, how its "
                                      "path was resolved, whether it is on a volume), LiteFS and Litestream, and the "
                                      "migrations found.")
    insp.add_argument("paths", nargs="*", metavar="PATH", help="fly.toml files or directories (default: .)")
    insp.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    insp.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    insp.add_argument("--debug", action="store_true", help="show a traceback on internal errors")

    rules = sub.add_parser("rules", help="list the rules, or explain some", description="List or explain rules.")
    rules.add_argument("rules", nargs="*", metavar="RULE",
                       help="codes or names to explain, or code prefixes (FC4) to list (default: list all)")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                       help="markdown: the documentation (all rules: docs/rules.md)")
    explain = sub.add_parser("explain", help="explain a rule (the same as `flyconf rules RULE`)",
                             description="Explain rules by code or name, with why they matter on Fly and a bad and a "
                                         "good example; a code prefix (FC4) lists its family.")
    explain.add_argument("rules", nargs="+", metavar="RULE-OR-CODE", help="a code, a name or a code prefix")
    explain.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    sub.add_parser("schema", help="print the JSON Schema of fly.toml (for editors: Even Better TOML / taplo)",
                   description="Print the JSON Schema (draft-07) of fly.toml that flyconf checks against; see the "
                               "README for using it with Even Better TOML (taplo).")

    fix = sub.add_parser("fix", help="apply the safe fixes (SQLite on a volume, migrations at start-up)",
                         description="Apply the fixes that are safe; `flyconf lint` marks fixable findings with [*]. "
                                     "The fly.toml files of a directory are fixed together: they share the wrapper. "
                                     "Exit codes: 0 nothing to fix or all fixed, 1 changes pending (--diff) or "
                                     "findings left that fix cannot fix, 2 usage or internal error.")
    fix.add_argument("paths", nargs="*", metavar="PATH", help="fly.toml files or directories (default: .)")
    fix.add_argument("--diff", action="store_true",
                     help="show the changes as a patch (`git apply` takes it) and write nothing; "
                          "exit 1 if there are any")
    fix.add_argument("--debug", action="store_true", help="show a traceback on internal errors")

    gen = sub.add_parser("generate", help="generate the start-up wrapper, or wire it into a Dockerfile",
                         description="Generate files from the app's fly.toml. Exit codes: 0 done or nothing to do, "
                                     "1 changes pending (--diff), 2 usage error (a missing file, options that "
                                     "cannot work) or internal error.")
    gen.set_defaults(generate_help=gen.format_help)
    gen_sub = gen.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser)
    ep = gen_sub.add_parser("entrypoint", help="write the POSIX sh wrapper that migrates SQLite, then execs the server",
                            description="Write a POSIX sh start-up wrapper that migrates the SQLite database on every "
                                        "Machine before the server starts.")
    ep.add_argument("-o", "--output", default="bin/fly-entrypoint", metavar="PATH",
                    help="where to write it ('-' for standard output; default: bin/fly-entrypoint)")
    ep.add_argument("--config", metavar="PATH", help="the fly.toml to read (default: ./fly.toml when it exists)")
    how = ep.add_mutually_exclusive_group()
    how.add_argument("--preset", metavar="NAME", help="the stack's migration command (see --list-presets)")
    how.add_argument("--migrate", metavar="CMD", help="any other migration command line")
    ep.add_argument("--database", metavar="PATH", action="append",
                    help="the SQLite file the migration works on; repeat it for the app's other SQLite files on the "
                         "volume, which are prepared and backed up with it (default: the databases flyconf finds)")
    ep.add_argument("--volume", metavar="PATH", help="the volume's mount destination (default: from [mounts])")
    ep.add_argument("--run-as", metavar="USER",
                    help="for an image that starts as root and drops privileges: give the volume to USER (chown), "
                         "then migrate and run the server as USER. Leave it out when the Dockerfile sets a "
                         "non-root USER: Fly gives a new volume to that user, and the wrapper changes no owner")
    ep.add_argument("--server-drops-privileges", action="store_true", default=None,
                    help="with --run-as: the image's own start command switches to USER (gosu, su-exec...), so the "
                         "wrapper migrates as USER but starts the server command as root (the default when flyconf "
                         "sees such a switch in a root image)")
    ep.add_argument("--timeout", type=int, default=300, metavar="SECONDS",
                    help="time limit for the migration (default: 300; 0: none)")
    ep.add_argument("--backups", type=int, default=0, metavar="N", help="back the database up first, keeping N")
    ep.add_argument("--list-presets", action="store_true", help="list the presets and their commands")
    ep.add_argument("--force", action="store_true", help="overwrite a file that flyconf did not write")
    ep.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    dfp = gen_sub.add_parser("dockerfile", help="make a Dockerfile start through the wrapper",
                             description="Edit a Dockerfile in place: COPY the wrapper with its run bit, make it the "
                                         "ENTRYPOINT, keep the server as CMD in exec form.")
    dfp.add_argument("path", nargs="?", metavar="PATH", help="the Dockerfile (default: the one fly.toml builds)")
    dfp.add_argument("--config", metavar="PATH", help="the fly.toml to read (default: ./fly.toml when it exists)")
    dfp.add_argument("--script", default="bin/fly-entrypoint", metavar="PATH",
                     help="the wrapper, relative to the build context (default: bin/fly-entrypoint)")
    dfp.add_argument("--diff", action="store_true",
                     help="show the change as a patch (`git apply` takes it) and write nothing; exit 1 if there is one")
    dfp.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    return parser


def main(argv: "Sequence[str] | None" = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Fast path: no argparse set-up, no imports.
    if args_list in (["--version"], ["-V"]):
        print(f"flyconf {__version__}")
        return EXIT_OK
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    debug = getattr(args, "debug", False)
    try:
        if debug:  # a file's internal error raises (for its traceback) instead of becoming an FC004 finding
            from flyconf.internal import raising

            with raising():
                return _command(parser, args)
        return _command(parser, args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into exit 2
        if debug:
            raise
        print(f"flyconf: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)",
              file=sys.stderr)
        return EXIT_ERROR
    return EXIT_ERROR


def _command(parser: "argparse.ArgumentParser", args: "argparse.Namespace") -> int:
    if args.command == "lint":
        return _lint(args)
    if args.command in ("rules", "explain"):
        return _rules(args)
    if args.command == "schema":
        return _schema()
    if args.command == "inspect":
        return _inspect(args)
    if args.command == "fix":
        return _fix(args)
    if args.command == "generate":
        if args.what is None:  # a usage error, as a missing argument is
            sys.stderr.write(args.generate_help())
            return EXIT_ERROR
        from flyconf.generate import commands

        return commands.run(args)
    parser.error(f"unknown command {args.command}")


def _lint(args: "argparse.Namespace") -> int:
    from flyconf.config import ConfigError

    try:
        return _lint_configured(args)
    except ConfigError as exc:  # a bad configuration file: where, which key, why
        print(f"flyconf: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _lint_configured(args: "argparse.Namespace") -> int:
    from flyconf.config import ConfigError, describe
    from flyconf.diagnostics import Severity
    from flyconf.lint import Report, configuration, report_bytes, run
    from flyconf.report import render

    try:
        config = configuration(
            args.select, args.ignore, config=args.config or not args.isolated,
            fail_on=Severity.parse(args.fail_on) if args.fail_on else None, exclude=args.exclude or (),
        )
    except ConfigError:
        raise
    except ValueError as exc:  # an unknown rule in --select or --ignore
        print(f"flyconf: error: {exc}", file=sys.stderr)
        return EXIT_ERROR

    if args.statistics and args.format not in ("text", "concise", "json"):
        print(f"flyconf: error: --statistics prints text or json, not {args.format}", file=sys.stderr)
        return EXIT_ERROR
    paths = args.paths or ["."]
    if args.show_settings:
        shown = [args.stdin_filename or "fly.toml" if p == "-" else p for p in paths]
        sys.stdout.write("\n".join(describe(config, p) for p in shown))
        return EXIT_OK
    sources: dict[str, str] = {}
    # As in ruff, --stdin-filename alone means standard input.
    if "-" in paths or (args.stdin_filename is not None and not args.paths):
        if len(paths) > 1:
            print("flyconf: error: '-' (standard input) cannot be combined with other paths", file=sys.stderr)
            return EXIT_ERROR
        name = args.stdin_filename or "fly.toml"
        from flyconf.sources.base import MAX_BYTES

        data = sys.stdin.buffer.read(MAX_BYTES + 1)  # /dev/zero as input must not fill memory
        report: Report = report_bytes(data, name, config, beside=args.stdin_filename is not None)
        sources.update(report.sources)
        sources.setdefault(report.files[0], data.decode("utf-8", errors="replace"))
    elif args.stdin_filename is not None:
        print("flyconf: error: --stdin-filename reads standard input; it cannot be combined with paths other than '-'",
              file=sys.stderr)
        return EXIT_ERROR
    else:
        report = run(paths, config=config)
        sources.update(report.sources)
        from flyconf.report.escape import visible  # file names can hold controls too

        for skipped in report.skipped:
            print(f"flyconf: warning: {visible(skipped)}: not a fly.toml or a Dockerfile; skipped", file=sys.stderr)
        for note in report.notes:
            print(f"flyconf: warning: {visible(note)}", file=sys.stderr)

    if args.statistics:
        text = _statistics(report.diagnostics, args.format)
    else:
        color = args.color == "always" or (
            args.color == "auto" and not os.environ.get("NO_COLOR") and args.output is None and sys.stdout.isatty()
        )
        text = render(args.format, report.diagnostics, sources=sources,
                      color=color and args.format in ("text", "concise"),
                      files=len(report.files))
    if args.output:
        from flyconf.fileio import write_atomic

        write_atomic(args.output, text)
    else:
        _write_stdout(text, json_document=args.format in ("json", "sarif") or (
            args.statistics and args.format == "json"))

    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if report.failing() else EXIT_OK


def _inspect(args: "argparse.Namespace") -> int:

    from flyconf.inspection import inspect_paths, render_text
    from flyconf.report.escape import json_text

    report = inspect_paths(args.paths or ["."])
    text = json_text(report, ensure_ascii=True) + "\n" if args.format == "json" else render_text(report)
    if args.output:
        from flyconf.fileio import write_atomic

        write_atomic(args.output, text)
    else:
        _write_stdout(text, json_document=args.format == "json")
    return EXIT_ERROR if report["problems"] and not report["apps"] and not report["compose"] else EXIT_OK


def _write_stdout(text: str, *, json_document: bool) -> None:
    """Write a report to standard output, whatever it can encode: a character the stream cannot write (a
    non-UTF-8 locale, PYTHONIOENCODING=ascii) is escaped rather than ending the run, and a JSON document
    stays valid JSON."""
    from flyconf.report.escape import encodable

    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:  # nothing was written: the text is encoded whole before it is written
        sys.stdout.write(encodable(text, sys.stdout.encoding or "utf-8", json_document=json_document))
    sys.stdout.flush()


def _fix(args: "argparse.Namespace") -> int:
    """Exit 0 when there is nothing to fix or everything was fixed; 1 when changes are pending (--diff) or
    findings of the rules fix owns are left; 2 for a usage error (a path that does not exist)."""
    from flyconf.config import ConfigError
    from flyconf.fileio import WriteError
    from flyconf.generate.fix import apply, plan_fixes
    from flyconf.report.escape import visible  # what fix says quotes the files, as lint's text output does

    try:
        plan = plan_fixes(args.paths or ["."], config=True)
    except FileNotFoundError as exc:
        print(f"flyconf: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_ERROR
    except ConfigError as exc:  # a bad configuration file: where, which key, why
        print(f"flyconf: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.diff:
        for edit in plan:
            sys.stdout.write(edit.diff(_shown(edit.path)))
        sys.stdout.flush()
    else:
        try:
            apply(plan)
        except WriteError as exc:  # nothing was changed (or what could not be put back is named)
            print(f"flyconf: error: {visible(str(exc))}", file=sys.stderr)
            return EXIT_ERROR
    for line in plan.done:
        print(("would fix: " if args.diff else "fixed: ") + visible(line), file=sys.stderr)
    for left in plan.left:
        d = left.finding
        print(visible(f"not fixed: {d.path}:{d.line}:{d.column}: {d.code} [{d.rule}] "
                      + (left.reason if left.reason is not None
                         else f"{d.message} (flyconf fix has no fix for this case)")),
              file=sys.stderr)
    for line in plan.declined:
        print(f"not fixed: {visible(line)}", file=sys.stderr)
    if not len(plan) and not plan.left and not plan.declined:
        print("flyconf: nothing to fix", file=sys.stderr)
    return EXIT_FINDINGS if (args.diff and len(plan)) or plan.left or plan.declined else EXIT_OK


def _shown(path: object) -> str:
    from flyconf.sources.base import display

    return display(path)  # type: ignore[arg-type]


def _statistics(diagnostics: "Sequence[Diagnostic]", fmt: str = "text") -> str:
    """A count per rule and severity, most frequent first: a table, or with ``--format json`` one object
    ``{"total", "fixable", "rules": [{"code", "rule", "severity", "count", "fixable"}]}``."""
    from collections import Counter

    counts = Counter((d.code, d.rule, d.severity.value) for d in diagnostics)
    fixable = Counter((d.code, d.rule, d.severity.value) for d in diagnostics if d.fixable)
    ordered = sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    if fmt == "json":
        import json

        payload = {
            "total": len(diagnostics),
            "fixable": sum(fixable.values()),
            "rules": [{"code": code, "rule": rule, "severity": sev, "count": n, "fixable": fixable[(code, rule, sev)]}
                      for (code, rule, sev), n in ordered],
        }
        return json.dumps(payload, indent=2) + "\n"
    rows = [f"{n:5d}  {code}  {sev:<7}  {rule}" for (code, rule, sev), n in ordered]
    return "\n".join(rows) + ("\n" if rows else "")


def _severities(rule: object) -> list[str]:
    """The severities a rule's findings are emitted with, strongest first (declared in the registry)."""
    return [s.value for s in rule.emitted]  # type: ignore[attr-defined]


def _rules(args: "argparse.Namespace") -> int:
    """`flyconf rules` and `flyconf explain`: a code or name is explained, a code prefix lists its family."""
    import json

    from flyconf import registry

    explained: list[registry.Rule] = []
    listed: list[registry.Rule] = []
    for key in args.rules:
        rule = registry.get(key)
        if rule is not None:
            explained.append(rule)
            continue
        try:
            family = list(registry.iter_selected([key])) if key.upper().startswith("FC") else []
        except KeyError:
            family = []
        if not family:
            from flyconf.config import _suggestion

            print(f"flyconf: error: unknown rule {key!r}{_suggestion(key)} (`flyconf rules` lists them)",
                  file=sys.stderr)
            return EXIT_ERROR
        listed.extend(family)
    if not args.rules:
        listed = registry.all_rules()

    if args.format == "json":
        payload = [
            {"code": r.code, "name": r.name, "severity": r.severity.value, "severities": _severities(r),
             "summary": r.summary, "explanation": r.explanation, "bad": r.bad, "good": r.good, "fixable": r.fixable,
             "url": r.url}
            for r in explained + listed
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return EXIT_OK
    if args.format == "markdown":
        from flyconf.ruledocs import render_markdown

        sys.stdout.write(render_markdown(None if not args.rules else explained + listed))
        return EXIT_OK

    if listed:
        width = max(len(r.name) for r in listed)
        sev_width = max(len(", ".join(_severities(r))) for r in listed)
        for r in listed:
            fix = " (fixable)" if r.fixable else ""
            print(f"{r.code}  {r.name:<{width}}  {', '.join(_severities(r)):<{sev_width}}  {r.summary}{fix}")
        if explained:
            print()
    for r in explained:
        print(f"{r.code} {r.name} ({', '.join(_severities(r))}){' - fixable' if r.fixable else ''}\n")
        print(f"{r.summary}\n")
        print(r.explanation)
        if r.bad:
            print("\nBad:\n")
            print("\n".join("    " + line for line in r.bad.splitlines()))
        if r.good:
            print("\nGood:\n")
            print("\n".join("    " + line for line in r.good.splitlines()))
        print(f"\nSee: {r.url}\n")
    return EXIT_OK


def _schema() -> int:
    """`flyconf schema`: the fly.toml JSON Schema, as shipped (schemas/fly.schema.json)."""
    from flyconf._resources import resource_dir

    sys.stdout.write((resource_dir("schemas") / "fly.schema.json").read_text(encoding="utf-8"))
    return EXIT_OK
