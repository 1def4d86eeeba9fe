"""Hyperparameter tuning on this machine (`releaseml tune --local`): Optuna searches the `tune:` ranges.

The first trial is the config as it is, so tuning never ends worse than not tuning. Then Optuna's
TPE sampler, seeded by the config's `seed`, proposes values from what the earlier trials scored,
and its median pruner stops a trial whose validation loss, tree by tree, is worse than the median of
the earlier trials at the same tree (CatBoost reports the loss after every tree). Trials run in up
to `tune.parallel` processes (at most the CPU count), sharing one Optuna journal file in the ML
root; with one process, a fixed seed gives the same trials and the same best values.

Each trial trains in-process with the same rows as `train-local` (the same random or time split, the
validation data, or the folds: then the objective is the folds' mean, and trials are not pruned).
The best values are written into `tuning/best.yaml` in the ML root and trained by `train-local`'s
own path: a normal model with its report, and beside it the tuning page (`tuning.html`).

So that the page can say whether the best trial beats the config as it is by more than chance, the
noise is estimated once: with folds, the folds' standard deviation of trial 0 (no extra training);
else, with at least NOISE_MIN_TRIALS trials, trial 0 retrained with NOISE_SEEDS other CatBoost seeds on
the same split, and the spread (highest minus lowest) of those NOISE_SEEDS + 1 objectives.
"""

from __future__ import annotations

import contextlib
import io
import math
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from releaseml.common.errors import UserError
from releaseml.common.layout import MLPaths
from releaseml.config import config_file as config_module
from releaseml.local import runner as local
from releaseml.local import runs, staging

TUNING_DIR = "tuning"  # in the ML root: the journal of trials and best.yaml
STUDY = "releaseml"
MINIMIZED = ("logloss", "rmse", "mae")  # every other metric is better higher
NOISE_SEEDS = 2  # extra trainings of the config as it is, with other seeds, to measure what chance alone moves
NOISE_MIN_TRIALS = 5  # with fewer trials those trainings would be a large share of the search: no estimate


@dataclass
class TuningOutcome:
    objective: str
    direction: str
    trials: list[dict]
    best: dict
    defaults: Optional[float]
    training: local.LocalTrainingRun
    page: Path
    noise: Optional[dict] = None
    shown: Any = None  # tuning_page.TuningPage: what the page drew and said

    def summary(self) -> dict:
        """What `tune --local --json` prints."""
        return {
            "objective": self.objective,
            "direction": self.direction,
            "best": self.best,
            "defaults": self.defaults,
            "trials": self.trials,
            "noise": self.noise,
            "verdict": self.shown.verdict if self.shown else None,
            "tuning_page": str(self.page),
            **self.training.summary(),
        }


def missing_section_message(config_path: Path) -> str:
    return (
        f"{config_path} has no `tune:` section; add one, e.g.\n  tune:\n    trials: 20\n    ranges:\n"
        "      catboost.depth: {min: 4, max: 10}\n      catboost.learning_rate: {min: 0.01, max: 0.3, scale: log}"
    )


def objective_of(config: config_module.Config, task: str) -> tuple[str, str]:
    """The metric to optimise (`validation:<name>`) and its direction, checked against the task."""
    from releaseml.config.tasks import TASK_METRICS

    names = TASK_METRICS[task]
    wanted = config.tune.objective or f"validation:{next(iter(names))}"
    name = wanted.split(":", 1)[1]
    if name not in names:
        raise UserError(f"tune.objective {wanted}: a {task} model is measured by {', '.join(names)}; pick one of those")
    return wanted, "minimize" if name in MINIMIZED else "maximize"


def run(
    config_path: Path,
    data: Optional[Path] = None,
    validation: Optional[Path] = None,
    ml_root: Optional[Path] = None,
    engine: str = "auto",
    image: Optional[str] = None,
) -> TuningOutcome:
    """Search, then train the best trial's values as a normal model: a new run of the project, or into `ml_root`."""
    config = config_module.load(config_path)
    if config.tune is None:
        raise UserError(missing_section_message(config_path))
    if ml_root is not None:
        return _tune_in(config_path, config, data, validation, ml_root, engine, image)
    store = runs.RunStore.of_config(config_path)
    sources = [data or local.configured_path(config_path, config.data.training if config.data else None), validation]
    run = store.create(config_path, config.model_dump(mode="json", exclude_unset=True), local.data_files(*sources))
    print(f"Run {run.id} (in {store.root})", flush=True)
    outcome, failure = None, None
    try:
        outcome = _tune_in(config_path, config, data, validation, run.path, engine, image)
        outcome.training.run_id = run.id
        return outcome
    except BaseException as exc:
        failure = str(exc) or type(exc).__name__
        raise
    finally:
        training = outcome.training if outcome else None
        store.finish(run, training.exit_code if training else 1, training.metrics if training else {}, failure)


