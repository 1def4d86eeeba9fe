"""Every mistake a newcomer makes with a local task, made on purpose: run the task, read the message.

Each test runs what a user runs (`invoke TASK`, `python -m releaseml serve`, raw HTTP) and checks
for one message that says what to do, the documented exit code, no traceback and nothing left
half-made. Mistakes that need Docker or an AWS emulator are in tests/integration and
tests/localstack.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from helpers import free_port, make_ml_root, run_task
from releaseml.common.layout import ML_ROOT_ENV

REPO = Path(__file__).resolve().parents[1]
ROW = "Dream,46.7,17.9,195,3300,female\n"


def invoke(*args, cwd, env=None, timeout=120):
    return run_task(*args, cwd=cwd, env=env, timeout=timeout)


def refused(result, message: str, code: int = 1):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture
def project(tmp_path, species_model):
    """A project directory whose ML root holds a trained model."""
    shutil.copytree(species_model.root / "model", tmp_path / "ml" / "model")
    (tmp_path / "releaseml.yaml").write_text("target: species\n")
    (tmp_path / "rows.csv").write_text(ROW)
    return tmp_path


@pytest.fixture
def held_port():
    """A port another program listens on (and would answer on, if asked)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


# ---- serve-local and the server ----------------------------------------------------------------


def test_serve_local_without_a_trained_model_says_to_train(tmp_path):
    refused(invoke("serve-local", "--ml-root", "nothing", "--engine", "process", cwd=tmp_path), "no trained model in nothing/model")


@pytest.mark.parametrize("port,message", [("abc", "--port 'abc': give a port number"), ("70000", "a port is a number from 1 to 65535")])
def test_serve_local_with_a_port_that_is_not_one(project, port, message):
    refused(invoke("serve-local", "--ml-root", "ml", "--port", port, "--engine", "process", cwd=project), message)


def test_serve_local_and_demo_on_a_port_another_program_holds(project, held_port):
    """serve-local once talked to whatever answered on the port; now it says the port is taken."""
    message = f"port {held_port} is already in use by another program"
    refused(invoke("serve-local", "--ml-root", "ml", "--port", str(held_port), "--engine", "process", cwd=project), message)
    refused(invoke("demo", "--port", str(held_port), "--engine", "process", cwd=project, timeout=300), message)


def serve(root: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, ML_ROOT_ENV: str(root), "RELEASEML_HOST": "127.0.0.1", **env}
    return subprocess.run([sys.executable, "-m", "releaseml", "serve"], env=environment, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "env,message",
    [
        ({"SAGEMAKER_BIND_TO_PORT": "70000"}, "SAGEMAKER_BIND_TO_PORT '70000': a port is a number from 1 to 65535"),
        ({"SAGEMAKER_BIND_TO_PORT": "eighty"}, "SAGEMAKER_BIND_TO_PORT 'eighty': give a port number"),
        (
            {"SAGEMAKER_BIND_TO_PORT": "18999", "RELEASEML_HOST": "no-such-host.invalid"},
            "RELEASEML_HOST='no-such-host.invalid' is not an address",
        ),
        (
            {"SAGEMAKER_BIND_TO_PORT": "18999", "RELEASEML_HOST": "10.255.255.1"},
            "RELEASEML_HOST='10.255.255.1' is not an address of this machine",
        ),
        ({"RELEASEML_THREADS": "0"}, "RELEASEML_THREADS='0' must be at least 1"),
    ],
)
def test_serve_with_settings_that_cannot_work(species_model, env, message):
    result = serve(species_model.root, **env)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_serve_on_a_port_in_use(species_model, held_port):
    result = serve(species_model.root, SAGEMAKER_BIND_TO_PORT=str(held_port))
    assert result.returncode == 1 and f"port {held_port} is already in use by another program" in result.stderr, result.stderr


@pytest.mark.parametrize("damaged", ["schema.json", "model.cbm"])
def test_a_damaged_model_file_is_named_with_what_to_do(tmp_path, species_model, damaged):
    shutil.copytree(species_model.root / "model", tmp_path / "model")
    path = tmp_path / "model" / damaged
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # cut short, as a failed copy leaves it
    result = serve(tmp_path, SAGEMAKER_BIND_TO_PORT=str(free_port()))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"{damaged} is damaged" in result.stderr and "Train the model again" in result.stderr


