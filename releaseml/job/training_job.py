"""One training job in the SageMaker layout: config and data in, model and metrics out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from releaseml.common import stage_timer
from releaseml.common.errors import UserError
from releaseml.common.layout import VALIDATION_CHANNEL, MLPaths
from releaseml.config import config_file as config_module
from releaseml.config import hyperparameters
from releaseml.data import data_paths, dataset, profile
from releaseml.data import schema as schema_module
from releaseml.model import bundle
from releaseml.report import findings  # the report's words and counts, without matplotlib
from releaseml.training import cross_validation, decision, evaluation, fitting, intervals, pools, time_validation
from releaseml.training.metrics import format_line


def read_hyperparameters(paths: MLPaths) -> dict:
    """hyperparameters.json as SageMaker hands it over: the config, flattened (and, in a tuning job's
    trial, the keys SageMaker adds)."""
    try:
        flat = json.loads(paths.hyperparameters.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{paths.hyperparameters} is missing: it holds the config (releaseml train-local writes it from releaseml.yaml)"
        ) from None
    except ValueError as exc:
        raise UserError(f"{paths.hyperparameters} is not valid JSON: {exc}") from None
    if not isinstance(flat, dict):
        raise UserError(f"{paths.hyperparameters} must hold a JSON object of hyperparameters")
    return flat


def run(paths: MLPaths) -> fitting.TrainingResult:
    """The whole job, each stage timed (`#releaseml stage` lines: `train-local --verbose` shows them)."""
    with stage_timer.recording():
        return _run(paths)


def _run(paths: MLPaths) -> fitting.TrainingResult:
    started = datetime.now(timezone.utc)
    flat = read_hyperparameters(paths)
    config = config_module.validate(hyperparameters.unflatten(flat), source="hyperparameters")
    string_columns = config.categorical
    frame = dataset.read_channel(paths.training_channel(), string_columns)
    data_files = [paths.relative_to_data(file) for file in data_paths.channel_files(paths.training_channel())]
    with stage_timer.stage("schema and checks"):
        schema = schema_module.infer(frame, config)
        _check_decisions_fit(schema, config)
        frame, unlabelled = fitting.drop_unlabelled(frame, schema)
        if unlabelled:
            print(f"Left out {unlabelled} row(s) with no value in the target column {schema.target!r}.")
        _describe(frame, schema)
        warnings = time_validation.ordering_leaks(frame, schema, config.time, config.seed)
        for warning in warnings:
            print(f"Warning: {warning}")

    with stage_timer.stage("typing for CatBoost"):
        typed = pools.rows(frame, schema)  # every row as CatBoost takes it: the profile's, and the pools' rows
    # The profile is taken before training, so that during training no more than the data, CatBoost's
    # pools and the validation rows' features are held (benchmarks/training.py measures the peak).
    with stage_timer.stage("profile"):
        data_profile = profile.build(typed.features, schema)
    with stage_timer.stage("data section"):  # the report's, counted now too: after training CatBoost's memory is still held
        described = None if paths.channel(VALIDATION_CHANNEL).is_dir() else findings.columns(frame, schema)
    fitted = _fit_and_validate(frame, typed, schema, config, paths, hyperparameters.tuning_objective(flat))
    del typed
    result, valid, frame = fitted.result, fitted.valid, fitted.data
    data_files += fitted.validation_files
    with stage_timer.stage("decision and saving"):
        by_period = time_validation.score_periods(result.model, valid, schema, config.time) if config.time else []
        for period in by_period:
            print(f"Validation, {period.label} ({period.rows} rows): " + ", ".join(f"{k} {v:.4g}" for k, v in period.metrics.items()))

        details = {
            "metrics": result.metrics,
            "rows": result.rows,
            "catboost_params": result.params,
            "config": config.model_dump(mode="json"),
        }
        details.update(_decide(result, valid, schema, config))
        bundle.save(paths.model_dir, result.model, schema, details)
        profile.save(paths.model_dir, data_profile)
        _write_metrics(paths.metrics, result, schema, details)
    with stage_timer.stage("report: loading matplotlib"):
        from releaseml.report import training_report  # matplotlib: loaded after training, not held through it

    described = training_report.TrainingRun(
        config,
        schema,
        result.model,
        result.params,
        result.metrics,
        result.rows,
        frame,
        valid,
        data_files,
        fitted.source,
        started,
        datetime.now(timezone.utc),
        unlabelled,
        warnings,
        by_period,
        scored=result.scored,
        train_measured=result.train_measured,
        described=described,
        **_cross_validated(result),
        decision=details.get("decision"),
        interval=details.get("interval"),
        balanced=fitted.balanced,
    )
    print(f"Report: {training_report.write(paths.output_data_dir, described)}")
    return result


@dataclass
class _Fitted:
    result: fitting.TrainingResult
    valid: pd.DataFrame  # the rows the metrics' "validation" describes
    data: pd.DataFrame  # every labelled row, training and validation
    source: str  # how the validation rows were chosen, in words
    validation_files: list[str]
    balanced: dict | None = None  # a rare positive class: scores as trained and with balanced class weights


def _fit_and_validate(
    frame: pd.DataFrame,
    typed: pools.Rows,
    schema: schema_module.Schema,
    config: config_module.Config,
    paths: MLPaths,
    objective: str | None = None,
) -> _Fitted:
    """Train and validate by the config's way: folds, a validation channel, the latest rows by time, or a random share.

    `typed`: the frame's rows typed for CatBoost. `objective`: the tuning job's, when this is one of its trials."""
    validation_dir = paths.channel(VALIDATION_CHANNEL)
    checkpoints = paths.checkpoints if paths.checkpoints.is_dir() else None  # SageMaker made it: a job with checkpoints
    params = fitting.catboost_params(config, schema)
    # A trial of a SageMaker tuning job: its objective while training, for the tuning job's early stopping.
    callbacks = (fitting.ObjectiveLines(objective, int(params.get("iterations", 1000))),) if objective else ()
    if config.folds and validation_dir.is_dir():
        raise UserError(
            "folds: cross-validation validates on the training rows in turn, and validation data was given too; "
            "remove `folds:` to score on the validation data, or leave the validation data out"
        )
    if config.folds:
        result = cross_validation.run(frame, schema, params, config.folds, config.seed)
        source = (
            f"{config.folds}-fold cross-validation (seed {config.seed}{', stratified by class' if schema.classes else ''}): "
            f"each of the {len(frame)} rows validated once; the final model trained on all of them with {result.best_iteration + 1} trees"
        )
        print(f"Validation: {source}.")
        return _Fitted(result, frame, frame, source, [])
    if validation_dir.is_dir():
        valid, _ = fitting.drop_unlabelled(dataset.read_channel(validation_dir, config.categorical), schema)
        _check_validation_columns(valid, schema)
        source = f"the {len(valid)} rows of the validation channel"
        print(f"Validation: {source}.")
        result = fitting.fit(frame, valid, schema, params, checkpoints, callbacks, score=True)
        files = [paths.relative_to_data(file) for file in data_paths.channel_files(validation_dir)]
        return _Fitted(result, valid, pd.concat([frame, valid], ignore_index=True), source, files)
    with stage_timer.stage("split"):
        train_rows, valid_rows, source = held_out(frame, schema, config)
    print(f"Validation: {source}.")
    # The training rows are a copy only `fit` holds: freed once their pool is built.
    result = fitting.fit(typed.take(train_rows), typed.take(valid_rows), schema, params, checkpoints, callbacks, score=True)
    balanced = (
        _balanced_comparison(result, lambda: typed.take(train_rows), typed.take(valid_rows), schema, params) if not objective else None
    )
    return _Fitted(result, frame.iloc[valid_rows], frame, source, [], balanced)


BALANCED_MAX_ROWS = 200_000  # above this, a second training to compare class weights costs too much to do unasked


def _balanced_comparison(result, train_rows, valid: pools.Rows, schema: schema_module.Schema, params: dict) -> dict | None:
    """For a rare positive class: the validation scores at 0.5 as trained, and as trained with CatBoost's
    `auto_class_weights: Balanced`, so the report can show the choice (one more training, small data only)."""
    if schema.task != schema_module.BINARY or "auto_class_weights" in params or "class_weights" in params:
        return None
    positive = str(schema.classes[1])
    share = float(np.mean(pd.Series(valid.labels).astype(str) == positive))
    if share >= findings.RARE_POSITIVE_SHARE or len(valid) * 5 > BALANCED_MAX_ROWS:
        return None
    print("The positive class is rare: training once more with auto_class_weights: Balanced to compare (the report shows both).")
    weighted = fitting.fit(
        train_rows(), valid, schema, {**params, "auto_class_weights": "Balanced", "verbose": False}, None, (), score=True
    )
    return {"as_trained": _at_half(result.scored, schema), "balanced": _at_half(weighted.scored, schema)}


def _at_half(scored: evaluation.Scored, schema: schema_module.Schema) -> dict:
    is_positive = scored.truth.astype(str) == str(schema.classes[1])
    flagged = scored.probabilities[:, 1] >= 0.5
    _, _, auc = evaluation.roc_curve(is_positive, scored.probabilities[:, 1])
    return {
        "recall": float(flagged[is_positive].mean()) if is_positive.any() else 0.0,
        "precision": float(is_positive[flagged].mean()) if flagged.any() else 0.0,
        "auc": auc,
    }


def _cross_validated(result: fitting.TrainingResult) -> dict:
    """What the report takes from cross-validation: the folds' learning curves (its `scored` are out-of-fold)."""
    if not isinstance(result, cross_validation.CrossValidated):
        return {}
    return {"history": result.history, "best_iteration": result.best_iteration}


