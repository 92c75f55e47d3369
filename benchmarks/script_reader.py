"""Measure the shell reader (flyconf.sources.script) on the corpus's start scripts, and dump what it reads.

    python benchmarks/script_reader.py [--rounds N] [--corpus ../shared/corpus]
    python benchmarks/script_reader.py --dump out.json      # reader output and findings, for comparisons
    python benchmarks/script_reader.py --compare before.json after.json
    python benchmarks/script_reader.py --treesitter          # needs tree-sitter and tree-sitter-bash installed

The timing part prints, for the corpus's start scripts (those `tests/rules/test_scripts.py` reads): the
parse time per script (median over rounds, then median and maximum over scripts), the total time to parse
and check them all, the cost of importing the reader, and how many scripts read with a syntax error.
This is a measurement, not a test: the machines are shared and noisy, so nothing is asserted.

``--dump`` writes, through the public API only (so that two implementations of the reader can be
compared), every command with its words, parts, contexts and redirections, the tree, bash-isms, comments
and here-document ranges of each script, the findings of the script rules on each, and the findings of
linting the whole corpus. ``--compare`` prints the differences between two dumps.

``--treesitter`` measures tree-sitter-bash against flyconf's reader, the measurement behind keeping the
reader (issue 11): its parse time, ERROR nodes on the corpus, every simple command the two read
differently (the corpus's start scripts and the shell-form RUN/CMD/ENTRYPOINT of its Dockerfiles), and
probes of POSIX shapes it reads wrongly without marking an ERROR. Neither package is a dependency of
flyconf; install them by hand to run this part.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
FIXTURES = REPO / "tests" / "fixtures" / "scripts"


def corpus_scripts(corpus: Path) -> list[Path]:
    """The start scripts of the corpus, chosen as tests/rules/test_scripts.py chooses them."""
    out = []
    for row in (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 6 or "entrypoint" not in cols[5].split(","):
            continue
        path = corpus / cols[0]
        if path.suffix in (".js", ".mjs", ".cjs", ".ts", ".rb", ".rake", ".yml", ".yaml", ".toml", ".json", ".py"):
            continue
        if path.is_file():
            out.append(path)
    return out


# -- dump ------------------------------------------------------------------------------------------

def _word(w: Any) -> list[Any] | None:
    if w is None:
        return None
    return [w.text, w.offset, w.line, w.column, w.end_line, w.end_column, w.quoted,
            [[p.kind, p.text, p.quoted, p.offset] for p in w.parts]]


def _digest(s: Any) -> dict[str, Any]:
    from flyconf.sources import script as sc

    cmds = s.commands()
    index = {id(c): k for k, c in enumerate(cmds)}
    pipes: dict[int, int] = {}

    def ref(c: Any) -> Any:
        return index.get(id(c), [c.line, c.column, "?"])

    def node(n: Any) -> Any:
        base = [type(n).__name__, n.line, n.column, n.background, [[op, _word(w)] for op, w in n.redirects]]
        if isinstance(n, sc.Simple):
            return base + [ref(n.command)]
        if isinstance(n, sc.Pipeline):
            return base + [n.negated, [node(i) for i in n.items]]
        if isinstance(n, sc.AndOr):
            return base + [n.ops, [node(i) for i in n.items]]
        if isinstance(n, sc.If):
            return base + [[[[node(x) for x in c], [node(x) for x in b]] for c, b in n.branches],
                           None if n.orelse is None else [node(x) for x in n.orelse]]
        if isinstance(n, sc.Loop):
            return base + [n.kind, [node(x) for x in n.condition], [node(x) for x in n.body]]
        if isinstance(n, sc.Case):
            return base + [_word(n.subject), [[[_word(p) for p in ps], [node(x) for x in b]] for ps, b in n.branches]]
        if isinstance(n, sc.Group):
            return base + [n.kind, [node(x) for x in n.body]]
        if isinstance(n, sc.FuncDef):
            return base + [n.name, [node(x) for x in n.body]]
        if isinstance(n, sc.Arith):
            return base + [_word(n.word)]
        return base

    out_cmds = []
    for c in cmds:
        pipe = pipes.setdefault(c.pipeline, len(pipes)) if c.pipeline else 0
        ctx = [[x.kind, x.part, x.line, x.column, [ref(y) for y in x.condition], [ref(y) for y in x.prior],
                _word(x.subject), [_word(p) for p in x.patterns]] for x in c.context]
        out_cmds.append([c.line, c.column, c.background, c.negated, pipe, c.pipe_index, ctx,
                         [_word(w) for w in c.words], [[op, _word(w)] for op, w in c.redirects]])
    return {
        "shebang": s.shebang, "dialect": s.dialect,
        "commands": out_cmds,
        "tree": [node(n) for n in s.tree],
        "functions": sorted(s.functions),
        "bashisms": [[b.kind, b.line, b.column, b.end_line, b.end_column, b.text] for b in s.bashisms],
        "comments": [list(c) for c in s.comments],
        "heredocs": [list(h) for h in s.heredocs],
        "parse_error": s.parse_error,
    }


def _finding(d: Any) -> list[Any]:
    return [d.path, d.line, d.column, d.end_line, d.end_column, d.rule, d.message]


def dump(corpus: Path) -> dict[str, Any]:
    from flyconf.lint import run
    from flyconf.rules.scripts import check_start_script
    from flyconf.sources.script import parse_script

    scripts: dict[str, Any] = {}
    paths = [(str(p.relative_to(corpus)), p) for p in corpus_scripts(corpus)]
    paths += [(f"fixtures/{p.name}", p) for p in sorted(FIXTURES.iterdir())]
    for name, path in paths:
        s = parse_script(path.read_text(encoding="utf-8", errors="replace"), name)
        entry = _digest(s)
        entry["findings"] = [_finding(d) for d in check_start_script(s)]
        scripts[name] = entry
    report = run([corpus])
    lint = sorted(_finding(d) for d in report.diagnostics)
    inspect = subprocess.run([sys.executable, "-m", "flyconf", "inspect", "--format", "json", str(corpus)],
                             capture_output=True, text=True, cwd=REPO, env=ENV).stdout
    return {"scripts": scripts, "lint": lint, "inspect": json.loads(inspect) if inspect.strip() else None}


def compare(before: dict[str, Any], after: dict[str, Any]) -> None:
    rules = ("entrypoint-no-exec", "entrypoint-not-posix", "migration-skipped", "volume-not-writable")
    print("corpus lint, findings per rule (before -> after):")
    count = lambda rows, rule: sum(1 for r in rows if r[5] == rule)  # noqa: E731
    for rule in sorted({r[5] for r in before["lint"]} | {r[5] for r in after["lint"]}):
        b, a = count(before["lint"], rule), count(after["lint"], rule)
        if b != a or rule in rules:
            print(f"  {rule:32} {b:5} -> {a:5}")
    gone = [r for r in before["lint"] if r not in after["lint"]]
    new = [r for r in after["lint"] if r not in before["lint"]]
    for r in gone:
        print("  - " + json.dumps(r))
    for r in new:
        print("  + " + json.dumps(r))
    if before.get("inspect") != after.get("inspect"):
        print("inspect output differs")
    print("per script (check_start_script alone):")
    for name in sorted(set(before["scripts"]) | set(after["scripts"])):
        b, a = before["scripts"].get(name), after["scripts"].get(name)
        if b is None or a is None:
            print(f"  {name}: only in {'after' if b is None else 'before'}")
            continue
        for key in b:
            if b[key] != a.get(key):
                if key == "findings":
                    for r in b[key]:
                        if r not in a[key]:
                            print(f"  {name}: - {r[1]}:{r[2]}-{r[3]}:{r[4]} {r[5]}: {r[6][:100]}")
                    for r in a[key]:
                        if r not in b[key]:
                            print(f"  {name}: + {r[1]}:{r[2]}-{r[3]}:{r[4]} {r[5]}: {r[6][:100]}")
                else:
                    print(f"  {name}: {key} differs")


# -- timing ----------------------------------------------------------------------------------------

def timing(corpus: Path, rounds: int) -> None:
    from flyconf.rules.scripts import check_start_script
    from flyconf.sources.script import parse_script

    texts = [p.read_text(encoding="utf-8", errors="replace") for p in corpus_scripts(corpus)]
    for t in texts:  # warm-up (the parser's first use loads its grammar)
        parse_script(t, "x")
    per_script = []
    for t in texts:
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            parse_script(t, "x")
            samples.append(time.perf_counter() - start)
        per_script.append(statistics.median(samples))
    totals = []
    for _ in range(rounds):
        start = time.perf_counter()
        for t in texts:
            check_start_script(parse_script(t, "x"))
        totals.append(time.perf_counter() - start)
    errors = sum(1 for t in texts if parse_script(t, "x").parse_error is not None)
    size = sum(len(t.encode()) for t in texts)
    print(f"{len(texts)} corpus start scripts, {size / 1024:.0f} KiB, {rounds} rounds")
    print(f"parse per script: median {statistics.median(per_script) * 1e3:.3f} ms, "
          f"max {max(per_script) * 1e3:.3f} ms, sum {sum(per_script) * 1e3:.1f} ms")
    print(f"parse + check_start_script, all scripts: median {statistics.median(totals) * 1e3:.1f} ms")
    print(f"scripts with parse_error: {errors}")
    probe = ("import time\n"
             "def rss():\n"
             "    for line in open('/proc/self/status'):\n"
             "        if line.startswith('VmRSS:'):\n"
             "            return int(line.split()[1])\n"
             "    return 0\n"
             "r = rss(); t = time.perf_counter()\n"
             "from flyconf.sources.script import parse_script\n"
             "parse_script('exec \"$@\"\\n', 'x')\n"
             "print(time.perf_counter() - t, rss() - r)\n")
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, env=ENV)
            .stdout.split() for _ in range(rounds)]
    secs = statistics.median(float(r[0]) for r in runs)
    kib = statistics.median(int(r[1]) for r in runs)
    print(f"first parse in a fresh process (import of the reader + grammar + one parse): {secs * 1e3:.1f} ms, "
          f"resident memory +{kib} KiB")


# -- tree-sitter-bash, for comparison ----------------------------------------------------------------

_REDIRECTS = {"file_redirect", "heredoc_redirect", "herestring_redirect"}
_EXPRESSIONS = {"binary_expression", "unary_expression", "parenthesized_expression", "ternary_expression",
                "postfix_expression"}

# Valid POSIX sh that tree-sitter-bash 0.23.3 and 0.25.1 read wrongly. The second text is the same script
# written as tree-sitter-bash reads it, so that flyconf's rules can show what the misreading would change.
PROBES = [
    ("a word `$A.vm.$B.internal` (Fly's private-network names)",
     "exec x --host $FLY_ALLOC_ID.vm.$FLY_APP_NAME.internal\n", None),
    ("a redirection before the command's words",
     "#!/bin/sh\nnode worker.js &\nexec >>/data/log 2>&1 node server.js\n",
     "#!/bin/sh\nnode worker.js &\nexec >>/data/log 2>&1\n"),
    ("a newline after a pipeline of three (tree-sitter-bash #347)",
     "#!/bin/sh\nls -la /data | grep sqlite | head -5\nnpx prisma migrate deploy && exec node server.js\n",
     "#!/bin/sh\nls -la /data | { grep sqlite | head -5 npx prisma migrate deploy && exec node server.js; }\n"),
    ("`;` after a here-document's delimiter (tree-sitter-bash #346)",
     '#!/bin/sh\ncat <<EOF; chmod 600 /app/.env\nDATABASE_URL=file:/data/db.sqlite\nEOF\n'
     'if [[ "$1" == web ]]; then npx prisma migrate deploy; fi\nnode server.js\n',
     "#!/bin/sh\ncat\n"),
]


def _ts_parser() -> Any:
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def _ts_commands(parser: Any, text: str) -> tuple[list[tuple[tuple[int, int], list[str]]], bool]:
    """The simple commands tree-sitter-bash reads (position in characters, words as written), and whether
    its tree has an ERROR node. ``[ ]``/``[[ ]]`` are read back into words; here-document bodies are data."""
    data = text.encode()
    out: list[tuple[tuple[int, int], list[str]]] = []

    def pos(start: int) -> tuple[int, int]:
        line_start = data.rfind(b"\n", 0, start) + 1
        return data.count(b"\n", 0, start) + 1, len(data[line_start:start].decode(errors="replace")) + 1

    def leaves(n: Any, acc: list[Any]) -> None:
        if n.type in _EXPRESSIONS:
            for c in n.children:
                leaves(c, acc)
        else:
            acc.append(n)

    def visit(n: Any) -> None:
        if n.type == "heredoc_body":
            return
        spans: list[tuple[int, int]] = []
        if n.type == "command":
            spans = [(c.start_byte, c.end_byte) for i, c in enumerate(n.children)
                     if c.type in ("command_name", "variable_assignment") or n.field_name_for_child(i) == "argument"]
        elif n.type == "variable_assignment" and n.parent.type not in ("command", "declaration_command",
                                                                          "variable_assignments"):
            spans = [(n.start_byte, n.end_byte)]
        elif n.type in ("variable_assignments", "declaration_command", "unset_command"):
            spans = [(c.start_byte, c.end_byte) for c in n.children if c.type not in _REDIRECTS | {"comment"}]
        elif n.type == "test_command":
            acc: list[Any] = []
            for c in n.children:
                leaves(c, acc)
            for c in acc:  # tokens written together are one word
                if spans and spans[-1][1] == c.start_byte:
                    spans[-1] = (spans[-1][0], c.end_byte)
                else:
                    spans.append((c.start_byte, c.end_byte))
        if spans:
            out.append((pos(spans[0][0]), [data[a:b].decode(errors="replace") for a, b in spans]))
        for c in n.children:
            visit(c)

    tree = parser.parse(data)
    visit(tree.root_node)
    return sorted(out), tree.root_node.has_error


def _shell_texts(corpus: Path) -> list[tuple[str, str]]:
    from flyconf.sources.dockerfile import parse_dockerfile

    texts = [(str(p.relative_to(corpus)), p.read_text(encoding="utf-8", errors="replace"))
             for p in corpus_scripts(corpus)]
    for p in sorted(corpus.rglob("*Dockerfile*")):
        if not p.is_file():
            continue
        df = parse_dockerfile(p.read_text(encoding="utf-8", errors="replace"), str(p))
        for ins in getattr(df, "instructions", ()):
            if ins.cmd in ("RUN", "CMD", "ENTRYPOINT") and not ins.json:
                texts.append((f"{p.relative_to(corpus)}:{ins.start_line}", ins.shell_text))
    return texts


def treesitter(corpus: Path, rounds: int) -> int:
    try:
        parser = _ts_parser()
    except ImportError:
        print("tree-sitter and tree-sitter-bash are not installed", file=sys.stderr)
        return 2
    from importlib.metadata import version

    from flyconf.rules.scripts import check_start_script
    from flyconf.sources.script import parse_script

    print(f"tree-sitter {version('tree-sitter')}, tree-sitter-bash {version('tree-sitter-bash')}")
    scripts = [p.read_text(encoding="utf-8", errors="replace") for p in corpus_scripts(corpus)]
    errors = sum(1 for t in scripts if parser.parse(t.encode()).root_node.has_error)
    print(f"{len(scripts)} corpus start scripts: {errors} with an ERROR node")

    def walk(n: Any) -> int:
        return 1 + sum(walk(c) for c in n.children)

    for label, fn in (("tree-sitter-bash parse", lambda t: parser.parse(t.encode())),
                      ("tree-sitter-bash parse + visiting every node",
                       lambda t: walk(parser.parse(t.encode()).root_node)),
                      ("flyconf's reader (parse_script)", lambda t: parse_script(t, "x"))):
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            for t in scripts:
                fn(t)
            samples.append(time.perf_counter() - start)
        print(f"  {label:46} all scripts: median {statistics.median(samples) * 1e3:7.1f} ms")
    probe = ("import time; t = time.perf_counter(); import tree_sitter, tree_sitter_bash;"
             "tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language())); print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV).stdout)
            for _ in range(rounds)]
    print(f"  importing tree_sitter + tree_sitter_bash and loading the grammar: {statistics.median(runs) * 1e3:.1f} ms")

    texts = _shell_texts(corpus)
    differ = 0
    print(f"simple commands read differently ({len(texts)} texts: start scripts, then Dockerfile shell forms):")
    for name, text in texts:
        ours = sorted(((c.line, c.column), [w.text for w in c.words]) for c in parse_script(text, "x").commands())
        theirs, has_error = _ts_commands(parser, text)
        if ours == theirs:
            continue
        differ += 1
        print(f"  {name}{' (ERROR node)' if has_error else ''}")
        for row in ours:
            if row not in theirs:
                print(f"    flyconf     {row[0][0]}:{row[0][1]} {row[1]}")
        for row in theirs:
            if row not in ours:
                print(f"    tree-sitter {row[0][0]}:{row[0][1]} {row[1]}")
    print(f"  {differ} of {len(texts)} texts differ")
    print("probes (valid POSIX sh):")
    for what, text, as_read in PROBES:
        commands, has_error = _ts_commands(parser, text)
        print(f"  {what}: ERROR node: {has_error}")
        ours = [[w.text for w in c.words] for c in parse_script(text, "x").commands()]
        print(f"    flyconf reads     {ours}")
        print(f"    tree-sitter reads {[words for _, words in commands]}")
        if as_read is not None:
            for label, src in (("as written", text), ("as tree-sitter reads it", as_read)):
                found = [f"{d.code} {d.line}:{d.column}" for d in check_start_script(parse_script(src, "x"))]
                print(f"    findings {label}: {found}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--compare", type=Path, nargs=2)
    parser.add_argument("--treesitter", action="store_true")
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        compare(before, after)
        return 0
    if not args.corpus.is_dir():
        print(f"{args.corpus} is absent", file=sys.stderr)
        return 2
    if args.treesitter:
        return treesitter(args.corpus, args.rounds)
    if args.dump:
        args.dump.write_text(json.dumps(dump(args.corpus), indent=0))
        return 0
    timing(args.corpus, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
