"""Time flyconf against its peers in one run, on this machine, and print medians and ratios.

    python benchmarks/bench.py [--rounds N] [--corpus ../shared/corpus]

Peers (measured only when installed): hadolint (Dockerfiles), check-jsonschema (fly.toml against
flyconf's own schema), and `python -c pass` as the floor for any Python tool. Rounds are
interleaved so that machine noise hits every command alike. This is a measurement, not a test:
the machines are shared and noisy, so no threshold is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# As installed: byte-code caches on (some sandboxes set PYTHONDONTWRITEBYTECODE, which would make
# every Python run recompile its sources and measure the compiler instead of the tool).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    args = parser.parse_args()
    flyconf = [sys.executable, "-m", "flyconf"]
    example = REPO / "examples" / "notes-app"
    cases: dict[str, list[str]] = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "flyconf --version": [*flyconf, "--version"],
        "flyconf lint example (fly.toml + Dockerfile)": [*flyconf, "lint", "--exit-zero", str(example)],
    }
    hadolint = shutil.which("hadolint")
    cjs = shutil.which("check-jsonschema")
    schema = REPO / "schemas" / "fly.schema.json"
    if hadolint:
        cases["hadolint --version"] = [hadolint, "--version"]
        cases["hadolint example Dockerfile"] = [hadolint, "--no-fail", str(example / "Dockerfile")]
    if cjs:
        cases["check-jsonschema --version"] = [cjs, "--version"]
        cases["check-jsonschema example fly.toml"] = [cjs, "--schemafile", str(schema), str(example / "fly.toml")]
    if args.corpus.is_dir():
        tomls = sorted(str(p) for p in args.corpus.rglob("fly*.toml"))
        dockerfiles = sorted(str(p) for p in args.corpus.rglob("Dockerfile"))
        cases[f"flyconf lint corpus ({len(tomls)} fly.toml, {len(dockerfiles)} Dockerfiles, scripts)"] = [
            *flyconf, "lint", "--exit-zero", "--format", "json", str(args.corpus)]
        if hadolint:
            cases[f"hadolint corpus ({len(dockerfiles)} Dockerfiles, one call)"] = [hadolint, "--no-fail", *dockerfiles]
        if cjs:
            parseable = [t for t in tomls if _parses(t)]
            cases[f"check-jsonschema corpus ({len(parseable)} fly.toml, one call)"] = [
                cjs, "--schemafile", str(schema), *parseable]
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for cmd in cases.values():  # warm-up: byte-code caches, disk cache
        timed(cmd, REPO)
    for _ in range(args.rounds):
        for name, cmd in cases.items():
            samples[name].append(timed(cmd, REPO))
    width = max(len(n) for n in cases)
    print(f"{'command':<{width}}  median    IQR")
    for name, values in samples.items():
        values.sort()
        q1, q3 = values[len(values) // 4], values[(3 * len(values)) // 4]
        print(f"{name:<{width}}  {statistics.median(values) * 1000:7.1f} ms  {q1 * 1000:.1f}-{q3 * 1000:.1f}")
    return 0


def _parses(path: str) -> bool:
    import tomllib

    try:
        tomllib.loads(Path(path).read_text())
        return True
    except Exception:  # noqa: BLE001
        return False


if __name__ == "__main__":
    sys.exit(main())
