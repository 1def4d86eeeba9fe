"""Reasons with predictions: explained rows/s of the real server against CatBoost's own ShapValues.

    python benchmarks/explain.py [--seconds 10] [--connections 4] [--baseline DIR]

Trains the demo model, then drives `python -m releaseml serve` with wrk on 127.0.0.1 and prints,
for 1-row and 10,000-row CSV requests, rows/s with `Accept: text/csv; explain=3` next to CatBoost
computing ShapValues in-process on the same, already parsed rows (the plain way, and the ceiling),
the same requests without `explain`, and the server's /ping rate. With --baseline (a checkout of
an earlier commit), that commit's server answers the plain requests too, in alternating runs, so
a plain request's speed before and after is compared on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from serving import BIG_ROWS, timed, train, wrk  # noqa: E402

from releaseml.common.layout import ML_ROOT_ENV  # noqa: E402
from releaseml.data.schema import model_frame  # noqa: E402
from releaseml.local import engines  # noqa: E402
from releaseml.model import bundle  # noqa: E402
from releaseml.serving import client  # noqa: E402

REASONS = 3
PORT = 18090


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, to compare plain requests with")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="releaseml-explain-"))
    model_dir = train(work)
    features = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None)
    single = features.iloc[:1].to_csv(index=False, header=False)
    big = pd.concat([features] * (BIG_ROWS // len(features) + 1)).iloc[:BIG_ROWS].to_csv(index=False, header=False)
    print(f"CPU cores: {os.cpu_count()}; wrk with {args.connections} connections, {args.seconds}s per run; {REASONS} reasons per row\n")

    ceiling = in_process(model_dir, single, big)
    explain = {"Accept": f"text/csv; explain={REASONS}"}
    runs = {
        "explained": {"single": (single, explain), "big": (big, explain)},
        "plain": {"single": (single, {}), "big": (big, {}), "ping": (None, {})},
    }
    ours = drive(REPO, work, runs, args)
    before = []
    if args.baseline:
        for _ in range(2):  # alternate: this commit, the baseline, this commit, the baseline
            before.append(drive(args.baseline.resolve(), work, {"plain": runs["plain"]}, args)["plain"])
            ours_again = drive(REPO, work, {"plain": runs["plain"]}, args)["plain"]
            for kind in ours["plain"]:
                ours["plain"][kind]["rps"] = max(ours["plain"][kind]["rps"], ours_again[kind]["rps"])
    report(ceiling, ours, before)


def in_process(model_dir: Path, single: str, big: str) -> dict:
    """CatBoost's ShapValues on already-parsed rows: what a user would call, and the ceiling."""
    model = bundle.load(model_dir)
    names = model.schema.features
    one = model_frame(pd.read_csv(io.StringIO(single), header=None, names=names), model.schema).values.tolist()
    many = model_frame(pd.read_csv(io.StringIO(big), header=None, names=names), model.schema)
    return {"single": 1 / timed(lambda: model.shap_values(one), 500), "big": 1 / timed(lambda: model.shap_values(many), 10)}


def drive(checkout: Path, work: Path, runs: dict, args) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        ML_ROOT_ENV: str(work / "opt_ml"),
        "SAGEMAKER_BIND_TO_PORT": str(PORT),
        "RELEASEML_HOST": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "releaseml", "serve"], cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        client.wait_until_ready(f"http://127.0.0.1:{PORT}", is_alive=lambda: server.poll() is None)
        return {
            group: {kind: wrk(PORT, body, work / f"{group}-{kind}.lua", args, headers) for kind, (body, headers) in kinds.items()}
            for group, kinds in runs.items()
        }
    finally:
        engines.stop(server)


def report(ceiling: dict, ours: dict, before: list[dict]) -> None:
    print(f"GET /ping (the HTTP limit): {ours['plain']['ping']['rps']:.1f} req/s\n")
    for kind, rows, title in (("single", 1, "1-row requests"), ("big", BIG_ROWS, f"{BIG_ROWS:,}-row CSV requests")):
        explained, plain = ours["explained"][kind], ours["plain"][kind]
        print(title)
        print(f"  in-process ShapValues          {ceiling[kind] * rows:11,.0f} rows/s")
        print(
            f"  server, explain={REASONS}             {explained['rps'] * rows:11,.0f} rows/s  "
            f"{explained['rps'] * rows / (ceiling[kind] * rows):6.1%} of in-process  p50 {explained['p50']:.2f} ms  p99 {explained['p99']:.2f} ms"
        )
        print(f"  server, no explain             {plain['rps'] * rows:11,.0f} rows/s  p50 {plain['p50']:.2f} ms")
        if kind == "single":
            print(f"  (explained 1-row requests are {explained['rps'] / ours['plain']['ping']['rps']:.0%} of the /ping rate)")
        if before:
            best = max(run[kind]["rps"] for run in before)
            print(f"  baseline commit, no explain    {best * rows:11,.0f} rows/s  (this commit: {plain['rps'] / best:.2f}x)")
        print()


if __name__ == "__main__":
    main()
