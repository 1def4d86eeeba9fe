"""Serving speed: requests/s and latency of the real server, against two references.

    python benchmarks/serving.py [--seconds 10] [--connections 4] [--rounds 3]

Trains the demo model (penguins species, default config), then drives with wrk
(Debian package `wrk`) on 127.0.0.1:
  - releaseml's server (`python -m releaseml serve`), with 1 and with 2 worker processes,
  - a minimal Falcon + waitress handler that parses CSV with pandas and calls
    predict_proba (benchmarks/naive_app.py), the usual bring-your-own-container way,
and prints requests/s, p50/p99 latency and rows/s for single-row requests and for
10,000-row CSV requests, next to CatBoost predicting the same rows in-process and to each
server's own GET /ping rate (the most a request can get through HTTP on this machine).
Each server gets `--rounds` rounds of the three kinds of run, alternating; medians are printed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from releaseml.common.layout import ML_ROOT_ENV  # noqa: E402
from releaseml.data.schema import model_frame  # noqa: E402
from releaseml.local import engines  # noqa: E402
from releaseml.model import bundle  # noqa: E402
from releaseml.serving import client  # noqa: E402

BIG_ROWS = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each kind per server, alternating; medians are printed")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="releaseml-bench-"))
    model_dir = train(work)
    features = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None)
    single = features.iloc[:1].to_csv(index=False, header=False)
    big = pd.concat([features] * (BIG_ROWS // len(features) + 1)).iloc[:BIG_ROWS].to_csv(index=False, header=False)

    print(f"CPU cores: {os.cpu_count()}; wrk with {args.connections} connections, {args.seconds}s per run\n")
    results = {"in-process CatBoost": in_process(model_dir, single, big)}
    serve = [sys.executable, "-m", "releaseml", "serve"]
    for name, command, workers in (
        ("releaseml, 1 worker", serve, 1),
        ("releaseml, 2 workers", serve, 2),
        ("naive falcon+pandas", [sys.executable, str(REPO / "benchmarks" / "naive_app.py")], 1),
    ):
        results[name] = drive(command, work, {"ping": None, "single": single, "big": big}, args, workers)
    report(results)


def train(work: Path) -> Path:
    root = work / "opt_ml"
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "hyperparameters.json").write_text('{"target": "species"}')
    (root / "input" / "data" / "training").mkdir(parents=True)
    shutil.copy(REPO / "data" / "penguins.csv", root / "input" / "data" / "training")
    subprocess.run(
        [sys.executable, "-m", "releaseml", "train"], env={**os.environ, ML_ROOT_ENV: str(root)}, check=True, stdout=subprocess.DEVNULL
    )
    return root / "model"


def in_process(model_dir: Path, single: str, big: str) -> dict:
    """The ceiling: CatBoost's own predict on already-parsed rows."""
    import io

    model = bundle.load(model_dir)
    names = model.schema.features
    one = model_frame(pd.read_csv(io.StringIO(single), header=None, names=names), model.schema)
    many = model_frame(pd.read_csv(io.StringIO(big), header=None, names=names), model.schema)
    return {
        "single": {"rps": 1 / timed(lambda: model.predict(one.values.tolist()), 2000)},
        "big": {"rps": 1 / timed(lambda: model.predict(many), 30)},
    }


def timed(function, repeats: int) -> float:
    function()
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats


def drive(command: list[str], work: Path, bodies: dict[str, str], args, workers: int = 1) -> dict:
    port = 18080
    env = {
        **os.environ,
        ML_ROOT_ENV: str(work / "opt_ml"),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "RELEASEML_HOST": "127.0.0.1",
        "RELEASEML_WORKERS": str(workers),
    }
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client.wait_until_ready(f"http://127.0.0.1:{port}", is_alive=lambda: server.poll() is None)
        # This machine's speed drifts by 2x within seconds: kinds alternate, medians are kept, and the
        # single-row share of /ping is taken within each round (runs seconds apart), then its median.
        rounds = [{name: wrk(port, body, work / f"{name}.lua", args) for name, body in bodies.items()} for _ in range(args.rounds)]
    finally:
        engines.stop(server)
    figures = {name: {key: statistics.median(r[name][key] for r in rounds) for key in rounds[0][name]} for name in bodies}
    figures["single"]["of_ping"] = statistics.median(r["single"]["rps"] / r["ping"]["rps"] for r in rounds)
    return figures


def wrk(port: int, body: str | None, script: Path, args, headers: dict | None = None) -> dict:
    """wrk's figures for POSTing `body` (CSV) to /invocations, or for GET /ping when body is None."""
    lines = ['wrk.method = "GET"'] if body is None else ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "text/csv"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in (headers or {}).items()]
    if body is not None:
        lines.append(f"wrk.body = [[{body}]]")
    script.write_text("\n".join(lines) + "\n")
    output = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(args.connections),
            "-d",
            f"{args.seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/{'invocations' if body is not None else 'ping'}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise SystemExit(f"the server answered errors during the benchmark:\n{output}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
    }


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def report(results: dict) -> None:
    ceiling = results["in-process CatBoost"]
    naive = results["naive falcon+pandas"]
    print("GET /ping (each server's HTTP limit)")
    for name in results:
        if "ping" in results[name]:
            print(f"  {name:22} {results[name]['ping']['rps']:9.1f} req/s")
    for name in ("releaseml, 1 worker", "releaseml, 2 workers"):
        ours = results[name]
        print(
            f"  {name}: single-row /invocations is {ours['single']['of_ping']:.0%} of its /ping rate (median of rounds), "
            f"{ours['single']['rps'] / naive['single']['rps']:.2f}x the naive handler"
        )
    # What bounds that share: a request that cost a /ping's HTTP and then one in-process CatBoost call,
    # and nothing else, one after the other, would be answered at 1 / (1 + ping / in-process); overlap
    # (CatBoost releases the GIL) and shared calls for concurrent rows can take a server past it.
    ping, catboost_alone = results["releaseml, 1 worker"]["ping"]["rps"], ceiling["single"]["rps"]
    print(
        f"  in-process CatBoost predicts single rows at {catboost_alone / ping:.0%} of the 1-worker /ping rate; /ping's HTTP plus "
        f"one such call per request, one after the other, comes to {1 / (1 + ping / catboost_alone):.0%} of /ping"
    )
    one, two = results["releaseml, 1 worker"], results["releaseml, 2 workers"]
    print(
        f"  2 workers against 1: {two['single']['rps'] / one['single']['rps']:.2f}x single rows, "
        f"{two['big']['rps'] / one['big']['rps']:.2f}x 10,000-row bodies\n"
    )
    for kind, rows, title in (("single", 1, "Single-row requests"), ("big", BIG_ROWS, f"{BIG_ROWS:,}-row CSV requests")):
        print(title)
        print(f"  {'':22} {'req/s':>9} {'rows/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'vs in-process':>14} {'vs naive':>9}")
        for name, figures in results.items():
            f = figures[kind]
            latency = f"{f['p50']:8.2f} {f['p99']:8.2f}" if "p50" in f else f"{'-':>8} {'-':>8}"
            print(
                f"  {name:22} {f['rps']:9.1f} {f['rps'] * rows:11,.0f} {latency} "
                f"{f['rps'] / ceiling[kind]['rps']:13.1%} {f['rps'] / naive[kind]['rps']:8.2f}x"
            )
        print()


if __name__ == "__main__":
    main()
