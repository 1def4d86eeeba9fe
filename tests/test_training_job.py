"""The container's `train` on a real /opt/ml layout on disk, checked against CatBoost used directly."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoost, CatBoostClassifier, CatBoostRegressor, Pool

from helpers import make_ml_root
from releaseml.common.layout import ML_ROOT_ENV
from releaseml.config import config_file as config_module
from releaseml.data import dataset
from releaseml.data import schema as schema_module
from releaseml.job import training_job
from releaseml.model import bundle
from releaseml.training import evaluation, fitting, metrics, pools

ITERATIONS = 150


def split_frame(frame: pd.DataFrame, seed: int = 0):
    valid = frame.sample(frac=0.25, random_state=seed)
    return frame.drop(valid.index), valid


def direct_catboost(model_class, train, valid, target, loss, class_names=None):
    """CatBoost used directly, by the book: NaN categories as text, same parameters as releaseml's (and, for a
    binary target, the same class order: the positive class is CatBoost's class 1)."""
    categorical = ["species", "island", "sex"]
    features = [c for c in train.columns if c != target]

    def prepared(frame):
        x = frame[features].copy()
        for c in categorical:
            if c in x:
                x[c] = x[c].astype(object).where(x[c].notna(), "").map(str)
        return x

    names = {"class_names": class_names} if class_names else {}
    model = model_class(
        iterations=ITERATIONS, early_stopping_rounds=100, random_seed=42, loss_function=loss, verbose=0, allow_writing_files=False, **names
    )
    model.fit(
        prepared(train), train[target], cat_features=[c for c in categorical if c in features], eval_set=(prepared(valid), valid[target])
    )
    return model, prepared(valid)


@pytest.mark.parametrize(
    "target,loss,task",
    [("body_mass_g", "RMSE", "regression"), ("sex", "Logloss", "binary"), ("species", "MultiClass", "multiclass")],
)
def test_validation_score_matches_catboost_used_directly(tmp_path, penguins, run_train, target, loss, task):
    data = penguins.dropna(subset=[target])
    train, valid = split_frame(data)
    paths = make_ml_root(tmp_path, {"target": target, "catboost": {"iterations": ITERATIONS}}, train, valid)

    assert run_train(paths) == 0
    ours = json.loads((paths.output_data_dir / "metrics.json").read_text())["validation"]
    model_class = CatBoostRegressor if task == "regression" else CatBoostClassifier
    loaded = bundle.load(paths.model_dir)
    direct, x_valid = direct_catboost(model_class, train, valid, target, loss, loaded.schema.classes if task == "binary" else None)
    assert loaded.schema.task == task

    if task == "regression":
        expected = direct.predict(x_valid)
        rmse = float(np.sqrt(np.mean((expected - valid[target].to_numpy()) ** 2)))
        assert ours["rmse"] == pytest.approx(rmse, rel=1e-12)
        np.testing.assert_array_equal(loaded.predict(x_valid).values, expected)
        np.testing.assert_array_equal(loaded.predict(x_valid.values.tolist()).values, expected)
    else:
        expected = direct.predict_proba(x_valid)
        accuracy = float(np.mean(direct.predict(x_valid).ravel() == valid[target].to_numpy()))
        assert ours["accuracy"] == pytest.approx(accuracy, rel=1e-12)
        assert list(direct.classes_) == loaded.schema.classes
        np.testing.assert_array_equal(loaded.predict(x_valid).probabilities, expected)
        assert loaded.predict(x_valid).labels(loaded.schema.classes) == direct.predict(x_valid).ravel().tolist()


def test_the_split_holds_out_the_asked_share_per_class(tmp_path, penguins, run_train, capsys):
    paths = make_ml_root(tmp_path, {"target": "species", "validation_fraction": 0.3, "seed": 5, "catboost": {"iterations": 20}}, penguins)
    assert run_train(paths) == 0
    info = json.loads((paths.model_dir / "schema.json").read_text())
    assert info["rows"] == {"train": 241, "validation": 103}  # round(0.3 * 152) + round(0.3 * 68) + round(0.3 * 124)
    assert "103 of 344 rows held out at random" in capsys.readouterr().out