# ---- predict -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,message",
    [
        ("localhost:8080", "it needs http:// in front"),
        ("http://localhost:99999", "is not a valid URL"),
        ("ftp://localhost:8080", "ftp:// is not HTTP"),
        ("http://[::1", "is not a valid URL"),
        ("http://:8080", "names no host"),
    ],
)
def test_predict_with_a_url_that_cannot_be_right(project, url, message):
    refused(invoke("predict", "rows.csv", "--url", url, cwd=project), message)


def test_predict_when_no_server_runs(project):
    refused(invoke("predict", "rows.csv", "--url", f"http://127.0.0.1:{free_port()}", cwd=project), "no model server answers")


def test_predict_against_a_server_that_never_answers_gives_up_with_a_message(project, held_port):
    started = time.monotonic()
    result = invoke("predict", "rows.csv", "--url", f"http://127.0.0.1:{held_port}", "--timeout", "1", cwd=project)
    refused(result, "did not answer within 1 s")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("value", ["soon", "-5", "0"])
def test_predict_with_a_timeout_that_is_not_one(project, value):
    refused(invoke("predict", "rows.csv", "--timeout", value, cwd=project), "--timeout")


# ---- train-local's data and ML root ------------------------------------------------------------


def data_mistakes(tmp_path):
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    return {
        "dangling symlink": ("dangling.csv", "data not found: 'dangling.csv'"),
        "symlink loop": ("loop.csv", "data not found: 'loop.csv'"),
        "named pipe": ("pipe.csv", "no data at 'pipe.csv'"),
        "/dev/null": ("/dev/null", "no data at '/dev/null'"),
    }


def test_train_local_with_data_that_is_not_a_file_or_a_directory(tmp_path):
    (tmp_path / "releaseml.yaml").write_text("target: species\n")
    for data, message in data_mistakes(tmp_path).values():
        result = invoke("train-local", "--data", data, "--ml-root", "ml", "--engine", "process", cwd=tmp_path)
        refused(result, message)


def test_train_local_with_a_named_pipe_among_the_data_files_reads_the_files(tmp_path, penguins):
    (tmp_path / "releaseml.yaml").write_text("target: species\ncatboost: {iterations: 5}\n")
    (tmp_path / "data").mkdir()
    penguins.to_csv(tmp_path / "data" / "penguins.csv", index=False)
    os.mkfifo(tmp_path / "data" / "stream.csv")  # never opened: it would block
    result = invoke("train-local", "--data", "data", "--ml-root", "ml", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_train_local_with_an_ml_root_that_is_a_file(tmp_path):
    (tmp_path / "releaseml.yaml").write_text("target: species\n")
    (tmp_path / "ml").write_text("not a directory")
    refused(invoke("train-local", "--ml-root", "ml", "--engine", "process", cwd=tmp_path), "--ml-root 'ml' is a file")


@pytest.mark.parametrize(
    "ml_root,why",
    [("/proc/nope", "No such file or directory"), ("notes.txt/ml", "Not a directory"), ("/proc/self", "")],
    ids=["under-proc", "under-a-file", "not-writable"],
)
def test_train_local_with_an_ml_root_that_cannot_be_made_or_written(tmp_path, ml_root, why):
    """It once printed a 54-line traceback (pathlib's mkdir)."""
    (tmp_path / "releaseml.yaml").write_text("target: species\n")
    (tmp_path / "notes.txt").write_text("a file\n")
    result = invoke("train-local", "--data", "notes.txt", "--ml-root", ml_root, "--engine", "process", cwd=tmp_path)
    refused(result, f"error: --ml-root {ml_root!r} cannot be ")
    assert why in result.stderr and "pass a directory you can write" in result.stderr and "--ml-root test_dir" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_predict_on_a_directory_says_it_sends_one_file(tmp_path):
    """It once said it could not tell the content type from the extension."""
    (tmp_path / "batch").mkdir()
    for flags in ([], ["--content-type", "text/csv"], ["--content-type", "application/x-parquet"]):
        result = invoke("predict", "batch", *flags, cwd=tmp_path)
        refused(result, "error: 'batch' is a directory: predict sends one file")
        assert "`releaseml score batch` scores a folder" in result.stderr and "extension" not in result.stderr


# ---- training mistakes ------------------------------------------------------------------------


def test_dollar_signs_in_names_and_labels_are_data_not_markup(tmp_path, run_train):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"price $": rng.random(200), "x^2_": rng.random(200)})
    frame["tier $"] = np.where(frame["price $"] > 0.5, "$$$", "$")
    paths = make_ml_root(tmp_path, {"target": "tier $", "catboost": {"iterations": 20}}, frame)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""
    assert "price $" in paths.report.read_text()


