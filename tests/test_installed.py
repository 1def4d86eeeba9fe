"""releaseml installed for real: the built wheel in a fresh venv, used from a folder outside the checkout.

This is the newcomer's path: `pip install releaseml[cli]`, then in their own project folder
`releaseml init`, `train-local` twice, `runs --json`, `score`, `serve-local` with `predict`, and the
Python API on the same rows. Every way must give the same predictions, equal to CatBoost's own on
the saved model. The venv gets its dependencies from the package registry (pip's cache makes a
second run quick), so the wheel's metadata, package data and entry points are what is tested.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from helpers import free_port

REPO = Path(__file__).resolve().parents[1]
FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding the wheel built from this checkout (not an editable install)."""
    work = tmp_path_factory.mktemp("installed")
    wheels = work / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO)], capture_output=True, text=True
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("releaseml-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", f"{wheel}[cli]"], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


def run(venv: Path, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV", "COVERAGE"))}
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    return subprocess.run(list(args), cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


def test_the_wheel_works_in_a_users_own_folder(installed, tmp_path, penguins):
    project = tmp_path / "my project"
    project.mkdir()
    data = penguins.drop(columns=["year"]).assign(penguin_id=[f"P{i:04d}" for i in range(len(penguins))])
    data.to_csv(project / "penguins.csv", index=False)
    rows = data.drop(columns=["species"]).sample(40, random_state=1)
    rows.to_csv(project / "new.csv", index=False)

    where = run(installed, "python", "-c", "import releaseml; print(releaseml.__file__)", cwd=project)
    assert str(installed) in where.stdout, where.stdout + where.stderr  # the wheel's copy, not this checkout

    no_config = run(installed, "releaseml", "train-local", cwd=project)
    assert no_config.returncode == 1 and "`releaseml init --data FILE --target COLUMN` makes one" in no_config.stderr

    made = run(installed, "releaseml", "init", "--data", "penguins.csv", "--target", "species", cwd=project)
    assert made.returncode == 0 and "releaseml train-local" in made.stdout, made.stderr
    config = (project / "releaseml.yaml").read_text()
    assert "target: species" in config and "data: penguins.csv" in config
    assert "drop: [penguin_id]" in config and "Not a feature: penguin_id" in made.stdout  # an id, found by init

    for seed in ("42", "7"):
        (project / "releaseml.yaml").write_text(config + f"seed: {seed}\ncatboost: {{iterations: 60}}\n")
        trained = run(installed, "releaseml", "train-local", "--engine", "process", cwd=project)
        assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr
        assert "Config: releaseml.yaml" in trained.stdout

    listed = json.loads(run(installed, "releaseml", "runs", "--json", cwd=project).stdout)
    assert len(listed) == 2 and all(r["status"] == "succeeded" for r in listed)
    assert {"id", "created", "model", "metrics"} <= set(listed[0]) and "seed 42 -> 7" in listed[1]["changes"]
    latest = listed[-1]

    scored = run(installed, "releaseml", "score", "new.csv", "--out", "scored.csv", cwd=project)
    assert scored.returncode == 0, scored.stderr
    scores = pd.read_csv(project / "scored.csv")
    assert list(scores.columns) == [*rows.columns, "prediction", "probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]
    assert scores["penguin_id"].tolist() == rows["penguin_id"].tolist()

    expected = catboost_probabilities(installed, Path(latest["model"]), project)
    probabilities = scores[["probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]].to_numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-12)

    served = served_probabilities(installed, project)
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-12)

    api = run(
        installed,
        "python",
        "-c",
        "import releaseml, pandas as pd, json; m = releaseml.load('latest'); "
        "out = m.predict(pd.read_csv('new.csv')); print(json.dumps(out.filter(like='probability_').values.tolist()))",
        cwd=project,
    )
    assert api.returncode == 0, api.stderr
    np.testing.assert_allclose(np.array(json.loads(api.stdout)), expected, rtol=0, atol=1e-12)


def catboost_probabilities(venv: Path, model_dir: Path, project: Path) -> np.ndarray:
    """CatBoost's own answer on the saved model, for the rows read as a plain pandas frame."""
    code = (
        "import catboost, json, pandas as pd, sys; m = catboost.CatBoost(); m.load_model(sys.argv[1]); "
        f"f = pd.read_csv('new.csv')[{FEATURES!r}]; "
        "f[['island', 'sex']] = f[['island', 'sex']].fillna('').astype(str); "
        "print(json.dumps(m.predict(f, prediction_type='Probability').tolist()))"
    )
    result = run(venv, "python", "-c", code, str(model_dir / "model.cbm"), cwd=project)
    assert result.returncode == 0, result.stderr
    return np.array(json.loads(result.stdout))


def served_probabilities(venv: Path, project: Path) -> np.ndarray:
    """`releaseml serve-local` in the background, `releaseml predict --json`... as a user runs them."""
    port = str(free_port())
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV", "COVERAGE"))}
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment['PATH']}"
    server = subprocess.Popen(
        ["releaseml", "serve-local", "--port", port, "--engine", "process"], cwd=project, env=environment, stdout=subprocess.DEVNULL
    )
    try:
        for _ in range(600):
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, "serve-local ended early"
            import time

            time.sleep(0.1)
        payload = project / "payload.csv"
        pd.read_csv(project / "new.csv")[FEATURES].to_csv(payload, index=False)
        answer = run(
            venv, "releaseml", "predict", "payload.csv", "--url", f"http://127.0.0.1:{port}", "--accept", "application/json", cwd=project
        )
        assert answer.returncode == 0, answer.stderr
        records = json.loads(answer.stdout)["predictions"]
        return np.array([[r["probabilities"][name] for name in ("Adelie", "Chinstrap", "Gentoo")] for r in records])
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