def _tune_in(config_path: Path, config, data, validation, ml_root: Path, engine, image) -> TuningOutcome:
    import optuna

    if ml_root.exists() and not ml_root.is_dir():
        raise UserError(f"--ml-root {str(ml_root)!r} is a file; give a directory (it is created if missing)")
    paths = MLPaths(ml_root)
    data = data or local.configured_path(config_path, config.data.training if config.data else None)
    validation = validation or local.configured_path(config_path, config.data.validation if config.data else None)
    staging.stage_training(paths, config, data, validation)
    prepared = _prepare(paths, config)
    objective, direction = objective_of(config, prepared.schema.task)
    workdir = ml_root / TUNING_DIR
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    journal = workdir / "journal.log"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=STUDY, storage=_storage(journal), direction=direction)
    total, processes = config.tune.trials, max(1, min(config.tune.parallel, os.cpu_count() or 1, config.tune.trials - 1))
    print(f"Tuning: {total} trials by {objective} ({direction}), {processes} at once; trial 0 is the config as it is.", flush=True)

    started = time.monotonic()
    value, result, params = _trained(prepared, config, {}, objective, None, threads=-1)
    attributes = {"seconds": time.monotonic() - started, "used": _used(config, params, result.model)}
    study.add_trial(optuna.trial.create_trial(value=value, params={}, distributions={}, user_attrs=attributes))
    _report_trial(study.trials[-1], study, total, objective)
    noise = _noise(prepared, config, objective, value, result)
    shares = [(total - 1) // processes + (index < (total - 1) % processes) for index in range(processes)]
    log = _log_target()
    settings = [(str(config_path), str(ml_root), index, share, processes, log) for index, share in enumerate(shares) if share]
    if len(settings) == 1:
        _search(*settings[0], prepared=prepared)
    elif settings:
        context = multiprocessing.get_context("spawn")  # CatBoost's threads in this process are not forked
        with context.Pool(len(settings)) as pool:
            pool.starmap(_search, settings)

    study = optuna.load_study(study_name=STUDY, storage=_storage(journal))
    best = study.best_trial
    best_values = dict(best.params)
    print(
        f"Best: trial {best.number}, {objective} {best.value:.6g}"
        + (f" with {_shown(best_values)}" if best_values else " (the config as it is)"),
        flush=True,
    )
    best_config = _write_best_config(config_path, workdir / "best.yaml", best_values)
    print(f"Training the best values into {ml_root} ({best_config}).", flush=True)
    training = local.train(best_config, None, None, ml_root, engine, image)
    if training.exit_code != 0:
        raise UserError(f"training the best values failed: {training.failure or f'exit code {training.exit_code}'}")
    trials = [_described(trial) for trial in study.trials]
    from releaseml.report import tuning_page

    scales = {key: getattr(span, "scale", "linear") for key, span in config.tune.ranges.items()}
    shown = tuning_page.write(paths.output_data_dir, objective, direction, trials, best.number, noise, scales)
    print(shown.verdict, flush=True)
    print(f"Tuning page: {shown.path}", flush=True)
    return TuningOutcome(
        objective=objective,
        direction=direction,
        trials=trials,
        best={"trial": best.number, "value": best.value, "values": best_values},
        defaults=study.trials[0].value,
        training=training,
        page=shown.path,
        noise=noise,
        shown=shown,
    )


def _storage(journal: Path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(journal)))


def _log_target() -> str:
    """Where this process's log goes (the task may have sent it to stderr, for --json, or nowhere), for
    the worker processes to follow: they write to the file descriptors, not to this sys.stdout."""
    if sys.stdout is sys.__stdout__:
        return "stdout"
    return "devnull" if getattr(sys.stdout, "name", "") == os.devnull else "stderr"


def _search(config_path: str, ml_root: str, index: int, count: int, processes: int, log: str = "stdout", prepared=None) -> None:
    """One process's share of the trials, proposed by a sampler that sees every trial in the journal."""
    with contextlib.ExitStack() as stack:
        if log == "stderr":
            stack.enter_context(contextlib.redirect_stdout(sys.stderr))
        elif log == "devnull":
            stack.enter_context(contextlib.redirect_stdout(stack.enter_context(open(os.devnull, "w"))))
        _search_here(config_path, ml_root, index, count, processes, prepared)