def test_model_bundle_is_native_catboost_plus_a_json_schema(tmp_path, penguins, run_train):
    paths = make_ml_root(tmp_path, {"target": "species", "drop": ["year"], "catboost": {"iterations": 20}}, penguins)
    assert run_train(paths) == 0
    assert sorted(p.name for p in paths.model_dir.iterdir()) == ["model.cbm", "profile.json", "schema.json"]
    info = json.loads((paths.model_dir / "schema.json").read_text())
    assert info["features"] == ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
    assert info["kinds"]["island"] == "categorical" and info["kinds"]["body_mass_g"] == "numeric"
    assert info["classes"] == ["Adelie", "Chinstrap", "Gentoo"] and info["ignored"] == ["year"]
    assert set(info["versions"]) == {"releaseml", "catboost", "python"}
    assert set(info["metrics"]["validation"]) == set(metrics.TASK_METRICS["multiclass"])


def test_training_writes_nothing_outside_the_ml_root(tmp_path, penguins, run_train, monkeypatch):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # in a container the working directory may not be writable
    assert run_train(make_ml_root(tmp_path / "ml", {"target": "species", "catboost": {"iterations": 10}}, penguins)) == 0
    assert list(workdir.iterdir()) == []


def test_every_csv_file_of_the_channel_is_read(tmp_path, penguins, run_train):
    paths = make_ml_root(tmp_path, {"target": "species", "catboost": {"iterations": 20}})
    channel = paths.channel("training")
    (channel / "part").mkdir(parents=True)
    penguins.iloc[:200].to_csv(channel / "a.csv", index=False)
    penguins.iloc[200:].to_csv(channel / "part" / "b.csv", index=False)
    (channel / ".hidden").write_text("not data")
    assert run_train(paths) == 0
    assert sum(json.loads((paths.model_dir / "schema.json").read_text())["rows"].values()) == 344


def test_metric_lines_follow_the_documented_format_and_definitions(tmp_path, penguins, run_train, capsys):
    paths = make_ml_root(tmp_path, {"target": "sex", "catboost": {"iterations": 20}}, penguins)
    assert run_train(paths) == 0
    log = capsys.readouterr().out
    written = json.loads((paths.output_data_dir / "metrics.json").read_text())
    assert written.pop("positive_class") == "female"  # sex: neither yes/true/1, so the rarer class (165 of 333)
    assert metrics.parse_lines(log) == written
    lines = [line for line in log.splitlines() if line.startswith(metrics.LINE_PREFIX)]
    assert len(lines) == 2 * len(metrics.TASK_METRICS["binary"])
    for definition in metrics.metric_definitions("binary"):
        split, name = definition["Name"].split(":")
        found = [m for line in lines if (m := __import__("re").search(definition["Regex"], line))]
        assert len(found) == 1 and float(found[0].group(1)) == written[split][name]


