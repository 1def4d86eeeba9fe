"""Decisions and intervals: a threshold chosen by what mistakes cost, intervals that hold.

Trained for real on generated data; the chosen threshold is checked against a brute-force search
over every threshold, and every path that labels (the server's CSV, JSON and JSON Lines, `score`'s
file, the Python API) must label by it; interval coverage is measured on fresh rows drawn from the
same distribution.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import Server, run_task, train_model
from releaseml import api
from releaseml.common.errors import UserError
from releaseml.config import config_file
from releaseml.local import scoring
from releaseml.training import decision, intervals


def credit(rows: int, seed: int) -> pd.DataFrame:
    """A rare positive class (about 10%) that rises with `x`."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=rows), rng.normal(size=rows)
    odds = -2.6 + 1.4 * x + 0.3 * z
    default = rng.random(rows) < 1 / (1 + np.exp(-odds))
    return pd.DataFrame(
        {"x": x.round(4), "z": z.round(4), "region": rng.choice(["n", "s"], rows), "default": np.where(default, "yes", "no")}
    )


def sales(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, rows)
    return pd.DataFrame({"x": x.round(4), "noise": rng.normal(size=rows).round(4), "y": (3 * x + rng.normal(0, 2, rows)).round(4)})


def rule(**given):
    return config_file.validate({"target": "t", "decision": given}).decision


@settings(max_examples=200)
@given(
    labels=st.lists(st.booleans(), min_size=1, max_size=60),
    scores=st.lists(st.sampled_from([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95]), min_size=60, max_size=60),
    fp=st.floats(0.1, 20),
    fn=st.floats(0.1, 20),
)
def test_the_chosen_threshold_has_the_lowest_cost_of_every_threshold(labels, scores, fp, fn):
    positive = np.array(labels)
    probability = np.array(scores[: len(labels)])
    if not positive.any():
        return
    chosen = decision.choose(positive, probability, rule(costs={"false_positive": fp, "false_negative": fn}))
    flagged = probability >= chosen.threshold
    cost = fp * np.sum(flagged & ~positive) + fn * np.sum(~flagged & positive)
    brute = min(fp * np.sum((probability >= t) & ~positive) + fn * np.sum((probability < t) & positive) for t in [*probability, np.inf])
    assert math.isclose(cost, brute, rel_tol=1e-9, abs_tol=1e-9) and math.isclose(chosen.cost, cost, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=200)
@given(labels=st.lists(st.booleans(), min_size=2, max_size=60), floor=st.floats(0.05, 1.0))
def test_min_recall_keeps_the_floor_with_the_fewest_rows_flagged(labels, floor):
    positive = np.array(labels)
    probability = np.random.default_rng(len(labels)).random(len(labels)).round(2)
    if not positive.any():
        return
    chosen = decision.choose(positive, probability, rule(min_recall=floor))
    flagged = probability >= chosen.threshold
    assert flagged[positive].mean() >= floor - 1e-12
    fewest = min(np.sum(probability >= t) for t in [*probability, np.inf] if (probability >= t)[positive].mean() >= floor - 1e-12)
    assert flagged.sum() == fewest


def test_an_unreachable_precision_says_the_best_one_reached():
    positive = np.array([True, False, True, False])
    with pytest.raises(UserError, match=r"no threshold reaches min_precision 0.9 on the validation rows; the best is 0.500"):
        decision.choose(positive, np.array([0.5, 0.5, 0.5, 0.5]), rule(min_precision=0.9))


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    config = {"target": "default", "catboost": {"iterations": 80}, "decision": {"costs": {"false_positive": 1, "false_negative": 12}}}
    paths = train_model(tmp_path_factory.mktemp("decided"), config, credit(3000, 1))
    server = Server(paths.root)
    yield paths, server
    server.stop()