def _search_here(config_path: str, ml_root: str, index: int, count: int, processes: int, prepared) -> None:
    import optuna

    from releaseml.training import fitting

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = config_module.load(Path(config_path))
    prepared = prepared or _prepare(MLPaths(Path(ml_root)), config)
    objective, _ = objective_of(config, prepared.schema.task)
    sampler = optuna.samplers.TPESampler(seed=config.seed + index, n_startup_trials=min(10, max(2, config.tune.trials // 4)))
    # A trial is judged after a quarter of its trees at the earliest: a small learning rate starts slow.
    warmup = max(10, int(config.catboost.get("iterations", fitting.DEFAULT_CATBOOST_PARAMS["iterations"])) // 4)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=warmup)
    study = optuna.load_study(
        study_name=STUDY, storage=_storage(Path(ml_root) / TUNING_DIR / "journal.log"), sampler=sampler, pruner=pruner
    )
    threads = max(1, (os.cpu_count() or 1) // processes)

    def trial_objective(trial) -> float:
        started = time.monotonic()
        values = {key: _suggest(trial, key, span) for key, span in config.tune.ranges.items()}
        try:
            return _score(prepared, config, values, objective, trial, threads)
        finally:
            trial.set_user_attr("seconds", time.monotonic() - started)

    def progress(study, trial) -> None:
        _report_trial(trial, study, config.tune.trials, objective)

    study.optimize(trial_objective, n_trials=count, callbacks=[progress], catch=(UserError,))


def _suggest(trial, key: str, span) -> Any:
    if isinstance(span, list):
        return trial.suggest_categorical(key, span)
    kind = config_module.TUNABLE[key][0]
    if kind == "int":
        return trial.suggest_int(key, int(span.min), int(span.max), log=span.scale == "log")
    return trial.suggest_float(key, span.min, span.max, log=span.scale == "log")


@dataclass
class _Prepared:
    schema: Any
    frame: Any  # every labelled training row
    train: Any  # None with folds
    valid: Any


def _prepare(paths: MLPaths, config: config_module.Config) -> _Prepared:
    """The rows every trial trains and validates on: read once per process, split as training splits."""
    from releaseml.common.layout import VALIDATION_CHANNEL
    from releaseml.data import dataset
    from releaseml.data import schema as schema_module
    from releaseml.job import training_job
    from releaseml.training import fitting

    frame = dataset.read_channel(paths.training_channel(), config.categorical)
    schema = schema_module.infer(frame, config)
    frame, _ = fitting.drop_unlabelled(frame, schema)
    if config.folds:
        return _Prepared(schema, frame, None, None)
    if paths.channel(VALIDATION_CHANNEL).is_dir():
        valid, _ = fitting.drop_unlabelled(dataset.read_channel(paths.channel(VALIDATION_CHANNEL), config.categorical), schema)
        return _Prepared(schema, frame, frame, valid)
    train_rows, valid_rows, _ = training_job.held_out(frame, schema, config)
    return _Prepared(schema, frame, frame.iloc[train_rows], frame.iloc[valid_rows])


def _score(prepared: _Prepared, config: config_module.Config, values: dict[str, Any], objective: str, trial, threads: int) -> float:
    """Train with the trial's values and return its objective; a pruned trial raises optuna.TrialPruned."""
    return _trained(prepared, config, values, objective, trial, threads)[0]


def _trained(prepared: _Prepared, config: config_module.Config, values: dict[str, Any], objective: str, trial, threads: int):
    """The objective, the training result and the CatBoost parameters given: trial 0 keeps the model to read what it used."""
    import optuna

    from releaseml.training import cross_validation, fitting

    tuned = config.model_copy(update={"catboost": {**config.catboost, **{key.split(".", 1)[1]: value for key, value in values.items()}}})
    params = {**fitting.catboost_params(tuned, prepared.schema), "verbose": False}
    if "thread_count" not in config.catboost and threads > 0:
        params["thread_count"] = threads
    metric = objective.split(":", 1)[1]
    with contextlib.redirect_stdout(io.StringIO()):
        if config.folds:
            result = cross_validation.run(prepared.frame, prepared.schema, params, config.folds, config.seed)
        else:
            pruning = _Pruning(trial, objective_sign=1 if metric in MINIMIZED else -1) if trial is not None else None
            result = fitting.fit(prepared.train, prepared.valid, prepared.schema, params, callbacks=(pruning,) if pruning else ())
            if pruning is not None and pruning.pruned_at is not None:
                trial.set_user_attr("pruned_at", pruning.pruned_at)
                raise optuna.TrialPruned(f"pruned at tree {pruning.pruned_at}")
    value = result.metrics["validation"][metric]
    if math.isnan(value):
        raise UserError(f"{objective} is not a number for these values")
    return value, result, params


def _used(config: config_module.Config, params: dict[str, Any], model) -> dict[str, dict]:
    """Each tuned key's value in trial 0 and where it came from (the config, a default, or CatBoost's own
    choice of learning rate), read from the trained model: trial 0 sets none, yet it used them all."""
    actual = model.get_all_params()
    used = {}
    for key in config.tune.ranges:
        name = key.split(".", 1)[1]
        if name in config.catboost:
            used[key] = {"value": config.catboost[name], "source": "config"}
        elif name in params:  # releaseml's defaults (iterations)
            used[key] = {"value": params[name], "source": "default"}
        elif name in actual:
            used[key] = {"value": _plain(actual[name]), "source": "auto" if name == "learning_rate" else "default"}
        else:  # not a setting of this model (subsample with Bayesian bootstrap)
            used[key] = {"value": None, "source": "unused"}
    return used


def _plain(value: Any) -> Any:
    """A number or name as JSON stores it (the journal and --json), not a NumPy scalar."""
    return value.item() if hasattr(value, "item") else value


def _noise(prepared: _Prepared, config: config_module.Config, objective: str, first: float, result) -> Optional[dict]:
    """How far chance alone moves the objective of the config as it is; None when too few trials to pay for it."""
    metric = objective.split(":", 1)[1]
    if config.folds:
        spread = float(result.metrics["validation_std"][metric])
        print(f"Noise: the config's {config.folds} folds score {objective} with a standard deviation of {spread:.4g}.", flush=True)
        return {"kind": "folds", "spread": spread, "folds": config.folds}
    if config.tune.trials < NOISE_MIN_TRIALS:
        print(f"Noise: not estimated (fewer than {NOISE_MIN_TRIALS} trials).", flush=True)
        return None
    seeds = [config.seed + step for step in range(1, NOISE_SEEDS + 1)]
    again = [_score(prepared, config.model_copy(update={"seed": seed}), {}, objective, None, threads=-1) for seed in seeds]
    values = [first, *again]
    spread = max(values) - min(values)
    print(
        f"Noise: the config as it is with seeds {', '.join(map(str, [config.seed, *seeds]))} on the same split scores "
        f"{objective} {', '.join(f'{v:.4g}' for v in values)}: chance alone moves it by {spread:.4g}.",
        flush=True,
    )
    return {"kind": "seeds", "spread": spread, "seeds": [config.seed, *seeds], "values": values}


class _Pruning:
    """CatBoost callback: report the validation loss after each tree; stop when Optuna says prune.

    The loss is always lower-better; for an objective that is higher-better it is reported negated,
    so that the pruner, which reads reports in the study's direction, compares like with like."""

    def __init__(self, trial, objective_sign: int):
        self.trial, self.sign, self.pruned_at = trial, objective_sign, None

    def after_iteration(self, info) -> bool:
        losses = info.metrics.get("validation", {})
        if not losses:
            return True
        loss = next(iter(losses.values()))[-1]
        self.trial.report(self.sign * loss, info.iteration)
        if self.trial.should_prune():
            self.pruned_at = info.iteration
            return False
        return True


def _report_trial(trial, study, total: int, objective: str) -> None:
    state = trial.state.name
    values = _shown(trial.params) if trial.params else "the config as it is"
    seconds = trial.user_attrs.get("seconds", 0.0)
    if state == "COMPLETE":
        complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        best = (min if study.direction.name == "MINIMIZE" else max)(complete, key=lambda t: t.value)
        outcome = f"{objective} {trial.value:.6g} (best so far {best.value:.6g}, trial {best.number})"
    elif state == "PRUNED":
        outcome = f"pruned at tree {trial.user_attrs.get('pruned_at', '?')}: worse than the median trial there"
    else:
        outcome = "failed: CatBoost refused these values"
    print(f"Trial {trial.number} of {total}: {values} -> {outcome}, {seconds:.1f} s", flush=True)


def _shown(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{key.split('.', 1)[-1]} {value:.4g}" if isinstance(value, float) else f"{key.split('.', 1)[-1]} {value}"
        for key, value in values.items()
    )


def _described(trial) -> dict:
    described = {
        "trial": trial.number,
        "state": trial.state.name.lower(),
        "values": dict(trial.params),
        "value": trial.value,
        "seconds": round(float(trial.user_attrs.get("seconds", 0.0)), 3),
    }
    if "used" in trial.user_attrs:  # trial 0: what the config as it is trained with
        described["used"] = trial.user_attrs["used"]
    if "pruned_at" in trial.user_attrs:  # its value is Optuna's last report there (a loss), not the objective
        described["pruned_at"] = trial.user_attrs["pruned_at"]
    return described


def _write_best_config(config_path: Path, target: Path, values: dict[str, Any]) -> Path:
    """The user's config with the best values in its `catboost:` section, without `tune:` and `data:`
    (the data is staged in the ML root already)."""
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw.pop("tune", None)
    raw.pop("data", None)
    raw["catboost"] = {**(raw.get("catboost") or {}), **{key.split(".", 1)[1]: value for key, value in values.items()}}
    target.write_text(
        f"# Written by `releaseml tune --local` from {config_path}: its best trial's values.\n" + yaml.safe_dump(raw, sort_keys=False),
        encoding="utf-8",
    )
    return target
