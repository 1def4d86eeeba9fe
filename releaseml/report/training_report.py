"""Write the training report of one run: figures first, then the page that inlines them."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from catboost import CatBoost

from releaseml import __version__
from releaseml.common import stage_timer
from releaseml.common.layout import LIMITS_FILE
from releaseml.config.config_file import Config
from releaseml.config.tasks import TASK_METRICS
from releaseml.data.schema import BINARY, REGRESSION, Schema, labels, model_frame
from releaseml.data.values import NUMERIC
from releaseml.model import bundle
from releaseml.report import FIGURES_DIR, REPORT_FILE, decisions, figures, findings, page
from releaseml.training import evaluation
from releaseml.training.time_validation import PeriodScores


@dataclass
class TrainingRun:
    """Everything the report describes about one training run."""

    config: Config
    schema: Schema
    model: CatBoost
    params: dict
    metrics: dict[str, dict[str, float]]
    rows: dict[str, int]  # how many trained ("train") and validated ("validation")
    data: pd.DataFrame  # every labelled row, training and validation
    valid: pd.DataFrame
    data_files: list[str]
    validation_source: str
    started: datetime
    finished: datetime
    unlabelled: int = 0  # rows left out for having no target value
    warnings: list[str] = field(default_factory=list)  # found while training (columns that order rows as the target does)
    periods: list[PeriodScores] = field(default_factory=list)  # validation scored per period (with `time:`)
    # With `folds:`, the folds' mean learning curves and chosen tree count, and out-of-fold predictions.
    history: dict | None = None
    best_iteration: int | None = None
    scored: evaluation.Scored | None = None
    decision: dict | None = None  # binary with `decision:`: the chosen threshold and what it does (training/decision.py)
    interval: dict | None = None  # regression with `intervals:`: the calibrated width and its validation coverage
    balanced: dict | None = None  # a rare positive class: scores as trained and with balanced class weights
    train_measured: int | None = None  # the training rows' metrics were measured on this many of them (a sample)
    described: list[findings.Column] | None = None  # the data section's columns of `data`, when counted already


def write(out_dir: Path, run: TrainingRun) -> Path:
    """Draw the figures, write report.html beside them; returns the report's path."""
    figure_dir = out_dir / FIGURES_DIR
    figure_dir.mkdir(parents=True, exist_ok=True)
    schema = run.schema
    with stage_timer.stage("report: scoring"):
        scored = run.scored or evaluation.score(run.model, run.valid, schema)
    with stage_timer.stage("report: SHAP"):
        explained = _explained(run)
    importance = dict(zip(schema.features, (float(v) for v in run.model.get_feature_importance())))
    with stage_timer.stage("report: figures"):
        shown, decided = _figures(run, scored, explained, importance, figure_dir)
    with stage_timer.stage("report: page"):
        report = _page(out_dir, run, scored, importance, shown, decided)
    return report