def test_training_saves_the_threshold_and_every_path_labels_by_it(decided, tmp_path):
    paths, server = decided
    info = json.loads(paths.schema_file.read_text())
    threshold = info["threshold"]
    assert 0.02 < threshold < 0.4 and info["classes"] == ["no", "yes"] and info["decision"]["rule"] == "costs"
    assert json.loads(paths.metrics.read_text())["decision"] == info["decision"]  # beside CatBoost's scores at 0.5
    rows = credit(400, 7).drop(columns=["default"])
    model = api.load(paths.model_dir)
    by_api = model.predict(rows)
    p_yes = by_api["probability_yes"].to_numpy()
    expected = np.where(p_yes >= threshold, "yes", "no")
    assert (expected == "yes").sum() > (p_yes >= 0.5).sum()  # the threshold changes labels, not only in theory
    assert by_api["prediction"].tolist() == expected.tolist()

    csv_body = rows.to_csv(index=False)
    for content_type, accept in [("text/csv", "text/csv"), ("text/csv", "application/json"), ("text/csv", "application/jsonlines")]:
        answer = requests.post(f"{server.url}/invocations", data=csv_body, headers={"Content-Type": content_type, "Accept": accept})
        assert answer.status_code == 200, answer.text
        if accept == "text/csv":
            labels = [line.split(",")[0] for line in answer.text.split("\n")]
        elif accept == "application/json":
            labels = [record["prediction"] for record in answer.json()["predictions"]]
        else:
            labels = [json.loads(line)["prediction"] for line in answer.text.split("\n")]
        assert labels == expected.tolist(), accept

    (tmp_path / "rows.csv").write_text(csv_body)
    scoring.score_file(paths.model_dir, tmp_path / "rows.csv", tmp_path / "scored.csv")
    assert pd.read_csv(tmp_path / "scored.csv")["prediction"].tolist() == expected.tolist()
    assert np.allclose(pd.read_csv(tmp_path / "scored.csv")["probability_yes"], p_yes, atol=0)


def test_the_log_says_what_the_threshold_does(tmp_path, penguins):
    frame = credit(1500, 3)
    frame.to_csv(tmp_path / "credit.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: default\ndata: credit.csv\ncatboost: {iterations: 40}\ndecision: {min_recall: 0.8}\n")
    result = run_task("train-local", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("Decision (min_recall 0.8): at "))
    assert "the model catches" in line and "of 'yes' and flags" in line
    assert "At the decision's threshold" in result.stdout and "the lines above are at 0.5" in result.stdout  # the summary too


@pytest.mark.parametrize(
    "config, message",
    [
        (
            {"target": "species", "decision": {"min_recall": 0.8}},
            "decision: chooses a threshold for a binary target, and 'species' is a multiclass",
        ),
        ({"target": "species", "intervals": 0.9}, "intervals: are for a regression target (a number), and 'species' is a multiclass"),
        ({"target": "body_mass_g", "decision": {"min_recall": 0.8}}, "'body_mass_g' is a regression target"),
    ],
)
def test_a_decision_or_intervals_for_the_wrong_task_is_one_message(tmp_path, penguins, config, message):
    penguins.to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text(json.dumps({**config, "data": "p.csv"}))
    result = run_task("train-local", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "section, message",
    [
        ({"decision": {"costs": {"false_positive": 0, "false_negative": 1}}}, "decision.costs.false_positive: got 0"),
        ({"decision": {"costs": {"false_positive": "a lot", "false_negative": 1}}}, "decision.costs.false_positive: got 'a lot'"),
        ({"decision": {"min_recall": 0}}, "decision.min_recall: got 0"),
        ({"decision": {"min_precision": 1.2}}, "decision.min_precision: got 1.2"),
        ({"decision": {}}, "give exactly one of costs"),
        ({"intervals": 1.0}, "intervals: got 1.0"),
        ({"intervals": 0}, "intervals: got 0"),
        ({"task": "multiclass", "decision": {"min_recall": 0.5}}, "this config says task: multiclass"),
        ({"task": "binary", "intervals": 0.9}, "this config says task: binary"),
    ],
)
def test_decision_and_interval_mistakes_are_named_before_any_data_is_read(section, message):
    with pytest.raises(UserError) as caught:
        config_file.validate({"target": "t", **section})
    assert message in str(caught.value)