@pytest.mark.parametrize(
    "config,message",
    [
        ({"target": "sex", "catboost": {"thread_count": 0}}, "catboost.thread_count 0: use -1 (every core)"),
        ({"target": "sex", "catboost": {"loss_function": "RMSE"}}, "catboost.loss_function RMSE does not fit the task binary"),
        (
            {"target": "body_mass_g", "catboost": {"loss_function": "Logloss"}},
            "Logloss is a classification loss, but the task is regression",
        ),
        ({"target": "species", "validation_fraction": 0.999}, "validation_fraction 0.999 leaves"),
        ({"target": "species", "validation_fraction": 1e-9}, "validation_fraction 1e-09 of 344 rows holds out no row"),
    ],
)
def test_settings_that_cannot_train_get_one_message_and_exit_1(tmp_path, run_train, penguins, config, message):
    """thread_count 0 once killed the process (SIGFPE, no failure file); RMSE on a binary target ended in a traceback."""
    paths = make_ml_root(tmp_path, config, penguins)
    assert run_train(paths) == 1
    assert message in paths.failure.read_text()


def test_an_infinite_regression_target_is_named(tmp_path, run_train, penguins):
    frame = penguins.copy()
    frame["body_mass_g"] = frame["body_mass_g"].astype(object)
    frame.loc[3, "body_mass_g"] = "inf"
    paths = make_ml_root(tmp_path, {"target": "body_mass_g"}, frame)
    assert run_train(paths) == 1
    assert "holds an infinite value (inf)" in paths.failure.read_text()


def test_a_target_that_looks_like_an_identifier_is_warned_about_and_the_report_stays_small(tmp_path, run_train, capsys):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.random(600), "code": [f"id-{i % 300}" for i in range(600)]})
    paths = make_ml_root(tmp_path, {"target": "code", "catboost": {"iterations": 3}}, frame)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""
    output = capsys.readouterr().out
    assert "has 300 different values in 600 rows: it looks like an identifier" in output
    assert "300 classes (id-0, id-1," in output
    assert paths.figures_dir.joinpath("confusion_matrix.png").stat().st_size < 400_000  # 20 classes shown, not 300


# ---- HTTP edges the app once left to waitress ------------------------------------------------------


def raw_http(port: int, data: bytes) -> tuple[int, str, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /invocations HTTP/1.1\r\nHo\x01st: x\r\nContent-Length: 1\r\n\r\nx",
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    ],
    ids=["gzip-transfer-encoding", "bad-content-length", "bad-header-byte", "bad-chunk-size"],
)
def test_malformed_http_gets_a_json_4xx(species_server, request_bytes):
    status, content_type, body = raw_http(species_server.port, request_bytes)
    assert 400 <= status < 500 and content_type == "application/json", (status, content_type, body)
    assert b'"error"' in body


def test_many_idle_connections_do_not_stop_ping(species_server):
    """Waitress's default limit of 100 connections once let idle clients block /ping."""
    idle = [socket.create_connection(("127.0.0.1", species_server.port)) for _ in range(150)]
    try:
        assert requests.get(f"{species_server.url}/ping", timeout=5).status_code == 200
    finally:
        for connection in idle:
            connection.close()


