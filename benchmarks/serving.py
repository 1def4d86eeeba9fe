"""Serving speed: the real server against CatBoost in-process, MLflow's server and a plain handler.

    python benchmarks/serving.py [--seconds 5] [--connections 4] [--rounds 5] [--big-rows 10000]
                                 [--busy N] [--baseline DIR] [--mlflow-python PYTHON]

Trains the demo model (penguins species, default config), starts every server below at once on
127.0.0.1, and drives them with wrk (Debian package `wrk`), one after another in each round, the
order turning each round; this machine's speed drifts by 2x within seconds, so only medians of
such alternating rounds compare (the lowest and highest are printed beside them). The servers:
  - releaseml's (`python -m releaseml serve`) with its default workers (one per core), and with 1;
  - with --baseline DIR, the same server from a checkout of an earlier commit (default workers);
  - MLflow's scoring server (`mlflow models serve --env-manager local`) on the same CatBoost model,
    with its default of 1 worker and with one per core. MLflow is an optional extra
    (`pip install '.[bench]'`, or --mlflow-python naming a Python that has it); without it, it is
    said and skipped. It answers labels only, where releaseml sends labels and probabilities;
  - a minimal Falcon + waitress handler (benchmarks/naive_app.py), the usual bring-your-own way.
Each gets GET /ping (its HTTP limit), single-row CSV requests, and 10,000-row CSV requests
(`--big-rows`). The limits, measured in the same rounds in this process: CatBoost predicting one
parsed row, and CatBoost reading the large body with pandas and predicting it (`pd.read_csv`, text
columns as str, `predict_proba` with CatBoost's default threads: what a user writes in a notebook).
`--busy N` keeps N low-priority processes spinning all along, as other work on a shared machine
does: what the servers' CatBoost threads are up against. The rows have no missing values, which
MLflow's CatBoost flavour cannot take in text columns.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from releaseml.common.layout import ML_ROOT_ENV  # noqa: E402
from releaseml.data.schema import model_frame  # noqa: E402
from releaseml.local import engines  # noqa: E402
from releaseml.model import bundle  # noqa: E402
from releaseml.serving import client  # noqa: E402

BIG_ROWS = 10_000
KINDS = ("ping", "single", "big")
IN_PROCESS = "in-process CatBoost"
MLFLOW_MODEL = """
import sys
import mlflow.catboost
from catboost import CatBoostClassifier
model = CatBoostClassifier()
model.load_model(sys.argv[1])
mlflow.catboost.save_model(model, sys.argv[2])
"""
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "MLFLOW_TRACKING_URI": "file:///dev/null"}


@dataclass
class Served:
    """One server under test: how to start it, what it is sent, and its figures per round."""

    name: str
    command: list[str]
    env: dict[str, str]
    bodies: dict[str, str | None]
    rounds: list[dict] = field(default_factory=list)
    answer_bytes: int = 0
    process: subprocess.Popen | None = None
    port: int = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="wrk's run per figure")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians are printed")
    parser.add_argument("--big-rows", type=int, default=BIG_ROWS, help="rows of the large requests (default 10,000)")
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, served beside this one")
    parser.add_argument(
        "--busy", type=int, default=0, help="processes that keep a core busy at low priority all along (other work on a shared machine)"
    )
    parser.add_argument("--mlflow-python", default=sys.executable, help="a Python with mlflow installed (default: this one)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="releaseml-bench-"))
    model_dir = train(work)
    complete = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None).dropna()
    names = bundle.load(model_dir).schema.features
    rows = pd.concat([complete] * (args.big_rows // len(complete) + 1)).iloc[: args.big_rows]
    plain = {"single": rows.iloc[:1].to_csv(index=False, header=False), "big": rows.to_csv(index=False, header=False)}
    headed = {kind: ",".join(names) + "\n" + body for kind, body in plain.items()}

    servers = releaseml_servers(work, headed, args.baseline)
    servers += mlflow_servers(work, model_dir, headed, args.mlflow_python)
    servers.append(Served("naive falcon+pandas", [sys.executable, str(REPO / "benchmarks" / "naive_app.py")], {}, plain))
    beside = f"; {args.busy} busy process(es) at nice 10 beside them" if args.busy else ""
    print(f"CPU cores: {os.cpu_count()}; wrk with {args.connections} connections, {args.seconds}s per run, {args.rounds} rounds{beside}\n")
    limits = []
    busy = [subprocess.Popen(["nice", "-n", "10", sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        for number, served in enumerate(servers):
            start(served, work, 18100 + number)
        for round_number in range(args.rounds):
            limits.append(in_process(model_dir, plain["single"], headed["big"]))
            turn = round_number % len(servers)
            for served in servers[turn:] + servers[:turn]:
                served.rounds.append({kind: wrk(served.port, served.bodies.get(kind), work / "request.lua", args) for kind in KINDS})
            shown = ", ".join(f"{s.name.split(' (')[0]} {s.rounds[-1]['big']['rps']:.0f}" for s in servers)
            print(f"  round {round_number + 1} of {args.rounds}, large requests/s: {shown}", file=sys.stderr)
    finally:
        for served in servers:
            if served.process is not None:
                engines.stop(served.process)
        for process in busy:
            process.kill()
            process.wait()
    report(servers, {kind: statistics.median(limit[kind] for limit in limits) for kind in limits[0]}, args.big_rows)


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


def releaseml_servers(work: Path, bodies: dict, baseline: Path | None) -> list[Served]:
    serve = [sys.executable, "-m", "releaseml", "serve"]
    here = {ML_ROOT_ENV: str(work / "opt_ml"), "PYTHONPATH": str(REPO)}
    servers = [
        Served(f"releaseml, {os.cpu_count()} workers (default)", serve, here, bodies),
        Served("releaseml, 1 worker", serve, {**here, "RELEASEML_WORKERS": "1"}, bodies),
    ]
    if baseline is not None:
        before = commit_of(baseline)
        servers.append(Served(f"releaseml before ({before})", serve, {**here, "PYTHONPATH": str(baseline.resolve())}, bodies))
    return servers


def commit_of(checkout: Path) -> str:
    found = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or checkout.name


def mlflow_servers(work: Path, model_dir: Path, bodies: dict, python: str) -> list[Served]:
    """MLflow's scoring server on the same CatBoost model, when a Python with mlflow is at hand."""
    try:
        probe = subprocess.run([python, "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True, text=True)
    except OSError as exc:
        sys.exit(f"--mlflow-python {python}: cannot run it ({exc.strerror})")
    if probe.returncode:
        print(f"MLflow is not installed for {python} (pip install '.[bench]', or --mlflow-python): its server is skipped.\n")
        return []
    version = probe.stdout.strip()
    model = work / "mlflow-model"
    subprocess.run([python, "-c", MLFLOW_MODEL, str(model_dir / "model.cbm"), str(model)], check=True, env={**os.environ, **QUIET})
    serve = [python, "-m", "mlflow", "models", "serve", "-m", str(model), "-h", "127.0.0.1", "--env-manager", "local"]
    cores = str(os.cpu_count())
    env = {**QUIET, "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}"}  # MLflow runs `uvicorn` from PATH
    return [
        Served(f"MLflow {version}, 1 worker (default)", [*serve, "-w", "1"], env, bodies),
        Served(f"MLflow {version}, {cores} workers", [*serve, "-w", cores], env, bodies),
    ]


def start(served: Served, work: Path, port: int) -> None:
    served.port = port
    command = [*served.command, "-p", str(port)] if "mlflow" in served.command else served.command
    env = {
        **os.environ,
        **served.env,
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "RELEASEML_HOST": "127.0.0.1",
        ML_ROOT_ENV: str(work / "opt_ml"),
    }
    served.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client.wait_until_ready(f"http://127.0.0.1:{port}", timeout=120, is_alive=lambda: served.process.poll() is None)
    answer = requests.post(f"http://127.0.0.1:{port}/invocations", data=served.bodies["big"], headers={"Content-Type": "text/csv"})
    answer.raise_for_status()
    served.answer_bytes = len(answer.content)


def in_process(model_dir: Path, single: str, big: str) -> dict[str, float]:
    """The limits, in requests/s: CatBoost on one parsed row, and reading + predicting the big body."""
    model = bundle.load(model_dir)
    names, categorical = model.schema.features, model.schema.categorical
    one = model_frame(pd.read_csv(io.StringIO(single), header=None, names=names), model.schema).values.tolist()
    data = big.encode()

    def read_and_predict():
        frame = pd.read_csv(io.BytesIO(data))
        frame[categorical] = frame[categorical].astype(str)
        return model.model.predict(frame, prediction_type="Probability")

    return {"single": 1 / timed(lambda: model.predict(one), 2000), "big": 1 / timed(read_and_predict, 30)}


def timed(function, repeats: int) -> float:
    function()
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats


def wrk(port: int, body: str | None, script: Path, args, headers: dict | None = None) -> dict:
    """wrk's figures for POSTing `body` (CSV) to /invocations, or for GET /ping when body is None."""
    lines = ['wrk.method = "GET"'] if body is None else ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "text/csv"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in (headers or {}).items()]
    if body is not None:
        lines.append(f"wrk.body = [[{body}]]")
    script.write_text("\n".join(lines) + "\n")
    path = "invocations" if body is not None else "ping"
    command = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.seconds}s", "--latency", "-s", str(script)]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}/{path}"], capture_output=True, text=True, check=True).stdout
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