@pytest.fixture(scope="module")
def with_intervals(tmp_path_factory):
    paths = train_model(
        tmp_path_factory.mktemp("intervals"), {"target": "y", "catboost": {"iterations": 150}, "intervals": 0.9}, sales(2500, 2)
    )
    server = Server(paths.root)
    yield paths, server
    server.stop()


def test_intervals_hold_on_fresh_rows_within_binomial_noise(with_intervals):
    paths, _ = with_intervals
    info = json.loads(paths.schema_file.read_text())["interval"]
    fresh = sales(4000, 99)
    scored = api.load(paths.model_dir).predict(fresh.drop(columns=["y"]))
    inside = (fresh["y"] >= scored["lower"]) & (fresh["y"] <= scored["upper"])
    calibration_rows, fresh_rows = info["rows"], len(fresh)
    noise = 3 * math.sqrt(0.9 * 0.1 / calibration_rows + 0.9 * 0.1 / fresh_rows)
    assert abs(inside.mean() - 0.9) <= noise, (inside.mean(), noise)
    assert math.isclose(info["mean_width"], 2 * info["half_width"]) and info["level"] == 0.9


def test_every_path_serves_the_same_intervals(with_intervals, tmp_path):
    paths, server = with_intervals
    rows = sales(20, 5).drop(columns=["y"])
    by_api = api.load(paths.model_dir).predict(rows)
    body = rows.to_csv(index=False)
    plain = requests.post(
        f"{server.url}/invocations", data=body, headers={"Content-Type": "text/csv", "Accept": "text/csv; header=present"}
    )
    header, *lines = plain.text.split("\n")
    assert header == "prediction,lower,upper"
    assert (
        np.array([[float(v) for v in line.split(",")] for line in lines]).tolist()
        == by_api[["prediction", "lower", "upper"]].values.tolist()
    )
    records = requests.post(
        f"{server.url}/invocations", data=body, headers={"Content-Type": "text/csv", "Accept": "application/json"}
    ).json()
    assert [r["interval"]["lower"] for r in records["predictions"]] == by_api["lower"].tolist()
    (tmp_path / "rows.csv").write_text(body)
    scoring.score_file(paths.model_dir, tmp_path / "rows.csv", tmp_path / "out.csv")
    assert list(pd.read_csv(tmp_path / "out.csv").columns) == ["x", "noise", "prediction", "lower", "upper"]


def test_too_few_validation_rows_for_the_level_is_a_message():
    with pytest.raises(UserError, match="intervals: 0.99 needs at least 99 validation rows"):
        intervals.calibrate(np.arange(20.0), np.arange(20.0), 0.99)


def test_the_report_shows_the_decision_its_curve_and_calibration(decided):
    """With `decision:`, the page says what the threshold does; its trade-off, confusion matrix there, and calibration are drawn."""
    paths, _ = decided
    page = paths.report.read_text()
    info = json.loads(paths.schema_file.read_text())
    said = f"At {info['threshold']:.3g} the model catches {info['decision']['recall']:.0%} of &#x27;yes&#x27;"
    assert said in page or said.replace("&#x27;", "'") in page
    for name in ("decision", "decision_confusion", "calibration"):
        assert (paths.figures_dir / f"{name}.png").is_file()
    assert "Brier score" in page and f"Confusion matrix at the chosen threshold {info['threshold']:.3g}" in page
    assert "auto_class_weights: Balanced" in page  # a rare class: both ways, one line each


def test_without_a_decision_the_report_suggests_one(tmp_path):
    paths = train_model(tmp_path, {"target": "default", "catboost": {"iterations": 40}}, credit(1500, 8))
    page = paths.report.read_text()
    assert "Labels are decided at 0.5" in page and "decision: {min_recall: 0.8}" in page
    assert "threshold" not in json.loads(paths.schema_file.read_text())
