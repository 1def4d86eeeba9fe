"""Where a large request's time goes: CPU per stage of the server's path, in this process.

    python benchmarks/serving_stages.py [--rows 10000] [--baseline DIR]

Trains the demo model, makes a CSV body of `--rows` rows, and times (CPU seconds, so that other
work on the machine counts less; the best of 5 rounds) what /invocations does with it: decoding
(rows split and typed by the one rule), predicting (`Bundle.predict` on one CatBoost thread: a
server worker's share when as many large requests run at once as there are cores), and encoding
the CSV answer; then the same body read by pandas and predicted by CatBoost in-process, the limit. With
--baseline (a checkout of an earlier commit), the same stages of that commit's code are timed in a
child process, for a before/after table in one run. HTTP itself is not here: benchmarks/serving.py
measures whole requests.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, timed the same way")
    parser.add_argument("--stages-of", type=Path, help=argparse.SUPPRESS)  # internal: time this model dir, print JSON
    args = parser.parse_args()
    if args.stages_of:
        print(json.dumps(stages(args.stages_of, args.rows)))
        return
    sys.path.insert(0, str(REPO / "benchmarks"))
    from serving import commit_of, train

    model_dir = train(Path(tempfile.mkdtemp(prefix="releaseml-stages-")))
    trees = {"this tree": REPO}
    if args.baseline:
        trees[f"before ({commit_of(args.baseline)})"] = args.baseline.resolve()
    results = {name: measured(tree, model_dir, args.rows) for name, tree in trees.items()}
    names = list(results)
    print(f"CPU ms per {args.rows:,}-row CSV request (best of 5 rounds), {os.cpu_count()} cores\n")
    print(f"  {'stage':34}" + "".join(f"{name:>22}" for name in names))
    for stage in results[names[0]]:
        print(f"  {stage:34}" + "".join(f"{results[name].get(stage, float('nan')):22.2f}" for name in names))
    for name in names:
        figures = results[name]
        share = figures["in-process read + predict (limit)"] / figures["server path (decode+predict+encode)"]
        print(f"\n  {name}: the limit is {share:.0%} of the server path's CPU")


def measured(tree: Path, model_dir: Path, rows: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--stages-of", str(model_dir), "--rows", str(rows)]
    done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def stages(model_dir: Path, rows: int) -> dict[str, float]:
    from releaseml.model import bundle
    from releaseml.serving import codecs

    model = bundle.load(model_dir)
    try:  # one thread: a server's share when as many large requests run at once as there are cores
        from releaseml.serving.core_budget import CoreBudget

        model.cores = CoreBudget(1)
    except ImportError:  # an earlier commit: every core, as its server asked
        pass
    complete = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None).dropna()
    body = pd.concat([complete] * (rows // len(complete) + 1)).iloc[:rows].to_csv(index=False, header=False).encode()
    schema = model.schema
    chunks = list(codecs.decode(body, codecs.CSV, schema))
    predictions = [model.predict(chunk) for chunk in chunks]

    def read_and_predict():
        frame = pd.read_csv(io.BytesIO(body), header=None, names=schema.features)
        frame[schema.categorical] = frame[schema.categorical].astype(str)
        return model.model.predict(frame, prediction_type="Probability")

    def server_path():
        return codecs.encode((model.predict(chunk) for chunk in codecs.decode(body, codecs.CSV, schema)), codecs.CSV, schema)

    return {
        "decode (split, parse, type)": cpu_ms(lambda: list(codecs.decode(body, codecs.CSV, schema))),
        "predict (Bundle.predict)": cpu_ms(lambda: [model.predict(chunk) for chunk in chunks]),
        "encode (CSV answer)": cpu_ms(lambda: codecs.encode(predictions, codecs.CSV, schema)),
        "server path (decode+predict+encode)": cpu_ms(server_path),
        "in-process read + predict (limit)": cpu_ms(read_and_predict),
    }


def cpu_ms(function, repeats: int = 10, rounds: int = 5) -> float:
    function()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeats):
            function()
        best = min(best, (time.process_time() - started) / repeats)
    return best * 1000


if __name__ == "__main__":
    main()
