"""Training cost: `invoke train-local` against CatBoost used directly, from CSV and from Parquet.

    python benchmarks/training.py [--rows 200000 800000] [--iterations 300]

Makes a table of 21 columns (14 numbers, 6 text categories, a binary target), writes it as CSV
and as Parquet, and trains at each size four ways, each in a fresh process:
  - `invoke train-local --engine process` on the CSV file, and on the Parquet file;
  - the plain way a user would do it (benchmarks/catboost_direct.py): pandas reads the file,
    the text columns are made strings, 20% held out, CatBoost fits with the same parameters.
It prints wall time and peak memory (the largest process's peak RSS: train-local's training
process, or the plain script), and the ratios of releaseml to CatBoost directly.
releaseml's time includes what it adds: typing the data, the profile, the report and its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
# Runs a command and reports its wall time and the peak RSS of its largest descendant process.
MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if done.returncode:
    sys.exit(done.stderr[-3000:])
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": peak_kb / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 800_000])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        help="early_stopping_rounds for both (default: off, so both train exactly --iterations trees)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="releaseml-training-bench-"))
    stopping = args.early_stopping or args.iterations  # never reached: the same number of trees both ways
    shown = f"early stopping after {args.early_stopping}" if args.early_stopping else "no early stopping (the same trees both ways)"
    print(f"CPU cores: {os.cpu_count()}; {args.iterations} iterations, {shown}, seed 0\n")
    print(f"{'rows':>9} {'file':8} {'MB':>6} {'way':18} {'seconds':>8} {'peak MB':>8} {'time ratio':>10} {'memory ratio':>12}")
    for rows in args.rows:
        files = make_data(work, rows)
        for kind, path in files.items():
            direct = measure(
                [sys.executable, str(REPO / "benchmarks" / "catboost_direct.py"), str(path), str(args.iterations), str(stopping)]
            )
            ours = measure(*train_local(work, path, args.iterations, stopping))
            size = path.stat().st_size / 1e6
            print(f"{rows:9,} {kind:8} {size:6.0f} {'CatBoost directly':18} {direct['seconds']:8.1f} {direct['peak_mb']:8.0f}")
            print(
                f"{rows:9,} {kind:8} {size:6.0f} {'releaseml':18} {ours['seconds']:8.1f} {ours['peak_mb']:8.0f} "
                f"{ours['seconds'] / direct['seconds']:9.2f}x {ours['peak_mb'] / direct['peak_mb']:11.2f}x"
            )


def make_data(work: Path, rows: int) -> dict[str, Path]:
    rng = np.random.default_rng(rows)
    numbers = {f"x{i}": rng.normal(size=rows).round(4) for i in range(14)}
    categories = {f"c{i}": rng.choice([f"v{k}" for k in range(5 + 10 * i)], rows) for i in range(6)}
    score = numbers["x0"] + 0.5 * numbers["x1"] - numbers["x2"] * numbers["x3"] + (categories["c0"] == "v1") + rng.normal(0, 0.5, rows)
    frame = pd.DataFrame({**numbers, **categories, "target": np.where(score > 0.3, "yes", "no")})
    frame.loc[rng.random(rows) < 0.02, "x4"] = np.nan  # some missing values, as real data has
    files = {"CSV": work / f"data-{rows}.csv", "Parquet": work / f"data-{rows}.parquet"}
    frame.to_csv(files["CSV"], index=False)
    frame.to_parquet(files["Parquet"])
    return files


def train_local(work: Path, data: Path, iterations: int, early_stopping: int) -> tuple[list[str], Path]:
    project = work / f"project-{data.stem}-{data.suffix[1:]}"
    project.mkdir(exist_ok=True)
    (project / "releaseml.yaml").write_text(
        f"target: target\nseed: 0\ncatboost: {{iterations: {iterations}, early_stopping_rounds: {early_stopping}}}\n", encoding="utf-8"
    )
    command = [sys.executable, "-m", "invoke", "--search-root", str(REPO), "train-local", "--data", str(data), "--ml-root", "ml"]
    return [*command, "--engine", "process"], project


def measure(command: list[str], cwd: Path | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, cwd=cwd)
    if done.returncode:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{done.stderr}")
    return json.loads(done.stdout)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