def _figures(
    run: TrainingRun, scored: evaluation.Scored, explained: _Explained, importance: dict[str, float], figure_dir: Path
) -> tuple[list, list[str]]:
    """Every figure drawn (title, caption, path), and the decision part's sentences."""
    schema = run.schema
    history = run.history or run.model.get_evals_result()
    loss = next(iter(history["validation"]))  # training always watches the validation rows; the loss comes first
    best = run.best_iteration if run.history else run.model.get_best_iteration()
    whole = run.data

    shown = [
        (
            "Learning curves",
            "How the error fell as trees were added. Training rows keep improving; when validation rows stop improving, more trees only memorise, and training keeps the trees up to the best validation score.",
            figures.learning_curves(history, loss, best, figure_dir / "learning_curves.png", _our_name(loss, schema.task)),
        ),
        (
            "Feature importance",
            "How much each column changes the predictions on average (CatBoost's PredictionValuesChange, in % of the total, from the training rows). "
            "Near-zero columns could be dropped; one column far above the rest deserves a check for leaks.",
            figures.feature_importance(list(importance), pd.Series(importance).to_numpy(), figure_dir / "feature_importance.png"),
        ),
        *_reason_figures(explained, run, figure_dir),
        (
            f"The target: {schema.target}",
            "How many rows each class has: a class with few rows is harder to learn."
            if schema.classes
            else "The spread of the values to predict: the model is surest in the range where most rows lie.",
            figures.target_distribution(whole[schema.target], schema.task, schema.target, figure_dir / "target.png"),
        ),
    ]
    classes_shown = evaluation.shown_classes(scored) if schema.task != REGRESSION else []
    if schema.task == REGRESSION:
        shown += [
            (
                "Predicted vs actual",
                "Each dot is a validation row; on the dashed line the prediction is exact.",
                figures.predicted_vs_actual(scored, schema.target, figure_dir / "predicted_vs_actual.png"),
            ),
            (
                "Errors",
                "Errors should centre on zero with no pattern across predictions; a funnel or a curve means the model misses some structure.",
                figures.residuals(scored, schema.target, figure_dir / "residuals.png"),
            ),
        ]
    else:
        shown += [
            (
                "Confusion matrix",
                "Rows are the true class (with its count of validation rows), columns the predicted one; each cell holds its count of rows and "
                "their share of the true class, and is coloured by that share, so a rare class whose rows are mostly missed looks dark off the diagonal. "
                "The diagonal is right, everything else is a mistake, and where it sits tells which classes get mixed up.",
                figures.confusion_matrix(
                    evaluation.confusion(scored)[np.ix_(classes_shown, classes_shown)],
                    [str(scored.classes[i]) for i in classes_shown],
                    figure_dir / "confusion_matrix.png",
                ),
            ),
            (
                "ROC curve",
                f"How well the probabilities rank {_subject(schema)} above the others: the closer to the top-left corner, the better; the diagonal is guessing. "
                "The AUC is the area under the curve.",
                figures.roc_curves(scored, figure_dir / "roc_curve.png"),
            ),
            (
                "Precision-recall",
                f"For {_subject(schema)}, the share of rows predicted as it that really are (precision) against the share of its rows found (recall), "
                "as the probability needed to predict it goes from high to low. Useful when a class is rare.",
                figures.pr_curves(scored, figure_dir / "pr_curve.png"),
            ),
        ]

    decided = []
    if schema.task == BINARY:
        decided_part = decisions.part(scored, schema.classes[1], run.decision, run.config, figure_dir, run.balanced)
        shown += decided_part.figures
        decided = decided_part.sentences
    elif run.interval:
        decided = [_interval_sentence(run.interval)]
    return shown, decided


def _page(
    out_dir: Path, run: TrainingRun, scored: evaluation.Scored, importance: dict[str, float], shown: list, decided: list[str]
) -> Path:
    """report.html: the words, the tables and the figures drawn."""
    schema, whole = run.schema, run.data
    iterations = int(run.params["iterations"])  # fitting.catboost_params always sets it
    described = run.described if run.described is not None else findings.columns(whole, schema)
    context = page.PageContent(
        title=f"{schema.task.capitalize()} model for {schema.target}",
        headline=" ".join([findings.headline(schema, run.metrics, scored, {"validation": len(run.valid)}), *decided[:1]]),
        metrics=run.metrics,
        positive=findings.positive_label(schema) if schema.task == BINARY else None,
        folds=run.config.folds,
        columns=described,
        rows=run.rows,
        train_measured=run.train_measured,
        limits=[
            *run.warnings,
            *findings.limits(whole, schema, run.metrics, scored, importance, run.model.tree_count_, iterations, described),
            *decided[1:],
        ],
        periods=run.periods,
        figures=shown,
        card={
            "Predicts": _predicts(schema),
            "From": ", ".join(schema.features),
            "Trained on": _trained_on(run),
            "Validation": run.validation_source,
            "When": f"{run.started:%Y-%m-%d %H:%M:%S} UTC, {(run.finished - run.started).total_seconds():.1f} s",
            "Trees": f"{run.model.tree_count_} (of at most {iterations})",
            "Versions": f"releaseml {__version__}, CatBoost {_catboost_version()}, Python {platform.python_version()}",
            "Intended use": f"Predicting {schema.target} for new rows like these: the same columns, from the same kind of source and period. It has not seen rows unlike its training data, and its scores hold only for rows like the validation rows.",
        },
        config=run.config.model_dump(mode="json", exclude_unset=True, exclude={"aws", "data"}),
        params={k: v for k, v in run.params.items() if k not in ("train_dir",)},
    )
    report = out_dir / REPORT_FILE
    report.write_text(page.render(context), encoding="utf-8")
    (out_dir / LIMITS_FILE).write_text(json.dumps(context.limits, indent=1), encoding="utf-8")
    return report


