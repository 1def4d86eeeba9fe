"""Write the training report of one run: figures first, then the page that inlines them."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from catboost import CatBoost

from releaseml import __version__
from releaseml.config.config_file import Config
from releaseml.data.schema import REGRESSION, Schema, model_frame
from releaseml.data.values import NUMERIC
from releaseml.model import bundle
from releaseml.report import FIGURES_DIR, REPORT_FILE, figures, findings, page
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


def write(out_dir: Path, run: TrainingRun) -> Path:
    """Draw the figures, write report.html beside them; returns the report's path."""
    figure_dir = out_dir / FIGURES_DIR
    figure_dir.mkdir(parents=True, exist_ok=True)
    schema = run.schema
    scored = run.scored or evaluation.score(run.model, run.valid, schema)
    importance = dict(zip(schema.features, (float(v) for v in run.model.get_feature_importance())))
    history = run.history or run.model.get_evals_result()
    loss = next(iter(history["validation"]))  # training always watches the validation rows; the loss comes first
    best = run.best_iteration if run.history else run.model.get_best_iteration()
    whole = run.data

    shown = [
        (
            "Learning curves",
            "How the error fell as trees were added. Training rows keep improving; when validation rows stop improving, more trees only memorise, and training keeps the trees up to the best validation score.",
            figures.learning_curves(history, loss, best, figure_dir / "learning_curves.png"),
        ),
        (
            "Feature importance",
            "How much each column changes the predictions on average. Near-zero columns could be dropped; one column far above the rest deserves a check for leaks.",
            figures.feature_importance(list(importance), pd.Series(importance).to_numpy(), figure_dir / "feature_importance.png"),
        ),
        *_reasons(run, figure_dir),
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
                "Rows are the true class, columns the predicted one: the diagonal is right, everything else is a mistake, and where it sits tells which classes get mixed up.",
                figures.confusion_matrix(
                    evaluation.confusion(scored)[np.ix_(classes_shown, classes_shown)],
                    [str(scored.classes[i]) for i in classes_shown],
                    figure_dir / "confusion_matrix.png",
                ),
            ),
            (
                "ROC curve",
                "How well the probabilities rank each class above the others: the closer to the top-left corner, the better; the diagonal is guessing.",
                figures.roc_curves(scored, figure_dir / "roc_curve.png"),
            ),
            (
                "Precision-recall",
                "For each class, the share of rows predicted as that class that really are (precision) against the share of that class found (recall). Useful when a class is rare.",
                figures.pr_curves(scored, figure_dir / "pr_curve.png"),
            ),
        ]

    iterations = int(run.params["iterations"])  # fitting.catboost_params always sets it
    context = page.PageContent(
        title=f"{schema.task.capitalize()} model for {schema.target}",
        headline=findings.headline(schema, run.metrics, scored, {"validation": len(run.valid)}),
        metrics=run.metrics,
        columns=findings.columns(whole, schema),
        rows=run.rows,
        limits=[*run.warnings, *findings.limits(whole, schema, run.metrics, scored, importance, run.model.tree_count_, iterations)],
        periods=run.periods,
        figures=shown,
        card={
            "Predicts": f"{schema.target} ({schema.task}" + (f": {', '.join(map(str, schema.classes))})" if schema.classes else ")"),
            "From": ", ".join(schema.features),
            "Trained on": f"{len(whole)} rows from {', '.join(run.data_files)}"
            + (f" ({run.unlabelled} more left out: no {schema.target})" if run.unlabelled else ""),
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
    return report


TOP_FEATURES = 3  # dependence figures for this many of the strongest features
# SHAP values for the reason figures on at most this many validation rows (a seeded random sample):
# the averages and the scatter settle long before, and SHAP on every row of a large data set would
# cost more than the training.
SHAP_ROWS = 2000


def _reasons(run: TrainingRun, figure_dir: Path) -> list[tuple[str, str, Path]]:
    """The two reason figures: mean |SHAP| per feature, and how the strongest features' values move the score."""
    schema = run.schema
    model = bundle.Bundle(run.model, schema, {})
    rows = run.valid if len(run.valid) <= SHAP_ROWS else run.valid.sample(n=SHAP_ROWS, random_state=run.config.seed)
    features = model_frame(rows, schema)
    contributions, _ = model.contributions(features, model.predict(features))
    strength = np.abs(contributions).mean(axis=0)
    top = np.argsort(-strength, kind="stable")[:TOP_FEATURES]
    panels = [
        (schema.features[i], features[schema.features[i]].to_numpy(), contributions[:, i], schema.kinds[schema.features[i]] != NUMERIC)
        for i in top
    ]
    score = "the predicted value" if schema.task == REGRESSION else "the predicted class's score (log-odds)"
    return [
        (
            "What moves the predictions",
            f"Each column's average push on {score}, by CatBoost's SHAP values on {_rows_shown(len(rows), len(run.valid))}: the reasons the server gives with `explain`, averaged.",
            figures.mean_contributions(schema.features, strength, figure_dir / "reasons.png"),
        ),
        (
            "How the strongest columns move them",
            "For the strongest columns, each validation row's value against its push on the score: above the line it raises the prediction, below it lowers it.",
            figures.dependence(panels, figure_dir / "dependence.png"),
        ),
    ]


def _rows_shown(used: int, validation: int) -> str:
    return "the validation rows" if used == validation else f"{used:,} of the {validation:,} validation rows (a random sample)"


def _catboost_version() -> str:
    import catboost

    return catboost.__version__
