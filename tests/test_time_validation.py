"""Time-aware validation (`time:`): the latest rows are held out, scored per period, and named.

Each test trains for real (the container's `train` in this process, CatBoost, a real report on disk)
on generated data whose time order matters, and reads what a user reads: the log, metrics.json,
report.html.
"""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import make_ml_root
from releaseml.common.errors import UserError
from releaseml.config import config_file as config
from releaseml.data import schema as schema_module
from releaseml.training import time_validation


def trend(rows: int = 1200, seed: int = 3) -> pd.DataFrame:
    """Daily rows over ~3 years whose target follows a feature that grows with time (a trend):
    a random split lets the model interpolate; the latest rows need values it has never seen."""
    rng = np.random.default_rng(seed)
    days = np.sort(rng.integers(0, 1100, rows))
    frame = pd.DataFrame(
        {
            "date": (pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
            "customers": days * 3.0 + rng.normal(0, 40, rows),
            "region": rng.choice(["north", "south", "east"], rows),
            "promo": rng.integers(0, 2, rows),
        }
    )
    frame["sales"] = 2.0 * frame["customers"] + 900 * frame["promo"] + rng.normal(0, 300, rows)  # rank correlation ~0.96
    return frame


def train(tmp_path, run_train, cfg, frame, name):
    paths = make_ml_root(tmp_path / name, {"catboost": {"iterations": 150}, **cfg}, frame)
    assert run_train(paths) == 0, paths.failure.read_text() if paths.failure.exists() else ""
    return paths, json.loads(paths.metrics.read_text()), paths.report.read_text()


def test_on_data_with_a_trend_the_time_split_scores_worse_than_a_random_one_and_says_which_rows(tmp_path, run_train, capsys):
    frame = trend()
    _, random_metrics, _ = train(tmp_path, run_train, {"target": "sales", "drop": ["date"]}, frame, "random")
    paths, time_metrics, report = train(tmp_path, run_train, {"target": "sales", "time": "date"}, frame, "time")
    log = capsys.readouterr().out

    assert time_metrics["validation"]["r2"] < random_metrics["validation"]["r2"] - 0.05, (time_metrics, random_metrics)
    ordered = frame.sort_values("date", kind="stable")["date"]
    held = int(round(len(frame) * 0.2))
    cut = ordered.iloc[len(frame) - held]
    valid_dates = frame.loc[frame["date"] >= cut, "date"]
    train_dates = frame.loc[frame["date"] < cut, "date"]
    said = (
        f"the latest {len(valid_dates)} of {len(frame)} rows by date ({valid_dates.min()} to {valid_dates.max()}) held out; "
        f"trained on the earlier rows ({train_dates.min()} to {train_dates.max()})"
    )
    assert said in log and said in report
    assert "date" not in json.loads(paths.schema_file.read_text())["features"]  # it orders rows; not a feature
    assert "Validation by period" in report
    period_lines = [line for line in log.splitlines() if line.startswith("Validation, ")]
    assert len(period_lines) == time_validation.PERIODS and all("r2 " in line and "rmse " in line for line in period_lines)
    assert sum(int(line.split("(")[1].split(" rows")[0]) for line in period_lines) == len(valid_dates)


def test_the_periods_keep_rows_of_one_time_together_in_time_order():
    times = pd.Series(pd.to_datetime(["2024-01-0%d" % d for d in [5, 1, 1, 2, 3, 3, 3, 4, 5, 2]], utc=True))
    found = time_validation.periods(times, count=3)
    covered = np.concatenate([rows for _, rows in found])
    assert sorted(covered) == list(range(len(times)))
    for _, rows in found:  # a time never spans two periods
        assert not any(set(times.iloc[rows]) & set(times.iloc[other]) for _, other in found if other is not rows)
    starts = [times.iloc[rows].min() for _, rows in found]
    assert starts == sorted(starts) and found[0][0] == "2024-01-01 to 2024-01-02"


def test_numbers_and_timestamps_are_times_and_rows_without_one_train():
    frame = pd.DataFrame({"year": [2019.0, 2020, np.nan, 2021, 2022, 2023, 2023]})
    split = time_validation.hold_out_latest(frame, "year", 0.2)
    assert list(split.valid_rows) == [5, 6] and 2 in split.train_rows  # both 2023 rows; the missing year trains
    assert "the latest 2 of 7 rows by year (2023) held out" in split.describe() and "1 rows with no year" in split.describe()
    stamps = pd.DataFrame({"at": ["2024-03-31T14:00:00Z", "2024-03-31 09:30", "2024-04-01T00:00:00+02:00", "03/30/2024"]})
    assert list(time_validation.hold_out_latest(stamps, "at", 0.25).valid_rows) == [2]  # 2024-03-31 22:00 UTC: the latest


@pytest.mark.parametrize(
    "cfg,column,message",
    [
        (
            {"target": "sales", "time": "region"},
            None,
            "time: the column 'region' must hold dates or numbers, but 1200 row(s) hold other text ('",
        ),
        ({"target": "sales", "time": "dat"}, None, "time: column 'dat' is not in the data. Did you mean 'date'?"),
        ({"target": "sales", "time": "day"}, ["2024-01-01"] * 1200, "share too few different times to hold out the latest 20%"),
        ({"target": "sales", "time": "day"}, [None] * 1200, "time: the column 'day' has no value in any row"),
    ],
)
def test_a_time_column_that_cannot_order_the_rows_is_one_clear_message(tmp_path, run_train, cfg, column, message):
    frame = trend()
    if column is not None:
        frame["day"] = column
    paths = make_ml_root(tmp_path, cfg, frame)
    assert run_train(paths) == 1
    assert message in paths.failure.read_text()


@pytest.mark.parametrize(
    "raw,message",
    [
        ({"target": "sales", "time": "sales"}, "the target column 'sales' cannot be the `time` column too"),
        ({"target": "sales", "time": ""}, "time"),
        ({"target": "sales", "time": ["date"]}, "time"),
    ],
)
def test_a_time_key_that_makes_no_sense_is_refused_with_the_config(raw, message):
    with pytest.raises(UserError) as error:
        config.validate(raw, source="releaseml.yaml")
    assert message in str(error.value)


def test_a_column_that_orders_rows_as_the_target_does_is_warned_about(tmp_path, run_train, capsys):
    frame = trend()
    frame["sales_rank"] = frame["sales"].rank() * 10 + 5  # made from the target: a leak
    frame["running_total"] = frame["sales"].cumsum()
    _, _, report = train(tmp_path, run_train, {"target": "running_total", "time": "date", "drop": ["sales"]}, frame, "total")
    log = capsys.readouterr().out
    assert "Warning: The time column date orders the rows almost exactly as running_total does" in log
    assert "running total or a count over time" in report
    frame = frame.drop(columns="running_total")
    _, _, report = train(tmp_path, run_train, {"target": "sales", "time": "date"}, frame, "rank")
    log = capsys.readouterr().out
    assert "Warning: The column sales_rank orders the rows almost exactly as sales does (1.000" in log
    assert "The column sales_rank orders the rows" in report
    assert "customers orders" not in log  # a strong feature is not a leak


def test_a_binary_target_sorted_by_one_column_alone_is_a_leak_warning():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"score": rng.normal(size=500), "noise": rng.normal(size=500)})
    frame["label"] = np.where(frame["score"] > 0.1, "yes", "no")
    schema = schema_module.infer(frame, config.validate({"target": "label"}, source="test"))
    found = time_validation.ordering_leaks(frame, schema)
    assert len(found) == 1 and found[0].startswith("The column score orders the rows almost exactly as label does (1.000")


def test_deploy_refuses_a_time_column_of_text_before_anything_is_uploaded(tmp_path):
    """`deploy` reads the training data here first; a time column that is not dates would fail the paid job."""
    from releaseml.aws import workflows

    frame = trend()
    frame.to_csv(tmp_path / "sales.csv", index=False)
    with pytest.raises(UserError) as error:
        workflows._check_training_data(
            config.validate({"target": "sales", "time": "region"}, source="test"), {"training": {"sales.csv": tmp_path / "sales.csv"}}
        )
    assert "time: the column 'region' must hold dates or numbers" in str(error.value)
    rows, columns, _ = workflows._check_training_data(
        config.validate({"target": "sales", "time": "date"}, source="test"), {"training": {"sales.csv": tmp_path / "sales.csv"}}
    )
    assert (rows, columns) == (len(frame), len(frame.columns))