def _our_name(catboost_metric: str, task: str) -> str:
    """The report's name for a CatBoost metric (MultiClass is logloss), else CatBoost's own."""
    names = {spec: name for name, spec in TASK_METRICS[task].items()}
    return names.get(catboost_metric, catboost_metric)


def _interval_sentence(interval: dict) -> str:
    return (
        f"Each prediction comes with an interval meant to hold the true value {interval['level']:.0%} of the time: the prediction "
        f"± {figures.short_number(interval['half_width'])} (mean width {figures.short_number(interval['mean_width'])}); "
        f"{interval['validation_coverage']:.1%} of the {interval['rows']:,} validation rows fell inside theirs."
    )


TOP_FEATURES = 3  # dependence figures for this many of the strongest features
# SHAP values for the reason figures on at most this many validation rows (a seeded random sample):
# the averages and the scatter settle long before, and SHAP on every row of a large data set would
# cost more than the training.
SHAP_ROWS = 2000
CLASSES_SHOWN_MOVING = 6  # multiclass: a row of dependence panels for each of at most this many classes (the most frequent)


@dataclass
class _Explained:
    """SHAP values of the reason figures: on the validation rows, or a sample of SHAP_ROWS of them."""

    rows: int  # how many rows were explained
    features: pd.DataFrame  # their typed features
    strength: np.ndarray  # mean |SHAP| per feature
    directions: list[tuple[figures.Direction, np.ndarray]]  # contributions toward each named score


def _explained(run: TrainingRun) -> _Explained:
    schema = run.schema
    model = bundle.Bundle(run.model, schema, {})
    rows = run.valid if len(run.valid) <= SHAP_ROWS else run.valid.sample(n=SHAP_ROWS, random_state=run.config.seed)
    features = model_frame(rows, schema)
    shap = model.shap_values(features)
    return _Explained(len(rows), features, _strength(shap, model, features), _directions(schema, shap, labels(rows, schema)))


def _reason_figures(explained: _Explained, run: TrainingRun, figure_dir: Path) -> list[tuple[str, str, Path]]:
    """The two reason figures: mean |SHAP| per feature, and how the strongest features' values move one named score."""
    schema, features, directions = run.schema, explained.features, explained.directions
    top = np.argsort(-explained.strength, kind="stable")[:TOP_FEATURES]
    names = [schema.features[i] for i in top]
    panel_rows = [
        (
            direction,
            [figures.Panel(name, features[name].to_numpy(), moved[:, i], schema.kinds[name] != NUMERIC) for name, i in zip(names, top)],
        )
        for direction, moved in directions
    ]
    return [
        (
            "What moves the predictions",
            f"Each column's average push, either way, on {_pushed(schema)}, by CatBoost's SHAP values on {_rows_shown(explained.rows, len(run.valid))}: "
            "the reasons the server gives with `explain`, averaged. "
            "The order can differ from Feature importance above: that chart measures, on the training rows, how much the predictions change "
            "when the column's value changes (CatBoost's own measure), while this one averages each validation row's SHAP push, which is "
            "shared out between columns that carry the same information.",
            figures.mean_contributions(schema.features, explained.strength, _pushed(schema), figure_dir / "reasons.png"),
        ),
        (
            _dependence_title(schema),
            _dependence_caption(schema, [direction for direction, _ in directions]),
            figures.dependence(panel_rows, figure_dir / "dependence.png"),
        ),
    ]


def _strength(shap: np.ndarray, model: bundle.Bundle, features: pd.DataFrame) -> np.ndarray:
    """Mean |SHAP| per feature: on the one score of a binary or regression model, on each row's predicted class for multiclass."""
    if shap.ndim == 3:
        shap = shap[np.arange(len(shap)), model.predict(features).class_indices]
    return np.abs(shap[:, :-1]).mean(axis=0)