def held_out(frame: pd.DataFrame, schema: schema_module.Schema, config: config_module.Config):
    """Training and validation row positions, and the sentence that says how they were chosen."""
    if config.time:
        split = time_validation.hold_out_latest(frame, config.time, config.validation_fraction)
        return split.train_rows, split.valid_rows, split.describe()
    train_rows, valid_rows = fitting.split(schema_module.labels(frame, schema), schema, config.validation_fraction, config.seed)
    return (
        train_rows,
        valid_rows,
        f"{len(valid_rows)} of {len(frame)} rows held out at random (validation_fraction {config.validation_fraction}, seed {config.seed})",
    )


def _describe(frame, schema: schema_module.Schema) -> None:
    classes = schema.classes or []
    shown = (
        ""
        if not classes
        else f", classes {classes}"
        if len(classes) <= 20
        else f", {len(classes)} classes ({', '.join(map(str, classes[:5]))}, ...)"
    )
    print(f"Task: {schema.task} on {schema.target!r}{shown}.")
    if schema.positive_class is not None:
        print(f"Positive class: {schema.positive_class!r} (f1, precision and recall are about it; `positive_class:` chooses another).")
    if len(classes) > 50 and len(classes) > 0.2 * len(frame):
        print(
            f"Warning: {schema.target!r} has {len(classes)} different values in {len(frame)} rows: it looks like an identifier or a "
            "free-text column, not a class to predict. Training will be slow and the model will not generalise; check `target:`."
        )
    print(f"Features ({len(schema.features)}): " + ", ".join(f"{name} ({schema.kinds[name]})" for name in schema.features))
    if schema.ignored:
        print(f"Not used: {', '.join(schema.ignored)}.")


