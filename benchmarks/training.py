"""Training cost: `invoke train-local` against CatBoost used directly, in alternating rounds.

    python benchmarks/training.py [--rows 54000] [--iterations 300] [--rounds 3] [--formats csv parquet]
                                  [--baseline DIR] [--early-stopping R]

The issue's two sizes (each takes about 40 s a run on this project's 2-core machine; run at low
priority beside other work, `nice -n 5`):

    python benchmarks/training.py --rows 1000000 --iterations 100 --rounds 5 --baseline /work/baseline
    python benchmarks/training.py --rows 54000 --iterations 1000 --rounds 5 --baseline /work/baseline

Makes a table of 21 columns (14 numbers, 6 text categories, a binary target), writes it as CSV (and
Parquet), and trains it, each in a fresh process:
  - `invoke train-local --engine process --verbose` (releaseml, as a user runs it);
  - the plain way a user would do it (benchmarks/catboost_direct.py): pandas reads the file, the
    text columns are made strings, 20% held out, CatBoost fits with the same parameters;
  - with --baseline, `invoke train-local` of another checkout (PYTHONPATH=DIR), e.g. the code
    before a change, so that before, after and CatBoost directly come from one run.
Each round runs every way once, in turn, the order reversed every other round (this machine's speed
drifts by 2x over minutes, so only ways measured side by side compare). For each way it prints the
medians over the rounds of wall seconds, CPU seconds (every process and thread: steadier than wall
time on a shared machine) and peak memory (the largest process's peak RSS: the training process,
or the plain script), and the medians of each round's ratios to CatBoost directly. Then the stages
of releaseml's run (its `#releaseml stage` lines, medians) beside the plain way's steps; what is
outside the stages is starting the processes, imports, the config and copying the data into the run.
Early stopping is off unless asked for, so all ways train the same number of trees.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
# Runs a command and reports its wall time, its processes' CPU time, the peak RSS of its largest
# process, and what it printed.
MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode:
    sys.exit(done.stderr[-3000:] + done.stdout[-3000:])
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": used.ru_utime + used.ru_stime,
                  "peak_mb": used.ru_maxrss / 1024, "log": done.stdout}))
"""
STAGE_LINE = re.compile(r"^#(?:releaseml|direct) stage (?P<name>.+?): wall (?P<wall>[0-9.]+) s, CPU (?P<cpu>[0-9.]+) s")
DIRECT = "CatBoost directly"
OURS = "releaseml"
BEFORE = "releaseml before"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[54_000], help="table sizes (default 54000)")
    parser.add_argument("--iterations", type=int, default=300, help="trees (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are shown (default 3)")
    parser.add_argument("--formats", nargs="+", choices=["csv", "parquet"], default=["csv"], help="file formats (default csv)")
    parser.add_argument("--baseline", type=Path, help="another checkout of releaseml (e.g. before a change) to time beside")
    parser.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        help="early_stopping_rounds for all (default: off, so all train exactly --iterations trees)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="releaseml-training-bench-"))
    stopping = args.early_stopping or args.iterations  # never reached: the same number of trees every way
    shown = f"early stopping after {args.early_stopping}" if args.early_stopping else "no early stopping (the same trees every way)"
    print(f"CPU cores: {os.cpu_count()}; {args.iterations} iterations, {shown}, seed 0; {args.rounds} alternating rounds, medians\n")
    for rows in args.rows:
        files = make_data(work, rows, args.formats)
        for kind, path in files.items():
            ways = {DIRECT: direct_command(path, args.iterations, stopping)}
            ways[OURS] = train_local(REPO, work, path, args.iterations, stopping)
            if args.baseline:
                ways[BEFORE] = train_local(args.baseline.resolve(), work, path, args.iterations, stopping)
            runs = alternating(ways, args.rounds)
            report(rows, kind, path, runs)


def make_data(work: Path, rows: int, formats: list[str]) -> dict[str, Path]:
    rng = np.random.default_rng(rows)
    numbers = {f"x{i}": rng.normal(size=rows).round(4) for i in range(14)}
    categories = {f"c{i}": rng.choice([f"v{k}" for k in range(5 + 10 * i)], rows) for i in range(6)}
    score = numbers["x0"] + 0.5 * numbers["x1"] - numbers["x2"] * numbers["x3"] + (categories["c0"] == "v1") + rng.normal(0, 0.5, rows)
    frame = pd.DataFrame({**numbers, **categories, "target": np.where(score > 0.3, "yes", "no")})
    frame.loc[rng.random(rows) < 0.02, "x4"] = np.nan  # some missing values, as real data has
    files = {}
    if "csv" in formats:
        files["CSV"] = work / f"data-{rows}.csv"
        frame.to_csv(files["CSV"], index=False)
    if "parquet" in formats:
        files["Parquet"] = work / f"data-{rows}.parquet"
        frame.to_parquet(files["Parquet"])
    return files


def direct_command(data: Path, iterations: int, early_stopping: int) -> tuple[list[str], Path | None, dict]:
    script = REPO / "benchmarks" / "catboost_direct.py"
    return [sys.executable, str(script), str(data), str(iterations), str(early_stopping)], None, {}


