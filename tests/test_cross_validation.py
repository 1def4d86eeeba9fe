"""Cross-validation (`folds: K`): the means are CatBoost's own cv() on the same folds and parameters.

Each test trains for real (the container's `train` in this process) on the demo penguins, as a
classification and as a regression, and then asks CatBoost's public `cv()` the same question the
training asked it, from the saved model's parameters and the fold rows, to compare.
"""

import json

import numpy as np
import pytest
from catboost import Pool, cv

from helpers import make_ml_root
from releaseml.common.errors import UserError
from releaseml.config import config_file as config
from releaseml.data import dataset
from releaseml.data import schema as schema_module
from releaseml.training import cross_validation, fitting
from releaseml.training.metrics import TASK_METRICS


def trained(tmp_path, run_train, cfg, frame):
    paths = make_ml_root(tmp_path, {"seed": 7, **cfg}, frame)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""
    return paths, json.loads(paths.metrics.read_text()), json.loads(paths.schema_file.read_text())


@pytest.mark.parametrize(
    "cfg",
    [
        {"target": "species", "folds": 5, "catboost": {"iterations": 80, "early_stopping_rounds": 20}},
        {"target": "body_mass_g", "folds": 4, "drop": ["year"], "catboost": {"iterations": 60, "depth": 4}},
    ],
    ids=["multiclass", "regression"],
)
def test_the_folds_means_are_catboosts_own_cv_on_the_same_folds_and_parameters(tmp_path, run_train, penguins, cfg):
    paths, metrics, saved = trained(tmp_path, run_train, cfg, penguins)
    folds = cfg["folds"]
    frame, _ = fitting.drop_unlabelled(dataset.read_channel(paths.channel("training")), schema_module.Schema.from_dict(saved))
    schema = schema_module.Schema.from_dict(saved)
    params = saved["details"]["catboost_params"] if "details" in saved else saved["catboost_params"]
    task_specs = TASK_METRICS[schema.task]
    asked = {
        "loss_function": params["loss_function"],
        "iterations": cfg["catboost"]["iterations"],
        "learning_rate": params["learning_rate"],  # the rate training took from a fold, saved with the model
        "random_seed": 7,
        "custom_metric": [spec for spec in task_specs.values() if spec != params["loss_function"]],
        **{key: value for key, value in cfg["catboost"].items() if key not in ("iterations", "early_stopping_rounds")},
    }
    pool = Pool(schema_module.model_frame(frame, schema), schema_module.labels(frame, schema).to_numpy(), cat_features=schema.categorical)
    results = cv(
        pool,
        {**asked, "train_dir": str(tmp_path / "cv")},
        folds=cross_validation.make_folds(frame, schema, folds, 7),
        early_stopping_rounds=cfg["catboost"].get("early_stopping_rounds"),
        as_pandas=True,
        verbose=False,
    )
    loss = f"test-{params['loss_function']}-mean"
    best = int(np.argmin(results[loss].to_numpy()))
    assert params["iterations"] == best + 1  # the final model has the trees the folds chose
    for name, spec in task_specs.items():
        column = next(c for c in results.columns if c.startswith(f"test-{spec}") and c.endswith("-mean"))
        assert metrics["validation"][name] == pytest.approx(float(results[column].iloc[best]), abs=1e-9), name
        assert metrics["validation_std"][name] == pytest.approx(float(results[column.replace("-mean", "-std")].iloc[best]), abs=1e-9)
    assert set(metrics) == {"train", "validation", "validation_std"}
    report = paths.report.read_text()
    assert f"{folds}-fold cross-validation (seed 7" in report and " ± " in report


def test_folds_are_stratified_even_and_cover_every_row_once(penguins):
    frame = penguins.dropna(subset=["species"]).reset_index(drop=True)
    frame = dataset.typed_frame(frame.astype(str).replace("nan", ""), set())
    schema = schema_module.infer(frame, config.validate({"target": "species"}, source="test"))
    folds = cross_validation.make_folds(frame, schema, 5, seed=1)
    held = np.concatenate([valid for _, valid in folds])
    assert sorted(held) == list(range(len(frame)))
    assert max(len(v) for _, v in folds) - min(len(v) for _, v in folds) <= 1
    for train, valid in folds:
        assert set(train).isdisjoint(valid) and len(train) + len(valid) == len(frame)
        shares = frame["species"].iloc[valid].value_counts(normalize=True)
        overall = frame["species"].value_counts(normalize=True)
        assert (abs(shares - overall) < 0.03).all()
    assert [list(v) for _, v in cross_validation.make_folds(frame, schema, 5, seed=1)] == [list(v) for _, v in folds]


@pytest.mark.parametrize(
    "raw,message",
    [
        ({"target": "species", "folds": 1}, "folds: got 1; Input should be greater than or equal to 2"),
        ({"target": "species", "folds": "five"}, "folds"),
        ({"target": "species", "folds": 5, "time": "year"}, "`folds` and `time` do not go together"),
    ],
)
def test_folds_that_make_no_sense_are_refused_with_the_config(raw, message):
    with pytest.raises(UserError) as error:
        config.validate(raw, source="releaseml.yaml")
    assert message in str(error.value)


def test_more_folds_than_rows_and_folds_with_validation_data_are_one_message_each(tmp_path, run_train, penguins):
    small = penguins.dropna().head(6)
    paths = make_ml_root(tmp_path / "few", {"target": "sex", "folds": 10}, small)
    assert run_train(paths) == 1
    assert "folds: 10 folds need at least 10 rows with a target, and the data has 6; use fewer folds" in paths.failure.read_text()
    paths = make_ml_root(tmp_path / "both", {"target": "species", "folds": 3}, penguins, penguins.sample(40, random_state=0))
    assert run_train(paths) == 1
    assert "folds: cross-validation validates on the training rows in turn, and validation data was given too" in paths.failure.read_text()


def test_folds_with_every_core_asked_for_train(tmp_path, run_train, penguins):
    """cv() refuses thread_count -1 (its own default); the config may still say it."""
    paths = make_ml_root(tmp_path, {"target": "species", "folds": 3, "catboost": {"iterations": 20, "thread_count": -1}}, penguins)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""
