"""Peak memory of the model server per request, by body size and content type.

    python benchmarks/memory.py [--sizes 1,10,50,95] [--types csv,json,jsonlines]

Trains the demo model, starts `python -m releaseml serve` (one thread, body limit raised so every
size is accepted), and for each body resets the process's peak resident memory (Linux
/proc/PID/clear_refs), sends the body, and reads the new peak (VmHWM). Prints the peak above the
idle process, and that as a multiple of the body: the figure the README's body limits rest on.
Runs against whatever `releaseml` the environment imports (PYTHONPATH=OLD_TREE measures another).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

from serving import train  # noqa: E402

from releaseml.common.layout import ML_ROOT_ENV  # noqa: E402
from releaseml.local import engines  # noqa: E402
from releaseml.serving import client  # noqa: E402

MB = 1024 * 1024
CONTENT_TYPES = {"csv": "text/csv", "json": "application/json", "jsonlines": "application/jsonlines"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,50,95", help="body sizes in MB")
    parser.add_argument("--types", default="csv,json,jsonlines")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="releaseml-memory-"))
    train(work)
    rows = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None)
    features = json.loads((work / "opt_ml" / "model" / "schema.json").read_text())["features"]
    port = 18090
    env = {
        **os.environ,
        ML_ROOT_ENV: str(work / "opt_ml"),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "RELEASEML_HOST": "127.0.0.1",
        "RELEASEML_THREADS": "1",
        "RELEASEML_MAX_PAYLOAD_MB": "200",
        "RELEASEML_MAX_JSON_PAYLOAD_MB": "200",
    }
    server = subprocess.Popen([sys.executable, "-m", "releaseml", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        client.wait_until_ready(url, is_alive=lambda: server.poll() is None)
        print(f"{'body':>10} {'type':>10} {'rows':>10} {'idle MB':>8} {'peak above idle MB':>19} {'x body':>7} {'status':>6}")
        for kind in args.types.split(","):
            requests.post(f"{url}/invocations", data=make_body(kind, rows, features, MB)[0], headers={"Content-Type": CONTENT_TYPES[kind]})
            for size in (float(s) for s in args.sizes.split(",")):
                body, count = make_body(kind, rows, features, int(size * MB))
                idle = status_mb(server.pid, "VmRSS")
                Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak := now
                answer = requests.post(f"{url}/invocations", data=body, headers={"Content-Type": CONTENT_TYPES[kind]}, timeout=600)
                peak = status_mb(server.pid, "VmHWM") - idle
                print(
                    f"{len(body) / MB:8.1f}MB {kind:>10} {count:10,} {idle:8.0f} {peak:19.0f} {peak * MB / len(body):7.1f} "
                    f"{answer.status_code:6}"
                )
    finally:
        engines.stop(server)


def make_body(kind: str, rows: pd.DataFrame, features: list[str], size: int) -> tuple[bytes, int]:
    """A body of about `size` bytes made of the demo's rows repeated."""
    if kind == "csv":
        unit = rows.to_csv(index=False, header=False).encode()
        lines = unit.count(b"\n")
    elif kind == "json":
        unit = json.dumps(rows.astype(object).where(rows.notna(), None).values.tolist())[1:-1].encode() + b","
        lines = len(rows)
    else:
        records = rows.astype(object).where(rows.notna(), None).values.tolist()
        unit = b"".join(json.dumps(dict(zip(features, r))).encode() + b"\n" for r in records)
        lines = len(rows)
    repeats = max(1, size // len(unit))
    body = unit * repeats
    if kind == "json":
        body = b'{"instances":[' + body[:-1] + b"]}"
    return body, lines * repeats


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


if __name__ == "__main__":
    main()