def train_local(checkout: Path, work: Path, data: Path, iterations: int, early_stopping: int) -> tuple[list[str], Path, dict]:
    """`invoke train-local` of a checkout, in a project of its own (so each way's runs stay apart)."""
    project = work / f"project-{data.stem}-{data.suffix[1:]}-{'ours' if checkout == REPO else 'baseline'}"
    project.mkdir(exist_ok=True)
    (project / "releaseml.yaml").write_text(
        f"target: target\nseed: 0\ncatboost: {{iterations: {iterations}, early_stopping_rounds: {early_stopping}}}\n", encoding="utf-8"
    )
    command = [sys.executable, "-m", "invoke", "--search-root", str(checkout), "train-local", "--data", str(data), "--ml-root", "ml"]
    return [*command, "--engine", "process", "--verbose"], project, {"PYTHONPATH": str(checkout)}


def alternating(ways: dict[str, tuple], rounds: int) -> dict[str, list[dict]]:
    """Every way once per round, in turn; every other round in the reverse order."""
    runs: dict[str, list[dict]] = {name: [] for name in ways}
    for round_number in range(rounds):
        order = list(ways) if round_number % 2 == 0 else list(reversed(ways))
        for name in order:
            runs[name].append(measure(*ways[name]))
    return runs


def measure(command: list[str], cwd: Path | None, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, cwd=cwd, env={**os.environ, **env})
    if done.returncode:
        raise SystemExit(f"{' '.join(command[:6])} failed:\n{done.stderr}")
    measured = json.loads(done.stdout)
    measured["stages"] = stages(measured.pop("log"))
    return measured


def stages(log: str) -> dict[str, dict[str, float]]:
    """The stage lines of a log, summed by name (a stage may run more than once: a second training)."""
    found: dict[str, dict[str, float]] = {}
    for line in log.splitlines():
        match = STAGE_LINE.match(line.strip())
        if match:
            total = found.setdefault(match["name"], {"wall": 0.0, "cpu": 0.0})
            total["wall"] += float(match["wall"])
            total["cpu"] += float(match["cpu"])
    return found


def report(rows: int, kind: str, path: Path, runs: dict[str, list[dict]]) -> None:
    size = path.stat().st_size / 1e6
    print(f"{rows:,} rows, {kind} ({size:.0f} MB)")
    print(f"  {'way':18} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'wall ratio':>10} {'CPU ratio':>10} {'memory ratio':>12}")
    direct = runs[DIRECT]
    for name, measured in runs.items():
        line = f"  {name:18} {median(measured, 'seconds'):7.1f} {median(measured, 'cpu'):7.1f} {median(measured, 'peak_mb'):8.0f}"
        if name != DIRECT:
            ratios = [ratio(measured, direct, key) for key in ("seconds", "cpu", "peak_mb")]
            line += f" {ratios[0]:9.2f}x {ratios[1]:9.2f}x {ratios[2]:11.2f}x"
        print(line)
    print(f"  (ratios: the median of the {len(direct)} rounds' ratios; each round ran every way once, side by side)")
    print_stages(runs[OURS], direct)
    print()


def print_stages(ours: list[dict], direct: list[dict]) -> None:
    """releaseml's stages and CatBoost directly's steps, medians over the rounds."""
    print(f"\n  {'releaseml stage':28} {'wall s':>7} {'CPU s':>7}    {'CatBoost directly':18} {'wall s':>7} {'CPU s':>7}")
    ours_stages, direct_stages = stage_medians(ours), stage_medians(direct)
    ours_stages["(outside the stages)"] = outside(ours)
    direct_stages["(outside the steps)"] = outside(direct)
    left, right = list(ours_stages.items()), list(direct_stages.items())
    for index in range(max(len(left), len(right))):
        line = f"  {left[index][0]:28} {left[index][1]['wall']:7.2f} {left[index][1]['cpu']:7.2f}" if index < len(left) else " " * 46
        if index < len(right):
            line += f"    {right[index][0]:18} {right[index][1]['wall']:7.2f} {right[index][1]['cpu']:7.2f}"
        print(line)


def stage_medians(measured: list[dict]) -> dict[str, dict[str, float]]:
    names = list(dict.fromkeys(name for run in measured for name in run["stages"]))
    return {
        name: {key: statistics.median(run["stages"].get(name, {}).get(key, 0.0) for run in measured) for key in ("wall", "cpu")}
        for name in names
    }


def outside(measured: list[dict]) -> dict[str, float]:
    """What each run took beyond its stages (process starts, imports, the config, staging), median over runs."""
    return {
        key: statistics.median(run[total] - sum(stage[key] for stage in run["stages"].values()) for run in measured)
        for key, total in (("wall", "seconds"), ("cpu", "cpu"))
    }


def median(measured: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in measured)


def ratio(measured: list[dict], reference: list[dict], key: str) -> float:
    return statistics.median(run[key] / other[key] for run, other in zip(measured, reference))


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"(total {time.perf_counter() - started:.0f} s)")
