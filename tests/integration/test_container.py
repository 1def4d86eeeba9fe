"""The image as SageMaker runs it: `docker run IMAGE train|serve` with /opt/ml mounted."""

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import free_port, run_task
from releaseml.common.layout import MLPaths
from releaseml.local import engines
from releaseml.local import runner as local
from releaseml.serving import client

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, built_image):
    work = tmp_path_factory.mktemp("container")
    shutil.copy(REPO / "releaseml.yaml", work)
    shutil.copytree(REPO / "data", work / "data")
    shutil.copytree(REPO / "test_dir" / "input" / "data" / "test", work / "opt_ml" / "input" / "data" / "test")
    outcome = local.train(work / "releaseml.yaml", ml_root=work / "opt_ml", engine="docker", image=built_image)
    return work, outcome


def test_training_in_the_container_writes_model_and_metrics(trained):
    work, outcome = trained
    assert outcome.exit_code == 0, outcome.failure
    assert (work / "opt_ml/model/model.cbm").is_file() and (work / "opt_ml/model/schema.json").is_file()
    assert outcome.metrics["validation"]["accuracy"] > 0.9
    # The report, drawn inside the image (matplotlib, no screen), where SageMaker keeps it.
    assert outcome.report == work / "opt_ml/output/data/report.html" and outcome.report.stat().st_size > 50_000
    assert len(list((work / "opt_ml/output/data/figures").glob("*.png"))) == 8  # the classification set of tests/test_report.py


def test_serving_from_the_container_answers_csv_and_json(trained, built_image):
    work, _ = trained
    port = free_port()
    with local.serving(work / "opt_ml", port, "docker", built_image) as url:
        csv_answer = client.predict(work / "opt_ml/input/data/test/test.csv", url=url)
        json_answer = json.loads(client.predict(work / "opt_ml/input/data/test/test.json", url=url))
        explained = json.loads(client.predict(work / "opt_ml/input/data/test/test.json", url=url, explain=3))
    assert [line.split(",")[0] for line in csv_answer.splitlines()] == [p["prediction"] for p in json_answer["predictions"]]
    assert len(json_answer["predictions"]) == 5
    # Reasons from the image: SHAP contributions that add up to the score, beside unchanged predictions.
    assert [{k: v for k, v in p.items() if k != "explanation"} for p in explained["predictions"]] == json_answer["predictions"]
    assert {len(p["explanation"]["contributions"]) for p in explained["predictions"]} == {3}


def test_the_image_trains_on_parquet_to_the_same_model_as_on_csv(tmp_path, trained, built_image):
    """pyarrow in the image (with its unused Flight library removed) reads a Parquet channel."""
    import pandas as pd

    work, _ = trained
    pd.read_csv(REPO / "data" / "penguins.csv").to_parquet(tmp_path / "penguins.parquet")
    shutil.copy(REPO / "releaseml.yaml", tmp_path)
    outcome = local.train(
        tmp_path / "releaseml.yaml", tmp_path / "penguins.parquet", ml_root=tmp_path / "ml", engine="docker", image=built_image
    )
    assert outcome.exit_code == 0, outcome.failure
    from releaseml.data.schema import model_frame
    from releaseml.model import bundle

    from_csv, from_parquet = bundle.load(work / "opt_ml/model"), bundle.load(tmp_path / "ml/model")
    rows = model_frame(pd.read_csv(REPO / "data/predict/penguins.csv", header=None, names=from_csv.schema.features), from_csv.schema)
    assert from_parquet.schema == from_csv.schema
    assert (from_parquet.predict(rows).probabilities == from_csv.predict(rows).probabilities).all()


def test_failed_training_leaves_the_failure_file_and_a_non_zero_exit(tmp_path, built_image):
    (tmp_path / "releaseml.yaml").write_text("target: price\n")
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3,4\n")
    outcome = local.train(tmp_path / "releaseml.yaml", tmp_path / "d.csv", ml_root=tmp_path / "ml", engine="docker", image=built_image)
    assert outcome.exit_code == 1
    assert "target: column 'price' is not in the data" in (tmp_path / "ml/output/failure").read_text()