def _check_decisions_fit(schema: schema_module.Schema, config: config_module.Config) -> None:
    """`decision:` and `intervals:` against the task the data shows (a `task:` was checked with the config)."""
    if config.decision is not None and schema.task != schema_module.BINARY:
        raise UserError(
            f"decision: chooses a threshold for a binary target, and {schema.target!r} is a {schema.task} target; remove `decision:`"
        )
    if config.intervals is not None and schema.task != schema_module.REGRESSION:
        raise UserError(
            f"intervals: are for a regression target (a number), and {schema.target!r} is a {schema.task} target; remove `intervals:`"
        )


def _decide(result, valid: pd.DataFrame, schema: schema_module.Schema, config: config_module.Config) -> dict:
    """The decision's threshold and the intervals' width, chosen on the validation rows (out-of-fold with folds)."""
    if config.decision is None and config.intervals is None:
        return {}
    scored = result.scored or evaluation.score(result.model, valid, schema)
    if config.decision is not None:
        positive = schema.classes[1]
        chosen = decision.choose(scored.truth.astype(str) == str(positive), scored.probabilities[:, 1], config.decision, str(positive))
        print(f"Decision ({_rule_words(config.decision)}): {_decision_sentence(chosen, positive)}")
        return {"threshold": chosen.threshold, "decision": chosen.as_dict()}
    calibrated = intervals.calibrate(scored.truth, scored.predicted, config.intervals)
    print(
        f"Intervals ({config.intervals:.0%}): each prediction +- {calibrated.half_width:.4g}; "
        f"{calibrated.validation_coverage:.1%} of the {calibrated.rows} validation rows fall inside theirs."
    )
    return {"interval": calibrated.as_dict()}


def _rule_words(rule) -> str:
    if rule.costs is not None:
        return f"a false positive costs {rule.costs.false_positive:g}, a false negative {rule.costs.false_negative:g}"
    return f"min_recall {rule.min_recall:g}" if rule.min_recall is not None else f"min_precision {rule.min_precision:g}"


def _decision_sentence(chosen: decision.Decision, positive) -> str:
    said = (
        f"at {chosen.threshold:.3g} the model catches {chosen.recall:.0%} of {str(positive)!r} and flags "
        f"{chosen.flagged_share:.0%} of the rows ({chosen.precision:.0%} of those flagged are {str(positive)!r})"
    )
    if chosen.cost is not None:
        said += f"; cost {chosen.cost:.4g} on the validation rows, against {chosen.cost_at_default:.4g} at 0.5"
    return said + "."


def _check_validation_columns(valid, schema: schema_module.Schema) -> None:
    missing = [c for c in [*schema.features, schema.target] if c not in valid.columns]
    if missing:
        raise UserError(f"the validation data lacks column(s) {missing} that the training data has")
    if schema.classes is not None:
        unknown = sorted(set(schema_module.labels(valid, schema).unique()) - set(schema.classes), key=str)
        if unknown:
            raise UserError(
                f"the validation data has class(es) {unknown} in {schema.target!r} that the training data lacks; "
                "put rows of every class in the training data"
            )


def _write_metrics(path: Path, result: fitting.TrainingResult, schema: schema_module.Schema, details: dict) -> None:
    """metrics.json ({split: {name: value}}; for a binary target `positive_class`, and with `decision:` what the
    threshold does on the validation rows, since the splits' f1, precision and recall are CatBoost's at 0.5;
    with `intervals:` their width and coverage) and the metric lines SageMaker reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    named = {"positive_class": schema.positive_class} if schema.positive_class is not None else {}
    named.update({key: details[key] for key in ("decision", "interval") if key in details})
    path.write_text(json.dumps({**result.metrics, **named}, indent=2) + "\n", encoding="utf-8")
    for split_name, values in result.metrics.items():
        for name, value in values.items():
            print(format_line(split_name, name, value))