@pytest.mark.parametrize(
    "accept,expected",
    [
        ("application/json, */*", "application/json"),
        ("application/json;q=0.5, text/csv", "text/csv"),
        ("text/csv;q=0, application/jsonlines;q=0.2", "application/jsonlines"),
        ("application/*", "application/json"),
        ("application/x-ndjson", "application/jsonlines"),
    ],
)
def test_accept_q_values_and_wildcards_are_honoured(species_server, accept, expected):
    answer = requests.post(
        f"{species_server.url}/invocations", data=ROW, headers={"Content-Type": "text/csv", "Accept": accept}, timeout=10
    )
    assert answer.status_code == 200 and answer.headers["Content-Type"] == expected


def test_head_ping_answers_like_get(species_server):
    assert requests.head(f"{species_server.url}/ping", timeout=5).status_code == 200


def test_a_csv_body_with_lone_carriage_returns_is_read_like_a_file(species_server):
    body = ROW.strip() + "\r" + ROW.strip() + "\r"
    answer = requests.post(f"{species_server.url}/invocations", data=body, headers={"Content-Type": "text/csv"}, timeout=10)
    assert answer.status_code == 200 and len(answer.text.split("\n")) == 2


def test_a_charset_other_than_utf8_is_refused_up_front(species_server):
    answer = requests.post(
        f"{species_server.url}/invocations", data=ROW.encode("latin-1"), headers={"Content-Type": "text/csv; charset=latin-1"}, timeout=10
    )
    assert answer.status_code == 415 and "UTF-8" in answer.json()["error"]


# ---- the command line itself ---------------------------------------------------------------------


def test_the_task_list_loads_no_heavy_library(tmp_path):
    """`invoke --list` once imported CatBoost, pandas and matplotlib (1.9 s); it must answer at once."""
    probe = "import sys, tasks; print(sorted(m for m in ('catboost', 'pandas', 'matplotlib', 'boto3', 'docker', 'requests', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
    listed = invoke("--list", cwd=tmp_path)
    assert listed.returncode == 0 and "train-local" in listed.stdout


def test_help_for_a_task_works_without_a_project(tmp_path):
    result = invoke("--help", "serve-local", cwd=tmp_path)
    assert result.returncode == 0 and "--port" in result.stdout


# ---- more of the same, one line each: every user-error site a test can reach ------------------


def run_train_on(tmp_path, run_train, config, text):
    paths = make_ml_root(tmp_path, config, text)
    code = run_train(paths)
    return code, paths.failure.read_text() if paths.failure.exists() else ""


@pytest.mark.parametrize(
    "config,text,message",
    [
        ({"target": "y"}, "x,y\n", "has a header but no rows"),
        ({"target": "y"}, "x,,y\n1,2,3\n", "the header row has no name for column(s) [2]"),
        ({"target": "y", "drop": ["x"]}, "x,y\n1,2\n3,4\n", "no feature columns are left"),
        ({"target": "y", "task": "regression"}, "x,y\n1,a\n2,b\n", "task is regression but the target column 'y' is not numeric"),
        ({"target": "y", "task": "binary"}, "x,y\n1,a\n2,b\n3,c\n", "task is binary but the target column 'y' has 3 classes"),
        ({"target": "y", "task": "regression"}, "x,y\n1,\n2,\n", "the target column 'y' has no values"),
        ({"target": "y"}, "x,y\n1,a\n2,b\n", "rows are too few to hold out a validation split"),
    ],
)
def test_training_data_that_cannot_make_a_model(tmp_path, run_train, config, text, message):
    code, failure = run_train_on(tmp_path, run_train, config, text)
    assert code == 1 and message in failure, failure


def test_training_files_with_different_headers(tmp_path, run_train):
    paths = make_ml_root(tmp_path, {"target": "y"}, "x,y\n1,2\n")
    (paths.channel("training") / "more.csv").write_text("x,z\n1,2\n")
    assert run_train(paths) == 1 and "has different columns from" in paths.failure.read_text()


def test_validation_data_without_the_training_columns(tmp_path, run_train, penguins):
    paths = make_ml_root(tmp_path, {"target": "species"}, penguins, penguins.drop(columns=["island"]))
    assert run_train(paths) == 1 and "the validation data lacks column(s) ['island']" in paths.failure.read_text()