def report(servers: list[Served], limits: dict[str, float], big_rows: int) -> None:
    medians = {
        s.name: {k: {f: statistics.median(r[k][f] for r in s.rounds) for f in ("rps", "p50", "p99")} for k in KINDS} for s in servers
    }
    mlflow = next((s.name for s in servers if s.name.startswith("MLflow") and "default" in s.name), None)
    print(f"\nMedians of {len(servers[0].rounds)} alternating rounds (ratios: each figure over the one named)\n")
    print("GET /ping (each server's HTTP limit)")
    for served in servers:
        print(f"  {served.name:34} {medians[served.name]['ping']['rps']:9.1f} req/s")
    for kind, rows, title in (("single", 1, "Single-row requests"), ("big", big_rows, f"{big_rows:,}-row CSV requests")):
        limit = "CatBoost predicting one parsed row" if kind == "single" else "pandas read + CatBoost predict"
        print(f"\n{title}; the limit: {limit} in-process, {limits[kind] * rows:,.0f} rows/s")
        header = f"  {'':34} {'req/s':>8} {'(lowest-highest)':>17} {'rows/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'of limit':>8}"
        print(header + (f" {'vs MLflow':>9}" if mlflow else "") + (f" {'answer':>8}" if kind == "big" else ""))
        for served in servers:
            figures = medians[served.name][kind]
            each = [r[kind]["rps"] for r in served.rounds]
            line = (
                f"  {served.name:34} {figures['rps']:8.1f} {f'({min(each):.0f}-{max(each):.0f})':>17} {figures['rps'] * rows:10,.0f} "
                f"{figures['p50']:7.2f} {figures['p99']:7.2f} {figures['rps'] / limits[kind]:8.0%}"
            )
            if mlflow:
                line += f" {figures['rps'] / medians[mlflow][kind]['rps']:8.2f}x"
            if kind == "big":
                line += f" {served.answer_bytes / 1e6:6.2f}MB"
            print(line)
    print("\nAnswers: releaseml sends each row's label and class probabilities; MLflow sends labels only (JSON).")


if __name__ == "__main__":
    main()