@pytest.mark.parametrize(
    "config,training,reason",
    [
        ({"target": "price"}, "a,b\n1,2\n3,4\n", "target: column 'price' is not in the data."),
        ({"target": "b"}, None, "the data directory"),
        ({"target": "b"}, "a,b\n1,x\n2,x\n3,x\n", "has 'x' in every row with a value: a classifier needs at least two classes"),
        ({"target": "b"}, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\xff\xfe", "cannot read"),
        ({"target": "b"}, "", "is empty: a CSV file needs a header row"),
        ({"target": "b"}, 'a,b\n1,"unclosed\n', "cannot read"),
        (
            {"target": "b", "catboost": {"depth": 99}},
            "a,b\n1,0\n2,1\n3,0\n4,1\n5,0\n",
            "catboost.depth: got 99; it takes a whole number from 1 to 16",
        ),
        ({"target": "b", "catboost": {"max_leaves": 8}}, "a,b\n1,0\n2,1\n3,0\n4,1\n5,0\n", "CatBoost could not train with these settings"),
    ],
    ids=[
        "missing-target",
        "empty-channel",
        "one-class",
        "binary-file",
        "empty-file",
        "broken-quotes",
        "bad-catboost-param",
        "catboost-refuses",
    ],
)
def test_bad_data_writes_a_readable_failure_and_exits_non_zero(tmp_path, run_train, config, training, reason):
    paths = make_ml_root(tmp_path, config, training)
    if training is None:
        paths.channel("training").mkdir(parents=True)
    assert run_train(paths) == 1
    failure = paths.failure.read_text()
    assert failure.startswith("Training failed: ") and reason in failure
    assert "Traceback" not in failure
    assert not (paths.model_dir / "model.cbm").exists()


def test_validation_classes_unknown_to_training_are_named(tmp_path, run_train, penguins):
    paths = make_ml_root(tmp_path, {"target": "species"}, penguins[penguins.species != "Chinstrap"], penguins)
    assert run_train(paths) == 1
    assert "the validation data has class(es) ['Chinstrap'] in 'species' that the training data lacks" in paths.failure.read_text()


def test_invalid_hyperparameters_fail_with_the_config_message(tmp_path, run_train):
    paths = make_ml_root(tmp_path, {"target": "b", "tagret": "c"}, "a,b\n1,2\n")
    assert run_train(paths) == 1
    assert "tagret: unknown key. Did you mean 'target'?" in paths.failure.read_text()


def test_entry_point_as_a_process_exits_non_zero_and_clears_an_old_failure(tmp_path, penguins):
    paths = make_ml_root(tmp_path, {"target": "specie"}, penguins)

    def run():
        environment = {**os.environ, ML_ROOT_ENV: str(tmp_path)}
        return subprocess.run([sys.executable, "-m", "releaseml", "train"], env=environment, capture_output=True, text=True)

    result = run()
    assert result.returncode == 1 and "Did you mean" in result.stderr and "Traceback" not in result.stderr
    paths.hyperparameters.write_text(json.dumps({"target": "species", "catboost.iterations": "10"}))
    result = run()
    assert result.returncode == 0, result.stderr
    assert not paths.failure.exists()


def test_categorical_codes_are_read_as_text_not_numbers(tmp_path, run_train):
    rows = "".join(f"{zip_code},{1 if zip_code.startswith('0') else 0}\n" for zip_code in ["01234", "02345", "91234", "92345"] * 10)
    paths = make_ml_root(tmp_path, {"target": "label", "categorical": ["zip"], "catboost": {"iterations": 5}}, "zip,label\n" + rows)
    assert run_train(paths) == 0
    info = json.loads((paths.model_dir / "schema.json").read_text())
    assert info["kinds"] == {"zip": "categorical"} and info["task"] == "binary"
    model = bundle.load(paths.model_dir)
    assert model.predict([["01234"]]).probabilities.shape == (1, 2)


def penguins_read(tmp_path, penguins) -> pd.DataFrame:
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    return dataset.read_channel(tmp_path / "penguins.csv")


def test_categories_given_to_catboost_as_categoricals_train_the_same_trees(tmp_path, penguins):
    """Training hands CatBoost its text features as Categoricals (`pools`), which it reads 3-4x faster
    than Python text; the trees, and so every prediction, are the ones the text trains."""
    config = config_module.validate({"target": "species", "seed": 3, "catboost": {"iterations": 40}}, source="test")
    frame = penguins_read(tmp_path, penguins)
    schema = schema_module.infer(frame, config)
    params = {**fitting.catboost_params(config, schema), "verbose": False}
    as_text = Pool(
        schema_module.model_frame(frame, schema), label=schema_module.labels(frame, schema).to_numpy(), cat_features=schema.categorical
    )
    models = [CatBoost(params).fit(given) for given in (as_text, pools.pool(frame, schema))]
    assert isinstance(pools.features(frame, schema)["island"].dtype, pd.CategoricalDtype)
    trees = []
    for number, model in enumerate(models):
        model.save_model(str(tmp_path / f"{number}.json"), format="json")  # the model as data
        trees.append(json.loads((tmp_path / f"{number}.json").read_text()))
        trees[-1]["model_info"].pop("model_guid"), trees[-1]["model_info"].pop("train_finish_time")
    assert trees[0] == trees[1]


def test_the_validation_rows_scored_once_are_scored_as_the_report_scored_them(tmp_path, penguins):
    """`fit` keeps the validation rows' predictions from the pool it built (no second typing, no second
    pool); they are the ones scoring the validation frame gives."""
    config = config_module.validate({"target": "sex", "seed": 3, "catboost": {"iterations": 30}}, source="test")
    frame = penguins_read(tmp_path, penguins)
    schema = schema_module.infer(frame, config)
    frame, _ = fitting.drop_unlabelled(frame, schema)
    train_rows, valid_rows = fitting.split(schema_module.labels(frame, schema), schema, 0.2, 3)
    typed = pools.rows(frame, schema)
    params = {**fitting.catboost_params(config, schema), "verbose": False}
    result = fitting.fit(typed.take(train_rows), typed.take(valid_rows), schema, params, score=True)
    again = evaluation.score(result.model, frame.iloc[valid_rows], schema)
    np.testing.assert_array_equal(result.scored.probabilities, again.probabilities)
    assert result.scored.truth.tolist() == again.truth.tolist() and result.scored.predicted.tolist() == again.predicted.tolist()


@pytest.mark.parametrize("threshold", [100, fitting.TRAIN_METRIC_ROWS])
def test_the_training_rows_scores_are_measured_on_a_sample_above_the_threshold_and_the_report_says_so(
    tmp_path, penguins, run_train, monkeypatch, threshold
):
    """Above TRAIN_METRIC_ROWS training rows, the training split's metrics come from a seeded sample of that
    many (they are there to hold against the validation rows'); the report's page says so. Below it, all rows."""
    monkeypatch.setattr(fitting, "TRAIN_METRIC_ROWS", threshold)
    config = {"target": "species", "seed": 4, "catboost": {"iterations": 30}}
    paths = make_ml_root(tmp_path, config, penguins)
    assert run_train(paths) == 0
    measured = json.loads(paths.metrics.read_text())["train"]
    loaded = bundle.load(paths.model_dir)
    schema = loaded.schema
    frame, _ = fitting.drop_unlabelled(dataset.read_channel(paths.training_channel()), schema)
    train_rows, _, _ = training_job.held_out(frame, schema, config_module.validate(config, source="test"))
    training = pools.rows(frame, schema).take(train_rows).pool(schema)
    sample, size = fitting.training_sample(training, 4)
    page = (paths.output_data_dir / "report.html").read_text()
    if threshold < len(train_rows):
        assert size == 100 and sample.num_row() == 100 and measured == fitting.evaluate(loaded.model, sample, schema.task)
        assert measured["logloss"] != fitting.evaluate(loaded.model, training, schema.task)["logloss"]
        assert f"{len(train_rows)} training rows and" in page and "scores are measured on a random 100 of them" in page
    else:
        assert size is None and measured == fitting.evaluate(loaded.model, training, schema.task)
        assert "measured on a random" not in page


def test_cross_validations_final_model_is_measured_on_a_sample_above_the_threshold_too(tmp_path, penguins, run_train, monkeypatch):
    monkeypatch.setattr(fitting, "TRAIN_METRIC_ROWS", 100)
    paths = make_ml_root(tmp_path, {"target": "species", "seed": 4, "folds": 3, "catboost": {"iterations": 20}}, penguins)
    assert run_train(paths) == 0
    page = (paths.output_data_dir / "report.html").read_text()
    assert "each validated once by 3-fold cross-validation" in page and "scores are measured on a random 100 of them" in page