@pytest.mark.parametrize(
    "content,message",
    [(None, "hyperparameters.json is missing"), ("{", "is not valid JSON"), ("[1]", "must hold a JSON object of hyperparameters")],
)
def test_a_container_without_a_usable_hyperparameters_file(tmp_path, run_train, content, message):
    paths = make_ml_root(tmp_path, {"target": "y"}, "x,y\n1,2\n")
    paths.hyperparameters.unlink() if content is None else paths.hyperparameters.write_text(content)
    assert run_train(paths) == 1 and message in paths.failure.read_text()


@pytest.mark.parametrize(
    "flat,message",
    [
        ({"target": 3}, "expected a string value"),
        ({"catboost": "1", "catboost.depth": "6"}, "conflicts with"),
        ({"catboost.depth": "6", "catboost": '{"depth": 6}'}, "conflicts with"),
    ],
)
def test_hyperparameters_that_cannot_be_a_config(flat, message):
    from releaseml.common.errors import UserError
    from releaseml.config import hyperparameters

    with pytest.raises(UserError, match=message):
        hyperparameters.unflatten(flat)


def test_serve_without_a_model(tmp_path):
    result = serve(tmp_path, SAGEMAKER_BIND_TO_PORT=str(free_port()))
    assert result.returncode == 1 and "no trained model at" in result.stderr and "Train first" in result.stderr


def test_tasks_in_a_directory_that_is_not_a_project(tmp_path):
    """Outside a project every task that needs one says how to make one, in one line."""
    (tmp_path / "releaseml.yaml").mkdir()  # not a file: no config here
    no_config = f"no releaseml.yaml in {tmp_path} or any folder above it: `releaseml init --data FILE --target COLUMN` makes one"
    for task in (["train-local"], ["report"], ["serve-local"], ["runs"], ["score", "rows.csv"], ["check-data", "rows.csv"]):
        refused(invoke(*task, cwd=tmp_path), no_config)
    refused(invoke("train-local", "--config", "releaseml.yaml", cwd=tmp_path), "cannot read config file 'releaseml.yaml'")
    refused(invoke("predict", "rows.csv", "--url", "http://localhost:0", cwd=tmp_path), "port 0 is not a port")


def test_train_local_staging_mistakes(tmp_path, penguins):
    (tmp_path / "releaseml.yaml").write_text("target: species\n")
    refused(invoke("train-local", "--ml-root", "ml", "--engine", "process", cwd=tmp_path), "no training data")
    (tmp_path / "data").mkdir()
    penguins.to_csv(tmp_path / "data" / "p.csv", index=False)
    refused(invoke("train-local", "--data", ".", "--ml-root", "data/ml", "--engine", "process", cwd=tmp_path), "contains the ML root")
    (tmp_path / "both" / "training").mkdir(parents=True)
    (tmp_path / "both" / "validation").mkdir()
    penguins.to_csv(tmp_path / "both" / "training" / "p.csv", index=False)
    penguins.to_csv(tmp_path / "both" / "validation" / "p.csv", index=False)
    refused(
        invoke("train-local", "--data", "data/p.csv", "--validation", "both", "--ml-root", "ml", "--engine", "process", cwd=tmp_path),
        "holds training/ and validation/ directories",
    )


def test_demo_says_why_training_failed(tmp_path):
    (tmp_path / "releaseml.yaml").write_text("target: price\ndata: d.csv\n")
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    refused(invoke("demo", "--dir", ".", "--engine", "process", "--port", str(free_port()), cwd=tmp_path), "target: column 'price'")


def test_a_poll_interval_that_is_not_one(tmp_path):
    from releaseml.common import environment
    from releaseml.common.errors import UserError

    with pytest.raises(UserError, match="RELEASEML_AWS_POLL_SECONDS='0' must be at least 0.01"):
        environment.AWS_POLL_SECONDS.get({"RELEASEML_AWS_POLL_SECONDS": "0"})