def _pushed(schema: Schema) -> str:
    """The score the average push is on: the value, the positive class's log-odds, or the predicted class's."""
    if schema.task == REGRESSION:
        return "the predicted value"
    if schema.task == BINARY:
        return f"the log-odds of '{findings.positive_label(schema)}'"
    return "the log-odds of the predicted class"


def _directions(schema: Schema, shap: np.ndarray, truth: pd.Series) -> list[tuple[figures.Direction, np.ndarray]]:
    """Contributions toward one named score each, never toward each row's own prediction (that mirrors the signs between rows).

    CatBoost's ShapValues for a binary model explain the log-odds of classes[1], the positive class; for
    multiclass they are rows x classes x (features + 1), one score per class."""
    if schema.task == REGRESSION:
        return [(figures.Direction("the predicted value"), shap[:, :-1])]
    if schema.task == BINARY:
        name = f"'{findings.positive_label(schema)}'"
        return [(figures.Direction(f"the log-odds of {name}", name), shap[:, :-1])]
    counts = truth.astype(str).value_counts()
    shown = sorted(range(len(schema.classes)), key=lambda k: -counts.get(str(schema.classes[k]), 0))[:CLASSES_SHOWN_MOVING]
    return [(figures.Direction(f"the log-odds of '{schema.classes[k]}'", f"'{schema.classes[k]}'"), shap[:, k, :-1]) for k in sorted(shown)]


def _dependence_title(schema: Schema) -> str:
    if schema.task == REGRESSION:
        return "How the strongest columns move the prediction"
    if schema.task == BINARY:
        return f"How the strongest columns move the odds of '{findings.positive_label(schema)}'"
    return "How the strongest columns move each class's odds"


def _dependence_caption(schema: Schema, directions: list[figures.Direction]) -> str:
    """Says whose score the dots push, so that above the line reads the same for every row."""
    if schema.task == REGRESSION:
        return "For the strongest columns, each validation row's value against its push on the predicted value: above the line it raises the prediction, below it lowers it."
    if schema.task == BINARY:
        name = directions[0].toward
        return (
            f"For the strongest columns, each validation row's value against its contribution to the log-odds of {name}: "
            f"above the line the value makes {name} more likely, below it less likely."
        )
    more = f" (the {len(directions)} most frequent of {len(schema.classes)} classes)" if len(directions) < len(schema.classes) else ""
    return (
        f"One row of panels per class{more}: {', '.join(d.toward for d in directions)}, each panel titled with its class. Each dot is a "
        "validation row: its value of the column against the column's contribution to the log-odds of that panel's class; "
        "above the line the value makes that class more likely, below it less likely."
    )


def _predicts(schema: Schema) -> str:
    if schema.task == BINARY:
        return f"{schema.target} (binary: {', '.join(map(str, schema.classes))}; the positive class is '{findings.positive_label(schema)}')"
    return f"{schema.target} ({schema.task}" + (f": {', '.join(map(str, schema.classes))})" if schema.classes else ")")


def _subject(schema: Schema) -> str:
    """Whom a binary model's curves are about (its positive class), else each class."""
    return f"'{findings.positive_label(schema)}' rows" if schema.task == BINARY else "each class's rows"


def _trained_on(run: TrainingRun) -> str:
    """The rows the shipped model learnt from: all of them after cross-validation, else the training rows only."""
    files = ", ".join(run.data_files)
    left_out = f"; {run.unlabelled:,} more left out: no {run.schema.target}" if run.unlabelled else ""
    if run.config.folds:
        return f"all {len(run.data):,} rows from {files} (cross-validation scored each by a model trained without it){left_out}"
    return (
        f"the {run.rows['train']:,} training rows from {files}; the {run.rows['validation']:,} validation rows were held out "
        f"(they only chose when to stop adding trees, and give the scores){left_out}"
    )


def _rows_shown(used: int, validation: int) -> str:
    return "the validation rows" if used == validation else f"{used:,} of the {validation:,} validation rows (a random sample)"


def _catboost_version() -> str:
    import catboost

    return catboost.__version__
