"""Training that resumes from CatBoost snapshots in /opt/ml/checkpoints, as a restarted spot job does."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np

from helpers import make_ml_root
from releaseml.common.layout import ML_ROOT_ENV
from releaseml.config import hyperparameters
from releaseml.data.schema import model_frame
from releaseml.model import bundle

CONFIG = {"target": "species", "catboost": {"iterations": 3000, "learning_rate": 0.003}}  # long enough to stop part-way


def start_training(root, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "releaseml", "train"],
        env={**os.environ, ML_ROOT_ENV: str(root), "PYTHONUNBUFFERED": "1", **env},  # as in the image: a killed job's log is whole
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def iterations(log: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+):\tlearn", log, re.MULTILINE)]


def test_a_job_stopped_part_way_resumes_from_its_checkpoint_and_makes_the_same_model(tmp_path, penguins):
    plain = make_ml_root(tmp_path / "plain", CONFIG, penguins)
    spot = make_ml_root(tmp_path / "spot", CONFIG, penguins)
    spot.checkpoints.mkdir()
    uninterrupted = start_training(plain.root)

    first = start_training(spot.root, RELEASEML_CHECKPOINT_SECONDS="1")
    deadline = time.monotonic() + 120
    while not list(spot.checkpoints.glob("*.snapshot")) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    first.send_signal(signal.SIGTERM)  # a spot reclaim
    interrupted_log = first.communicate(timeout=60)[0]
    assert first.returncode != 0 and not spot.model_file.exists(), "training ended before it could be interrupted"

    second = start_training(spot.root, RELEASEML_CHECKPOINT_SECONDS="1")
    resumed_log = second.communicate(timeout=600)[0]
    assert second.returncode == 0, resumed_log
    assert uninterrupted.wait(timeout=600) == 0
    assert iterations(interrupted_log)[0] == 0 and "Resuming from the checkpoint" in resumed_log
    assert iterations(resumed_log)[0] > 0  # the iterations done before are not done again

    a, b = bundle.load(plain.model_dir), bundle.load(spot.model_dir)
    rows = model_frame(penguins[a.schema.features], a.schema)
    np.testing.assert_array_equal(a.predict(rows).probabilities, b.predict(rows).probabilities)
    assert a.model.tree_count_ == b.model.tree_count_


def test_without_a_checkpoints_directory_nothing_is_written_there(tmp_path, penguins):
    paths = make_ml_root(tmp_path / "ml", {"target": "species", "catboost": {"iterations": 30}}, penguins)
    done = start_training(paths.root)
    log = done.communicate(timeout=300)[0]
    assert done.returncode == 0, log
    assert not paths.checkpoints.exists() and "Resuming" not in log and paths.model_file.is_file()


def test_trials_with_other_parameters_sharing_a_checkpoint_directory_never_resume_from_each_other(tmp_path, penguins, run_train, capsys):
    """A tuning job's trials may share one checkpoint prefix: a snapshot is named by the CatBoost parameters."""
    paths = make_ml_root(tmp_path, {"target": "species", "catboost": {"iterations": 40, "depth": 4}}, penguins)
    paths.checkpoints.mkdir()
    assert run_train(paths) == 0
    first = {p.name for p in paths.checkpoints.glob("*.snapshot")}
    assert len(first) == 1 and "Resuming" not in capsys.readouterr().out

    other = {"target": "species", "catboost": {"iterations": 40, "depth": 5}}  # another trial, same directory
    paths.hyperparameters.write_text(json.dumps(hyperparameters.flatten(other)))
    assert run_train(paths) == 0
    assert "Resuming" not in capsys.readouterr().out
    assert len(set(p.name for p in paths.checkpoints.glob("*.snapshot")) - first) == 1

    again = {"target": "species", "catboost": {"iterations": 40, "depth": 4}}  # the first one restarted
    paths.hyperparameters.write_text(json.dumps(hyperparameters.flatten(again)))
    assert run_train(paths) == 0
    assert "Resuming from the checkpoint" in capsys.readouterr().out
