"""The training report: written by every run, figures right for the task, numbers that agree with CatBoost's."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from catboost.utils import eval_metric
from hypothesis import given
from hypothesis import strategies as st

from releaseml.report import FIGURES_DIR, REPORT_FILE
from releaseml.training import evaluation

CLASSIFICATION_FIGURES = {
    "learning_curves",
    "feature_importance",
    "reasons",
    "dependence",
    "target",
    "confusion_matrix",
    "roc_curve",
    "pr_curve",
}
REGRESSION_FIGURES = {"learning_curves", "feature_importance", "reasons", "dependence", "target", "predicted_vs_actual", "residuals"}
EXPECTED_FIGURES = {
    "demo-species": CLASSIFICATION_FIGURES,
    "regression-body-mass": REGRESSION_FIGURES,
    "binary-sex": CLASSIFICATION_FIGURES | {"decision", "decision_confusion", "calibration"},  # a binary model's decision part
    "multiclass-grades": CLASSIFICATION_FIGURES,
}


def read(paths):
    return (paths.output_data_dir / REPORT_FILE).read_text(encoding="utf-8")


@pytest.mark.parametrize("case", EXPECTED_FIGURES)
def test_each_run_writes_a_self_contained_report_with_the_figures_of_its_task(trained_reports, case):
    paths = trained_reports[case]
    figures = {p.stem: p for p in (paths.output_data_dir / FIGURES_DIR).glob("*.png")}
    assert set(figures) == EXPECTED_FIGURES[case]
    html = read(paths)
    inlined = re.findall(r"src='data:image/png;base64,([^']+)'", html)
    assert sorted(base64.b64decode(data) for data in inlined) == sorted(p.read_bytes() for p in figures.values())
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and p.stat().st_size > 5000 for p in figures.values())
    assert "src='http" not in html and "<script" not in html  # nothing to fetch, nothing to run
    for section in ("Scores", "Known limits", "Data", "Model card", "Config (as given)", "CatBoost parameters", "Glossary"):
        assert f">{section}<" in html


def validation_rows(paths, config: dict):
    """The trained model and its validation rows, split again exactly as training split them."""
    from releaseml.config.config_file import validate
    from releaseml.data import dataset
    from releaseml.data.schema import labels
    from releaseml.model import bundle
    from releaseml.training.fitting import split

    model = bundle.load(paths.model_dir)
    frame = dataset.read_channel(paths.training_channel())
    config = validate(config)
    _, rows = split(labels(frame, model.schema), model.schema, config.validation_fraction, config.seed)
    return model, frame.iloc[rows]


def validation_metric(paths, name):
    return json.loads((paths.output_data_dir / "metrics.json").read_text())["validation"][name]


def test_the_confusion_matrix_agrees_with_catboosts_accuracy(trained_reports):
    paths = trained_reports["multiclass-grades"]
    model, valid = validation_rows(paths, {"target": "grade"})
    counts = evaluation.confusion(evaluation.score(model.model, valid, model.schema))
    assert counts.sum() == len(valid) and np.trace(counts) / counts.sum() == pytest.approx(validation_metric(paths, "accuracy"), abs=1e-12)
    assert counts.sum(axis=1).tolist() == [int((valid["grade"] == c).sum()) for c in model.schema.classes]


def test_the_binary_roc_area_is_catboosts_auc(trained_reports):
    paths = trained_reports["binary-sex"]
    model, valid = validation_rows(paths, {"target": "sex"})
    [(name, positive, scores)] = evaluation.one_vs_rest(evaluation.score(model.model, valid, model.schema))
    assert name == str(model.schema.classes[1])
    assert evaluation.roc_curve(positive, scores)[2] == pytest.approx(validation_metric(paths, "auc"), abs=1e-9)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), min_size=2, max_size=200))
def test_roc_area_equals_catboosts_auc_on_any_scores_with_ties(rows):
    truth = np.array([t for t, _ in rows])
    scores = np.array([s / 20 for _, s in rows])
    if truth.all() or not truth.any():
        return
    assert evaluation.roc_curve(truth, scores)[2] == pytest.approx(eval_metric(truth.astype(float), scores, "AUC")[0], abs=1e-12)


def test_precision_recall_on_a_known_ranking():
    recall, precision, average = evaluation.pr_curve(np.array([True, False, True, False]), np.array([0.9, 0.8, 0.7, 0.1]))
    assert recall.tolist() == [0, 0.5, 0.5, 1.0] and precision.tolist() == [1, 1.0, 0.5, 2 / 3]
    assert average == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_known_limits_are_spelled_out(trained_reports):
    demo, grades = read(trained_reports["demo-species"]), read(trained_reports["multiclass-grades"])
    assert "Small data: 344 rows" in demo
    assert "Class imbalance: grade = A is only" in grades and "Small data" not in grades


def test_a_leaking_column_and_a_perfect_score_are_flagged(tmp_path, penguins):
    from helpers import train_model

    leaky = penguins.assign(code=penguins["species"].map({"Adelie": 1, "Chinstrap": 2, "Gentoo": 3}))
    html = read(train_model(tmp_path, {"target": "species", "catboost": {"iterations": 100}}, leaky))
    assert "The model leans on one column: code carries" in html and "Validation accuracy is perfect" in html


def test_the_regression_headline_compares_with_always_predicting_the_average(trained_reports):
    html = read(trained_reports["regression-body-mass"])
    assert re.search(
        r"predictions of body_mass_g are off by [0-9.]+ on average \(always predicting the average would be off by [0-9.]+\)", html
    )