def test_sigterm_stops_the_server_promptly(trained, built_image):
    work, _ = trained
    port = free_port()
    server = engines.DockerEngine(built_image).start_serving(MLPaths(work / "opt_ml"), port)
    client.wait_until_ready(f"http://127.0.0.1:{port}", is_alive=lambda: server.poll() is None)
    started = time.monotonic()
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=20) == 0
    assert time.monotonic() - started < 10


def test_the_image_trains_as_a_non_root_user(tmp_path, trained, built_image):
    work, _ = trained
    root = tmp_path / "ml"
    shutil.copytree(work / "opt_ml" / "input", root / "input")
    subprocess.run(["chmod", "-R", "a+rwX", str(root)], check=True)
    result = subprocess.run(
        ["docker", "run", "--rm", "--user", "1000:1000", "-v", f"{root}:/opt/ml", built_image, "train"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (root / "model/model.cbm").is_file() and (root / "output/data/report.html").is_file()


def test_the_docker_engine_with_no_image_says_to_build_it_instead_of_pulling(tmp_path):
    """train-local/serve-local --engine docker once tried to pull a missing image from a public
    registry, and the message was a DNS failure."""
    (tmp_path / "releaseml.yaml").write_text("target: species\n")
    shutil.copytree(REPO / "data", tmp_path / "data")
    for task in (["train-local", "--data", "data"], ["serve-local", "--ml-root", "ml"]):
        result = run_task(*task, "--engine", "docker", "--image", "never-built-image", cwd=tmp_path, timeout=120)
        assert result.returncode == 1, result.stderr
        if task[0] == "serve-local":
            assert "no trained model" in result.stderr
        else:
            assert "no local image 'never-built-image': build it first with `releaseml build`" in result.stderr
        assert "Traceback" not in result.stderr


def test_serve_local_in_docker_on_a_port_another_program_holds(trained, built_image):
    import socket

    work, _ = trained
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = run_task(
            "serve-local", "--ml-root", "opt_ml", "--engine", "docker", "--image", built_image, "--port", str(port), cwd=work, timeout=120
        )
    assert result.returncode == 1 and f"port {port} is already in use by another program" in result.stderr, result.stderr


def test_a_build_on_a_base_image_that_cannot_be_had_says_so(tmp_path):
    result = run_task("build", "--name", "never-built-image", "--base-image", "no-such-base-image:0", cwd=tmp_path, timeout=300)
    assert result.returncode == 1 and "the image build failed" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_the_image_trains_and_serves_a_decision_and_intervals(tmp_path, built_image):
    """A threshold chosen by costs and intervals calibrated in the container, applied by the container's server."""
    import numpy as np
    import pandas as pd
    import requests

    from test_decisions import credit, sales

    for name, frame, extra in (
        ("credit", credit(1500, 4), "target: default\ndecision: {costs: {false_positive: 1, false_negative: 15}}\n"),
        ("sales", sales(1200, 4), "target: y\nintervals: 0.8\n"),
    ):
        work = tmp_path / name
        work.mkdir()
        frame.to_csv(work / "data.csv", index=False)
        (work / "releaseml.yaml").write_text(extra + "data: data.csv\ncatboost: {iterations: 60}\n")
        outcome = local.train(work / "releaseml.yaml", ml_root=work / "ml", engine="docker", image=built_image)
        assert outcome.exit_code == 0, outcome.failure
        info = json.loads((work / "ml" / "model" / "schema.json").read_text())
        rows = frame.drop(columns=[frame.columns[-1]]).head(300)
        with local.serving(work / "ml", free_port(), "docker", built_image) as url:
            answer = requests.post(f"{url}/invocations", data=rows.to_csv(index=False), headers={"Content-Type": "text/csv"}).text
        table = [line.split(",") for line in answer.split("\n")]
        if name == "credit":
            p_yes = np.array([float(row[2]) for row in table])
            assert [row[0] for row in table] == np.where(p_yes >= info["threshold"], "yes", "no").tolist()
            assert (p_yes >= info["threshold"]).sum() > (p_yes >= 0.5).sum()
        else:
            values = np.array([[float(v) for v in row] for row in table])
            assert np.allclose(values[:, 2] - values[:, 0], info["interval"]["half_width"])
            assert np.allclose(values[:, 0] - values[:, 1], info["interval"]["half_width"])
            assert pd.Series(values[:, 0]).notna().all()


def test_the_image_monitors_a_window_as_a_processing_job_would(trained, built_image, tmp_path):
    """`docker run IMAGE monitor` with /opt/ml/processing laid out as SageMaker Processing lays it out: the page and
    monitor.json under output/<day>/, the metric lines on stdout, a quiet day completed with requests 0, and a
    mistake in /opt/ml/output/message; the image carries no AWS SDK (the container only reads, writes and prints)."""
    import tarfile

    work, _ = trained
    root = tmp_path / "ml"
    (root / "processing/input/model").mkdir(parents=True)
    with tarfile.open(root / "processing/input/model/model.tar.gz", "w:gz") as archive:
        for file in sorted((work / "opt_ml/model").iterdir()):
            archive.add(file, arcname=file.name)
    hour = root / "processing/input/captured/penguins/AllTraffic/2026/12/06/10"
    hour.mkdir(parents=True)
    rows = (REPO / "data/predict/penguins.csv").read_text().splitlines(keepends=True)
    events = [
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "".join(rows[i : i + 86]), "encoding": "CSV"}
            },
            "eventMetadata": {"eventId": f"event-{i}", "inferenceTime": "2026-12-06T10:00:00Z"},
            "eventVersion": "0",
        }
        for i in range(0, len(rows), 86)
    ]
    (hour / "capture.jsonl").write_text("".join(json.dumps(event) + "\n" for event in events))

    def monitor(window_end: str) -> subprocess.CompletedProcess:
        settings = ["-e", "RELEASEML_MONITOR_ENDPOINT=penguins", "-e", f"RELEASEML_MONITOR_WINDOW_END={window_end}"]
        command = ["docker", "run", "--rm", "--network", "none", "-v", f"{root}:/opt/ml", *settings, built_image, "monitor"]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    ran = monitor("2026-12-07T00:30:00Z")
    assert ran.returncode == 0, ran.stderr[-2000:]
    *columns, summary = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith('{"releaseml_monitor"')]
    assert {line["column"] for line in columns} == set(json.loads((work / "opt_ml/model/schema.json").read_text())["features"])
    assert summary["rows"] == 344 and summary["requests"] == 4 and summary["drifted_columns"] == 0
    out = root / "processing/output/2026-12-06"
    assert (out / "monitor.html").is_file() and json.loads((out / "monitor.json").read_text())["rows"] == 344

    quiet = monitor("2026-12-09T00:30:00Z")  # a day without requests: news (Requests 0), not a failed job
    assert quiet.returncode == 0 and "Traceback" not in quiet.stderr, quiet.stderr[-2000:]
    assert (root / "output/message").read_text().startswith("No traffic: no captured requests from 2026-12-08 00:00 until 2026-12-09")
    (summary,) = [json.loads(line) for line in quiet.stdout.splitlines() if line.startswith('{"releaseml_monitor"')]
    assert summary["requests"] == 0 and summary["drifted_columns"] == 0
    assert json.loads((root / "processing/output/2026-12-08/monitor.json").read_text())["requests"] == 0
    (root / "processing/input/model/model.tar.gz").unlink()  # a mistake still fails the job, with its reason
    broken = monitor("2026-12-07T00:30:00Z")
    assert broken.returncode == 1 and (root / "output/message").read_text().startswith("Monitoring failed: the `model` input")
    no_sdk = subprocess.run(["docker", "run", "--rm", built_image, "python", "-c", "import boto3"], capture_output=True, text=True)
    assert no_sdk.returncode != 0 and "No module named 'boto3'" in no_sdk.stderr
