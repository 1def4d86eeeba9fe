"""`releaseml train-local` as a user runs it, on real files, with the process engine."""

import json
import re
import shutil
from pathlib import Path

import pytest
import requests

from helpers import run_task
from releaseml.common.errors import UserError
from releaseml.common.layout import MLPaths
from releaseml.config import hyperparameters
from releaseml.local import runner as local
from releaseml.local import staging

REPO = Path(__file__).resolve().parents[1]


def invoke(*args, cwd):
    return run_task(*args, cwd=cwd)


def test_train_local_on_the_demo_data_prints_model_and_metrics(tmp_path):
    shutil.copy(REPO / "releaseml.yaml", tmp_path)
    shutil.copytree(REPO / "data", tmp_path / "data")
    result = invoke("train-local", "--ml-root", "opt_ml", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Engine: process" in result.stdout and "Model: opt_ml/model" in result.stdout
    assert "Report: opt_ml/output/data/report.html" in result.stdout and (tmp_path / "opt_ml/output/data/report.html").is_file()
    validation = next(line for line in result.stdout.splitlines() if line.startswith("Validation: logloss "))  # rounded for people
    shown = invoke("report", "--ml-root", "opt_ml", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == str((tmp_path / "opt_ml/output/data/report.html").resolve())
    assert float(validation.split("accuracy ")[1].split(",")[0]) > 0.9  # penguin species are easy to tell apart
    staged = json.loads((tmp_path / "opt_ml/input/config/hyperparameters.json").read_text())
    assert hyperparameters.unflatten(staged) == {"target": "species"}  # the data path and aws section stay on this machine
    assert json.loads((tmp_path / "opt_ml/input/config/inputdataconfig.json").read_text())["training"]["TrainingInputMode"] == "File"
    assert (tmp_path / "opt_ml/input/data/training/penguins.csv").read_bytes() == (REPO / "data/penguins.csv").read_bytes()


def test_train_local_reports_a_user_mistake_without_a_traceback(tmp_path):
    (tmp_path / "releaseml.yaml").write_text("target: species\n")
    result = invoke("train-local", "--data", "missing.csv", "--ml-root", "opt_ml", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 1
    assert "error: data not found: 'missing.csv'" in result.stderr and "Traceback" not in result.stderr


def test_train_local_passes_on_the_failure_reason(tmp_path):
    (tmp_path / "releaseml.yaml").write_text("target: price\n")
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    result = invoke("train-local", "--data", "d.csv", "--ml-root", "opt_ml", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 1
    assert "error: Training failed: target: column 'price' is not in the data" in result.stderr


def test_validation_data_replaces_the_split_and_goes_away_when_not_given(tmp_path, penguins):
    config = tmp_path / "releaseml.yaml"
    config.write_text("target: species\ncatboost: {iterations: 10}\n")
    shuffled = penguins.sample(frac=1, random_state=1)
    shuffled.iloc[:250].to_csv(tmp_path / "train.csv", index=False)
    shuffled.iloc[250:].to_csv(tmp_path / "valid.csv", index=False)
    outcome = local.train(config, tmp_path / "train.csv", tmp_path / "valid.csv", tmp_path / "ml", "process")
    assert outcome.exit_code == 0 and (tmp_path / "ml/input/data/validation/valid.csv").exists()
    outcome = local.train(config, tmp_path / "train.csv", None, tmp_path / "ml", "process")
    assert outcome.exit_code == 0 and not (tmp_path / "ml/input/data/validation").exists()


def test_staging_never_deletes_files_it_did_not_put_there(tmp_path):
    paths = MLPaths(tmp_path / "ml")
    own = paths.channel("training")
    own.mkdir(parents=True)
    (own / "precious.csv").write_text("a,b\n1,2\n")
    (tmp_path / "new.csv").write_text("a,b\n3,4\n")
    from releaseml.config.config_file import validate

    with pytest.raises(UserError, match="did not put there, and will not delete them"):
        staging.stage_training(paths, validate({"target": "b"}), tmp_path / "new.csv", None)
    assert (own / "precious.csv").read_text() == "a,b\n1,2\n"


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(UserError, match="unknown engine 'podman'; choose one of auto, docker, process"):
        local.serve(Path("test_dir"), engine="podman")


def test_train_local_json_mode_prints_one_document_and_logs_to_stderr(tmp_path):
    shutil.copy(REPO / "releaseml.yaml", tmp_path)
    shutil.copytree(REPO / "data", tmp_path / "data")
    result = invoke("train-local", "--ml-root", "opt_ml", "--engine", "process", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # nothing else on stdout
    assert document["report"] == "opt_ml/output/data/report.html" and document["metrics"]["validation"]["accuracy"] > 0.9
    assert "Task: multiclass" in result.stderr and "#releaseml metric" not in result.stderr  # logs on stderr, for people
    verbose = invoke("train-local", "--ml-root", "opt_ml", "--engine", "process", "--json", "--verbose", cwd=tmp_path)
    assert "#releaseml metric validation:accuracy=" in verbose.stderr and json.loads(verbose.stdout)["metrics"]
    quiet = invoke("train-local", "--ml-root", "opt_ml", "--engine", "process", "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0 and "#releaseml metric" not in quiet.stdout + quiet.stderr and "Report:" in quiet.stdout


def test_demo_trains_serves_predicts_and_stops(tmp_path):
    """The demo makes its project from the package's own files, so it runs from any folder."""
    from helpers import free_port

    port = free_port()
    result = invoke("demo", "--dir", "demo", "--engine", "process", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Engine: process") == 1  # chosen once for training and serving
    header, *csv_answer = result.stdout.split("test.csv to")[1].splitlines()[1:7]
    assert header.split(",")[0] == "prediction" and "Gentoo" in header  # the columns named
    assert [line.split(",")[0] for line in csv_answer] == ["Adelie", "Adelie", "Adelie", "Chinstrap", "Chinstrap"]
    assert re.search(r"^Validation metrics: logloss [0-9.]+, accuracy 0\.9", result.stdout, re.M), result.stdout
    (run,) = (tmp_path / "demo" / ".releaseml" / "runs").iterdir()
    assert '"predictions"' in result.stdout and f".releaseml/runs/{run.name}/output/data/report.html" in result.stdout
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == [
        ".releaseml",
        "penguins.csv",
        "releaseml.yaml",
        "test.csv",
        "test.json",
    ]
    with pytest.raises(requests.ConnectionError):  # the server is gone
        requests.get(f"http://127.0.0.1:{port}/ping", timeout=5)


def test_the_reports_known_limits_are_printed_and_in_json(tmp_path, penguins):
    """A warning only in report.html went unread: an id column trained as a feature, said in the terminal too."""
    frame = penguins.assign(penguin_id=[f"P{i:05d}" for i in range(len(penguins))])
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: species\ndata: penguins.csv\ncatboost: {iterations: 30}\n")
    result = invoke("train-local", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("Known limits (", 1)[1].split("\nModel: ", 1)[0]
    assert "penguin_id has 344 different values in 344 rows: it looks like an identifier" in printed
    document = json.loads(invoke("train-local", "--engine", "process", "--json", cwd=tmp_path).stdout)
    assert any("penguin_id" in limit for limit in document["limits"])
    import html
    import re

    listed = re.search(r"<ul class='limits'>(.*?)</ul>", Path(document["report"]).read_text(), re.S).group(1)
    on_the_page = [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in re.findall(r"<li>(.*?)</li>", listed, re.S)]
    assert on_the_page == [limit.replace("`", "") for limit in document["limits"]]  # the page sets `code` in type
