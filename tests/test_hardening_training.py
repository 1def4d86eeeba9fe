"""Training data that once stalled a run or pointed the wrong way, run as a user runs it, and the message read.

A text value of millions of characters (bounded when the data is read), a numeric target with a
stray word in it (a 155-class model), a target too large for CatBoost (its own "Too few sampling
units"), and a target with no values at all ("no value in every row with a value").
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import make_ml_root, run_task
from releaseml.data import dataset


def one_error(result) -> str:
    """The task's one `error:` line: exit 1, no traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def failure(tmp_path, run_train, capsys, config: dict, frame: pd.DataFrame) -> str:
    """The container's `train` on the frame as CSV: exit 1 and the one-line reason it wrote."""
    paths = make_ml_root(tmp_path, config, frame)
    assert run_train(paths) == 1
    assert "Traceback" not in capsys.readouterr().err
    reason = paths.failure.read_text().strip()
    assert len(reason.splitlines()) == 1, reason
    return reason


def measured(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.random(rows)
    return pd.DataFrame({"x": x, "colour": rng.choice(["red", "blue"], rows), "y": (x * 100 + rng.random(rows)).round(2)})


# ---- one very long text value ---------------------------------------------------------------


def test_a_two_million_character_label_is_cut_with_a_warning_and_training_ends_soon(tmp_path):
    """It once kept training past 240 s at 1.4 GB (the report drew the label); now it is cut when read."""
    frame = measured()
    frame["y"] = np.where(frame["x"] > 0.5, "high", "low").astype(object)
    frame.loc[6, "y"] = "h" * 2_000_000
    frame.to_csv(tmp_path / "long.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: y\ncatboost: {iterations: 20}\n")
    result = run_task("train-local", "--data", "long.csv", "--ml-root", "ml", "--engine", "process", cwd=tmp_path, timeout=90)
    assert result.returncode == 0, result.stderr
    staged = tmp_path / "ml" / "input" / "data" / "training" / "long.csv"
    assert (
        f"Warning: {staged}, column 'y': 1 text value(s) longer than 2,000 characters (the first in row 7: 2,000,000 characters) "
        "cut to their first 2,000" in result.stdout
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_long_text_values_are_cut_when_read_for_training_from_csv_and_parquet(tmp_path, capsys, suffix):
    frame = measured(50)
    limit = dataset.MAX_TEXT_LENGTH
    frame.loc[[3, 9], "colour"] = ["c" * (limit + 1), "d" * 50_000]
    frame.loc[4, "colour"] = "e" * limit  # at the limit: kept
    path = tmp_path / f"data{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else pq.write_table(pa.Table.from_pandas(frame), path)
    read = dataset.read_channel(path)
    assert read["colour"].str.len().max() == limit and read.loc[9, "colour"] == "d" * limit
    assert read.loc[3, "colour"] == "c" * limit and read.loc[4, "colour"] == frame.loc[4, "colour"]
    assert read["colour"].tolist()[:3] == frame["colour"].tolist()[:3]
    said = capsys.readouterr().out
    assert f"Warning: {path}, column 'colour': 2 text value(s) longer than {limit:,} characters (the first in row 4: {limit + 1:,}" in said


# ---- a numeric target with a few values that are not numbers ------------------------------------


def stray_words(rows: int = 300) -> pd.DataFrame:
    frame = measured(rows)
    frame["y"] = frame["y"].astype(object)
    frame.loc[16, "y"], frame.loc[200, "y"] = "lots", "n/k"
    return frame


def test_a_numeric_target_with_a_stray_word_names_the_rows_instead_of_training_hundreds_of_classes(tmp_path, run_train, capsys):
    """One `lots` in a numeric target once trained a 155-class model without a word."""
    reason = failure(tmp_path, run_train, capsys, {"target": "y"}, stray_words())
    assert "the target column 'y' holds numbers but for 2 value(s) that are not: row 17 'lots', row 201 'n/k'" in reason
    assert "task: multiclass" in reason and "leave them empty" in reason


def test_a_numeric_target_with_stray_words_is_refused_through_train_local(tmp_path):
    stray_words().to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: y\n")
    line = one_error(run_task("train-local", "--data", "d.csv", "--ml-root", "ml", "--engine", "process", cwd=tmp_path))
    assert "holds numbers but for 2 value(s) that are not: row 17 'lots'" in line


def test_a_task_in_the_config_says_what_a_mixed_target_is(tmp_path, run_train, capsys):
    reason = failure(tmp_path / "regression", run_train, capsys, {"target": "y", "task": "regression"}, stray_words())
    assert "task is regression but the target column 'y' is not numeric (e.g. 'lots' in row 17)" in reason
    frame = measured(60)
    frame["y"] = ["lots" if i in (16, 30, 45) else str(i % 3) for i in range(60)]
    paths = make_ml_root(tmp_path / "classes", {"target": "y", "task": "multiclass", "catboost": {"iterations": 5}}, frame)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""


def test_a_text_target_with_a_few_numbers_is_still_classes(tmp_path, run_train):
    frame = measured(60)
    frame["y"] = ["7" if i == 5 else ("yes" if x > 0.5 else "no") for i, x in enumerate(frame["x"])]
    paths = make_ml_root(tmp_path, {"target": "y", "catboost": {"iterations": 5}}, frame)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""


# ---- targets CatBoost cannot take -----------------------------------------------------------


@pytest.mark.parametrize("task", ["auto", "regression"])
def test_a_target_too_large_for_catboost_says_so_and_to_rescale(tmp_path, run_train, capsys, task):
    """A 1e308 target once ended in CatBoost's "Too few sampling units" or a JSON writer's "invalid float value"."""
    frame = measured()
    frame.loc[41, "y"] = 1e308
    reason = failure(tmp_path, run_train, capsys, {"target": "y", "task": task}, frame)
    assert "the target column 'y' holds values too large to train on: the largest is 1e+308 (row 42)" in reason
    assert "3.4e+38" in reason and "rescale" in reason.lower() and "thousands" in reason
    assert "sampling units" not in reason and "catboost:" not in reason


def test_a_target_at_the_edge_of_what_catboost_holds_trains(tmp_path, run_train):
    frame = measured()
    frame["y"] = frame["y"] * 3e36  # up to 3e38
    paths = make_ml_root(tmp_path, {"target": "y", "catboost": {"iterations": 10}}, frame)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""


@pytest.mark.parametrize("cells", ["", "NA", "null"])
def test_a_target_with_no_values_at_all_says_so(tmp_path, cells):
    """It once said "has no value in every row with a value"."""
    frame = measured(40)
    frame["y"] = cells
    frame.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: y\n")
    line = one_error(run_task("train-local", "--data", "d.csv", "--ml-root", "ml", "--engine", "process", cwd=tmp_path))
    assert "the target column 'y' has no values: every one of its 40 rows is empty or a missing marker" in line
    assert "in every row with a value" not in line and "Check that 'y' is the column to predict" in line