def test_limits_on_bodies_without_a_length_and_on_json_documents(species_model):
    from helpers import Server

    server = Server(species_model.root, RELEASEML_MAX_PAYLOAD_MB="2", RELEASEML_MAX_JSON_PAYLOAD_MB="1")
    try:
        chunked = requests.post(
            f"{server.url}/invocations",
            data=iter([ROW.encode() * 40_000, ROW.encode() * 40_000]),
            headers={"Content-Type": "text/csv"},
            timeout=30,
        )
        assert chunked.status_code == 413 and "the limit is 2097152" in chunked.json()["error"]  # waitress counts a chunked body
        document = '{"instances": [' + ",".join(['["Dream", 40, 18, 190, 3700, "male"]'] * 40_000) + "]}"
        answer = requests.post(f"{server.url}/invocations", data=document, headers={"Content-Type": "application/json"}, timeout=30)
        assert answer.status_code == 413 and "Send large batches as CSV or JSON Lines" in answer.json()["error"]
    finally:
        server.stop()


@pytest.mark.parametrize("body", ["island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex\n", None])
def test_a_header_without_rows(species_server, body):
    header = "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex\n"
    data = body if body is not None else header + "\n" * 20_000  # large: the chunked way
    answer = requests.post(f"{species_server.url}/invocations", data=data, headers={"Content-Type": "text/csv"}, timeout=10)
    assert answer.status_code == 400 and "header row but no data rows" in answer.json()["error"]


def test_a_list_as_a_value_in_a_large_json_body(species_server):
    rows = [["Dream", 40, 18, 190, 3700, "male"]] * 100 + [[["Dream"], 40, 18, 190, 3700, "male"]]
    answer = requests.post(f"{species_server.url}/invocations", json={"instances": rows}, timeout=10)
    assert answer.status_code == 400 and answer.json()["row"] == 101 and "['Dream'] is not text or a number" in answer.json()["error"]


def test_a_container_started_without_training_data(tmp_path, run_train):
    paths = make_ml_root(tmp_path, {"target": "y"})
    assert run_train(paths) == 1 and "no data at" in paths.failure.read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["predict", "nothing.parquet"], "no Parquet file at 'nothing.parquet'"),
        (["predict", "text.parquet"], "cannot read text.parquet as Parquet"),
        (["batch-predict", "--job", "j", "--instance-count", "0"], "aws.transform_instance_count: got '0'"),
        (["batch-predict", "--job", "j", "--instance-count", "many"], "aws.transform_instance_count: got 'many'"),
        (["deploy", "--max-wait", "100000"], "max_wait_seconds is for spot training: add spot: true (or --spot)"),
        (["deploy", "--spot", "--max-wait", "60"], "max_wait_seconds (60) is less than max_runtime_seconds (86400)"),
    ],
)
def test_parquet_instance_count_and_spot_mistakes(tmp_path, args, message):
    """Each refused before any AWS call: no credentials or emulator needed to read the message."""
    (tmp_path / "releaseml.yaml").write_text("target: species\naws: {role: arn:aws:iam::123456789012:role/r, region: eu-west-1}\n")
    (tmp_path / "text.parquet").write_text("species,island\nAdelie,Dream\n")
    refused(invoke(*args, cwd=tmp_path), message)


@pytest.mark.parametrize(
    "yaml_text,message",
    [
        ("target: species\ntime: island\n", "time: the column 'island' must hold dates or numbers, but 344 row(s) hold other text ("),
        ("target: species\ntime: when\n", "time: column 'when' is not in the data"),
        ("target: species\nfolds: 1\n", "folds: got 1; Input should be greater than or equal to 2"),
        ("target: species\nfolds: 500\n", "folds: got 500; Input should be less than or equal to 100"),
        ("target: species\nfolds: 5\ntime: year\n", "`folds` and `time` do not go together"),
    ],
    ids=["time-text", "time-missing", "folds-1", "folds-500", "folds-and-time"],
)
def test_train_local_with_a_validation_setting_that_cannot_work(tmp_path, penguins, yaml_text, message):
    """`time:` and `folds:` mistakes, made through the task a newcomer runs: one message, exit 1, no model."""
    (tmp_path / "releaseml.yaml").write_text(yaml_text + "catboost: {iterations: 5}\n")
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    result = invoke("train-local", "--data", "penguins.csv", "--ml-root", "ml", "--engine", "process", cwd=tmp_path)
    refused(result, message)
    assert not (tmp_path / "ml" / "model" / "model.cbm").exists()
