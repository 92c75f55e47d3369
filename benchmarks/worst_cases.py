"""Time flyconf on generated worst cases at growing sizes, and print how the time grows.

    python benchmarks/worst_cases.py [--scale 1.0] [--only NAME]

Each case is an input shape that once took quadratic time or worse (issue 13): many `{` in a shell
word, many suppression comments, a long command split like a shell, many process groups with a
mount each, chains of Dockerfile ENV values. Each size runs in a child process; a ratio near 2 for a
doubled size is linear, near 4 quadratic. A measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# name -> (filename, Python expression of the text for size n, base size)
CASES: dict[str, tuple[str, str, int]] = {
    "braces in a sh -c word": (
        "fly.toml", "'[processes]\\napp = \"sh -c \\'echo a' + '{' * n + '\\'\"\\n'", 20_000),
    "own-line suppressions (fly.toml)": (
        "fly.toml", "'[env]\\n' + ''.join(f'# flyconf: ignore[FC402]\\nK{i} = \"1\"\\n' for i in range(n))", 10_000),
    "suppressions (Dockerfile)": (
        "Dockerfile", "'FROM x\\n' + ''.join(f'# flyconf: ignore[FC402]\\nRUN x{i}\\n' for i in range(n))", 10_000),
    "long shell-form CMD word": (
        "Dockerfile", "'FROM x\\nCMD node ' + ('a' * 50_000 + '\\\\\\n') * (n // 50_000) + 'a\\n'", 400_000),
    "process groups with a mount each": (
        "fly.toml", "'[processes]\\n' + ''.join(f'g{i} = \"x\"\\n' for i in range(n)) + ''.join("
                    "f'[[mounts]]\\nsource = \"d{i}\"\\ndestination = \"/data\"\\nprocesses = [\"g{i}\"]\\n'"
                    " for i in range(n))", 800),
    "chained ENV values": (
        "Dockerfile", "'FROM x\\n' + ''.join(f'ENV V{i}=$V{i - 1}x\\n' for i in range(n)) + 'CMD [\"x\"]\\n'", 4_000),
}

CHILD = """
import sys, time
from flyconf.lint import lint_text
n = int(sys.argv[1])
text = {expr}
lint_text("app = 'x'\\n", "fly.toml")  # imports and schema loading are not what is measured
lint_text("FROM x\\nCMD x\\n", "Dockerfile")
start = time.perf_counter()
lint_text(text, {name!r})
print(time.perf_counter() - start)
"""


def run(name: str, expr: str, n: int) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", CHILD.format(expr=expr, name=name), str(n)],
                          capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"{name} n={n} failed:\n{proc.stderr[-2000:]}")
    return float(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every base size")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    for label, (filename, expr, base) in CASES.items():
        if args.only and args.only not in label:
            continue
        sizes = [max(1, int(base * args.scale * k)) for k in (1, 2, 4)]
        times = [run(filename, expr, n) for n in sizes]
        ratios = " ".join(f"x{later / earlier:.1f}" for earlier, later in zip(times, times[1:], strict=False))
        shown = ", ".join(f"n={n}: {t:.2f}s" for n, t in zip(sizes, times, strict=True))
        print(f"{label:36} {shown}  growth per doubling {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
