"""Reasons with predictions (`explain=K`), through a real server: CatBoost's own SHAP values.

For a regression, a binary and a multiclass model: baseline + all contributions is CatBoost's raw
score for the predicted class (binary: the log-odds of the predicted class), the K reasons are the
K largest by magnitude, the prediction part of an explained answer is byte for byte the answer
without reasons, and asking badly gets a 400 that says what to ask.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import requests

from helpers import Server, flags_frame, run_task, train_model
from releaseml.data.schema import model_frame
from releaseml.model import bundle


@pytest.fixture(scope="module")
def models(tmp_path_factory, penguins):
    made = {
        "binary": (
            train_model(tmp_path_factory.mktemp("flags"), {"target": "answer", "catboost": {"iterations": 50}}, flags_frame()),
            flags_frame(),
        ),
        "multiclass": (
            train_model(tmp_path_factory.mktemp("species"), {"target": "species", "catboost": {"iterations": 40}}, penguins),
            penguins,
        ),
        "regression": (
            train_model(
                tmp_path_factory.mktemp("mass"), {"target": "body_mass_g", "drop": ["species"], "catboost": {"iterations": 40}}, penguins
            ),
            penguins,
        ),
    }
    servers = {name: Server(paths.root) for name, (paths, _) in made.items()}
    yield {name: (bundle.load(paths.model_dir), frame, servers[name]) for name, (paths, frame) in made.items()}
    for server in servers.values():
        server.stop()


def body_of(model: bundle.Bundle, frame: pd.DataFrame, rows: int = 60) -> bytes:
    return frame[model.schema.features].head(rows).to_csv(header=False, index=False).encode()


def post(server, body: bytes, accept: str, **headers) -> requests.Response:
    return requests.post(
        f"{server.url}/invocations", data=body, headers={"Content-Type": "text/csv", "Accept": accept, **headers}, timeout=60
    )


def raw_scores(model: bundle.Bundle, frame: pd.DataFrame, rows: int) -> np.ndarray:
    """CatBoost's raw score for the predicted class of each row, computed here."""
    features = model_frame(frame[model.schema.features].head(rows), model.schema)
    raw = model.model.predict(features, prediction_type="RawFormulaVal")
    if model.schema.task == "multiclass":
        return raw[np.arange(len(raw)), raw.argmax(axis=1)]
    if model.schema.task == "binary":
        return np.where(raw > 0, raw, -raw)  # the log-odds of whichever class is predicted
    return raw


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_all_contributions_add_up_to_the_raw_score(models, task):
    model, frame, server = models[task]
    features = len(model.schema.features)
    answer = post(server, body_of(model, frame), f"application/json; explain={features}")
    assert answer.status_code == 200, answer.text
    records = answer.json()["predictions"]
    totals = [r["explanation"]["baseline"] + sum(r["explanation"]["contributions"].values()) for r in records]
    np.testing.assert_allclose(totals, raw_scores(model, frame, len(records)), rtol=0, atol=1e-6)
    assert all(len(r["explanation"]["contributions"]) == features for r in records)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_each_explanation_names_the_class_it_is_toward(models, task):
    """Reasons are toward each row's predicted class, so a row's signs mean nothing without its class."""
    model, frame, server = models[task]
    records = post(server, body_of(model, frame), "application/json; explain=2").json()["predictions"]
    if task == "regression":
        assert all("toward" not in r["explanation"] for r in records)
    else:
        assert all(r["explanation"]["toward"] == r["prediction"] for r in records)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_k_reasons_are_the_k_largest_and_the_prediction_is_unchanged(models, task):
    model, frame, server = models[task]
    body = body_of(model, frame)
    everything = post(server, body, f"application/jsonlines; explain={len(model.schema.features)}")
    top = post(server, body, "application/jsonlines; explain=3")
    for full, short in zip(everything.text.splitlines(), top.text.splitlines()):
        full, short = json.loads(full)["explanation"], json.loads(short)["explanation"]
        largest = sorted(full["contributions"].items(), key=lambda item: -abs(item[1]))[:3]
        assert list(short["contributions"].items()) == largest and short["baseline"] == full["baseline"]
    plain = post(server, body, "text/csv")
    explained = post(server, body, "text/csv; explain=3")
    assert plain.status_code == explained.status_code == 200
    # The prediction columns of an explained answer are the plain answer, byte for byte; then 3 pairs.
    lines = explained.content.split(b"\n")
    assert b"\n".join(b",".join(line.split(b",")[:-6]) for line in lines) == plain.content
    assert all(name.decode() in model.schema.features for line in lines for name in line.split(b",")[-6::2])
    for plain_json, accept in ((post(server, body, "application/json"), "application/json; explain=2"),):
        records = post(server, body, accept).json()["predictions"]
        assert [{k: v for k, v in r.items() if k != "explanation"} for r in records] == plain_json.json()["predictions"]


def test_reasons_asked_for_through_sagemakers_custom_attributes_or_by_default(models, tmp_path):
    model, frame, server = models["multiclass"]
    body = body_of(model, frame, 5)
    through_attributes = post(server, body, "text/csv", **{"X-Amzn-SageMaker-Custom-Attributes": "trace-id=7, explain=2"})
    assert through_attributes.content == post(server, body, "text/csv; explain=2").content
    assert through_attributes.content.count(b",") == 5 * (len(model.schema.classes) + 4)


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5", ""])
def test_a_bad_explain_value_gets_a_400_that_says_what_to_ask(models, value):
    model, frame, server = models["regression"]
    answer = post(server, body_of(model, frame, 2), f"text/csv; explain={value}")
    assert answer.status_code == 400
    assert (
        f"explain={value!r}: ask for a whole number of reasons per prediction, from 1 to {len(model.schema.features)}"
        in answer.json()["error"]
    )


def test_more_reasons_than_features_means_all_of_them(models):
    model, frame, server = models["binary"]
    answer = post(server, body_of(model, frame, 3), "application/json; explain=1000")
    assert answer.status_code == 200
    assert all(len(r["explanation"]["contributions"]) == len(model.schema.features) for r in answer.json()["predictions"])


def test_a_server_started_with_a_default_explains_every_answer(models, tmp_path):
    model, frame, _ = models["multiclass"]
    paths = train_model(tmp_path / "m", {"target": "species", "catboost": {"iterations": 10}}, frame)
    server = Server(paths.root, RELEASEML_EXPLAIN="2")
    try:
        answer = post(server, body_of(model, frame, 3), "application/json")
        assert [len(r["explanation"]["contributions"]) for r in answer.json()["predictions"]] == [2, 2, 2]
        assert (
            len(
                post(server, body_of(model, frame, 3), "application/json; explain=1").json()["predictions"][0]["explanation"][
                    "contributions"
                ]
            )
            == 1
        )
    finally:
        server.stop()


@pytest.mark.parametrize("value", ["abc", "0"])
def test_predict_explain_with_a_bad_count_says_how_to_ask(value, tmp_path):
    (tmp_path / "rows.csv").write_text("Dream,40,18,190,3700,male,2008\n")
    result = run_task("predict", "rows.csv", "--explain", value, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"--explain {value!r}: give how many reasons to show per prediction, a whole number from 1, e.g. --explain 3" in result.stderr
