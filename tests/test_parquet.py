"""Parquet as warehouses export it: trained on like CSV, typed as declared, refused clearly when unusable."""

import json
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import Server, run_task
from releaseml.checking import data_check
from releaseml.data import dataset, parquet
from releaseml.data.schema import model_frame
from releaseml.model import bundle
from releaseml.serving import client

REPO = Path(__file__).resolve().parents[1]


def train(tmp_path: Path, data: Path, root: str, config: str = "target: species\n", *extra: str):
    (tmp_path / "releaseml.yaml").write_text(config)
    return run_task("train-local", "--data", str(data), "--ml-root", root, "--engine", "process", *extra, cwd=tmp_path)


@pytest.fixture(scope="module")
def demo_models(tmp_path_factory):
    """The demo data trained from its CSV file and from the same table written as Parquet."""
    work = tmp_path_factory.mktemp("demo")
    pd.read_csv(REPO / "data" / "penguins.csv").to_parquet(work / "penguins.parquet")
    for data, root in ((REPO / "data" / "penguins.csv", "from_csv"), (work / "penguins.parquet", "from_parquet")):
        result = train(work, data, root)
        assert result.returncode == 0, result.stderr
    return work


def test_the_demo_data_as_parquet_trains_the_same_model_as_the_csv(demo_models):
    from_csv = bundle.load(demo_models / "from_csv" / "model")
    from_parquet = bundle.load(demo_models / "from_parquet" / "model")
    assert from_parquet.schema == from_csv.schema
    rows = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None, names=from_csv.schema.features)
    frame = model_frame(rows, from_csv.schema)
    np.testing.assert_array_equal(from_parquet.predict(frame).probabilities, from_csv.predict(frame).probabilities)
    metrics = [json.loads((demo_models / root / "output" / "data" / "metrics.json").read_text()) for root in ("from_csv", "from_parquet")]
    assert metrics[0] == metrics[1]
    config = json.loads((demo_models / "from_parquet" / "input" / "config" / "inputdataconfig.json").read_text())
    assert config["training"]["ContentType"] == "application/x-parquet"


def test_column_types_are_taken_as_the_file_declares_them(tmp_path):
    rng = np.random.default_rng(5)
    rows = 300
    grade = rng.integers(1, 4, rows)  # an integer target with 3 values: class labels, as in CSV
    table = pa.table(
        {
            "zip": pa.array([f"0{2100 + g * 7 + i % 3}" for i, g in enumerate(grade)]),  # digits, declared text
            "member": pa.array([bool(g % 2) if i % 10 else None for i, g in enumerate(grade)]),
            "joined": pa.array([pd.Timestamp("2020-01-01").date()] * rows, type=pa.date32()),
            "spend": pa.array([Decimal(f"{g * 10 + rng.random():.2f}") for g in grade], type=pa.decimal128(8, 2)),
            "store": pa.array(["north", "south", "north"] * (rows // 3)).dictionary_encode(),
            "visits": pa.array(rng.integers(0, 50, rows), type=pa.int32()),
            "note": pa.array(["NA" if i % 7 == 0 else "ok" for i in range(rows)]),
            "grade": pa.array(grade, type=pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "members.parquet")
    result = train(tmp_path, tmp_path / "members.parquet", "ml", "target: grade\ncatboost: {iterations: 20}\n")
    assert result.returncode == 0, result.stderr
    schema = bundle.load(tmp_path / "ml" / "model").schema
    assert schema.task == "multiclass" and schema.classes == [1, 2, 3]
    assert schema.kinds == {
        "zip": "categorical",  # never the number 2107
        "member": "boolean",
        "joined": "categorical",
        "spend": "numeric",
        "store": "categorical",
        "visits": "numeric",
        "note": "categorical",
    }
    frame, text, _ = parquet.read_frame(tmp_path / "members.parquet")
    typed = dataset.typed_frame(frame, set(), text)
    assert typed["zip"].tolist() == table.column("zip").to_pylist() and typed["joined"].iloc[0] == "2020-01-01"
    assert set(typed["member"].dropna()) == {"True", "False"} and typed["member"].isna().sum() == rows // 10
    assert typed["note"].iloc[0] is None  # "NA" in a Parquet string is missing, as in a CSV cell
    assert typed["spend"].dtype == np.float64 and typed["visits"].dtype == np.float64


def test_a_number_column_named_categorical_becomes_the_text_a_request_sends(tmp_path, penguins):
    penguins.to_parquet(tmp_path / "p.parquet")
    frame, _, _ = parquet.read_frame(tmp_path / "p.parquet", {"year"})
    typed = dataset.typed_frame(frame, {"year"})
    assert set(typed["year"]) == {"2007", "2008", "2009"}  # as a CSV cell or a JSON 2007 is typed, not "2007.0"


def test_nested_and_binary_columns_get_a_clear_message(tmp_path):
    table = pa.table(
        {
            "tags": pa.array([["a"], ["b", "c"], []] * 10),
            "blob": pa.array([b"\x00\x01"] * 30, type=pa.binary()),
            "where": pa.array([{"x": 1}] * 30),
            "y": pa.array([1.0, 2.0, 3.5] * 10),
        }
    )
    pq.write_table(table, tmp_path / "nested.parquet")
    result = train(tmp_path, tmp_path / "nested.parquet", "ml", "target: y\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr
    assert "tags (list<" in message, message and "blob (binary)" in message and "where (struct<x: int64>)" in message
    assert "flatten" in message


def test_a_directory_of_parquet_and_csv_files_is_refused_before_anything_runs(tmp_path, penguins):
    data = tmp_path / "data"
    data.mkdir()
    penguins.iloc[:150].to_parquet(data / "part-1.parquet")
    penguins.iloc[150:].to_csv(data / "part-2.csv", index=False)
    result = train(tmp_path, data, "ml")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "both Parquet and CSV files (part-1.parquet, part-2.csv)" in result.stderr
    assert not (tmp_path / "ml" / "model").exists()


def test_a_file_that_is_not_parquet_is_named(tmp_path):
    (tmp_path / "export.parquet").write_text("species,island\nAdelie,Dream\n")
    result = train(tmp_path, tmp_path / "export.parquet", "ml")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot read" in result.stderr and "export.parquet as Parquet" in result.stderr


def test_several_parquet_files_form_one_channel(tmp_path, penguins):
    data = tmp_path / "data"
    data.mkdir()
    for part, rows in enumerate((slice(0, 100), slice(100, 250), slice(250, None))):
        penguins.iloc[rows].to_parquet(data / f"part-{part}.parquet")
    frame = dataset.read_channel(data)
    assert len(frame) == len(penguins)
    assert frame["species"].tolist() == penguins["species"].tolist()


def test_csv_lines_stream_the_features_in_order_and_read_back_exactly(tmp_path, penguins, monkeypatch):
    monkeypatch.setattr(parquet, "ROWS_PER_BATCH", 50)  # several batches
    shuffled = penguins.sample(frac=1, random_state=3)[["year", "sex", "body_mass_g", "island", "bill_length_mm"]]
    shuffled.to_parquet(tmp_path / "p.parquet")
    features = ["island", "bill_length_mm", "body_mass_g", "sex"]
    pieces = list(parquet.csv_lines(tmp_path / "p.parquet", features))
    assert len(pieces) == -(-len(shuffled) // 50)
    back = pd.read_csv(pd.io.common.BytesIO(b"".join(pieces)), header=None, names=features, keep_default_na=False, na_values=[""])
    for name in features:
        expected = shuffled[name].reset_index(drop=True)
        if expected.dtype == np.float64:
            np.testing.assert_array_equal(back[name].to_numpy(dtype=float), expected.to_numpy())
        else:
            assert back[name].where(back[name].notna(), None).tolist() == expected.where(expected.notna(), None).tolist()


def test_predict_and_check_take_a_parquet_file(demo_models, tmp_path):
    rows = pd.read_csv(REPO / "data" / "predict" / "penguins.csv", header=None)
    model = bundle.load(demo_models / "from_csv" / "model")
    rows.columns = model.schema.features
    rows = rows[list(reversed(model.schema.features))]  # another column order: matched by name
    rows.to_parquet(tmp_path / "score.parquet")
    server = Server(demo_models / "from_csv")
    try:
        answer = client.predict(tmp_path / "score.parquet", url=server.url)
        expected = client.predict(REPO / "data" / "predict" / "penguins.csv", url=server.url)
    finally:
        server.stop()
    assert answer == expected
    checked = data_check.check(tmp_path / "score.parquet", demo_models / "from_csv" / "model")
    assert not checked.errors and checked.rows == len(rows)
    rows.drop(columns=["island"]).to_parquet(tmp_path / "narrow.parquet")
    checked = data_check.check(tmp_path / "narrow.parquet", demo_models / "from_csv" / "model")
    assert checked.errors and "no column(s) ['island']" in checked.errors[0]


def test_invoke_predict_on_a_parquet_file_as_a_user_runs_it(demo_models, tmp_path):
    shutil.copy(REPO / "data" / "predict" / "penguins.csv", tmp_path / "score.csv")
    model = bundle.load(demo_models / "from_csv" / "model")
    pd.read_csv(tmp_path / "score.csv", header=None, names=model.schema.features).to_parquet(tmp_path / "score.parquet")
    server = Server(demo_models / "from_csv")
    try:
        result = run_task("predict", "score.parquet", "--url", server.url, cwd=tmp_path)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.strip().splitlines()  # predict names the answer's columns (Accept: text/csv; header=present)
    assert header.startswith("prediction,probability_")
    assert len(lines) == len(pd.read_csv(tmp_path / "score.csv", header=None)) and lines[0].split(",")[0] in model.schema.classes


# ---- 64-bit integers beyond what a float holds exactly ------------------------------------------


def wide_integers(rows: int = 300) -> pa.Table:
    """A uint64 feature holding 2^64-1, an int64 one holding both its extremes, and a uint64 target holding 2^64-1 (a regression)."""
    rng = np.random.default_rng(11)
    ids = rng.integers(0, 1000, rows).astype(np.uint64)
    ids[3] = 2**64 - 1
    missing = np.arange(rows) == 1  # a missing value before the first wide one
    counts = rng.integers(-50, 50, rows)
    counts[[5, 6]] = [2**63 - 1, -(2**63)]
    target = rng.integers(0, 10_000, rows).astype(np.uint64)
    target[8] = 2**64 - 1  # a warehouse's "unknown"
    columns = {"id": pa.array(ids, pa.uint64(), mask=missing), "count": pa.array(counts, pa.int64()), "y": pa.array(target, pa.uint64())}
    return pa.table(columns)


def test_integers_beyond_2_53_are_read_as_the_nearest_float_with_a_warning_naming_the_column(tmp_path):
    """They were an internal error (pyarrow's ArrowInvalid) in training, scoring and checking alike."""
    table = wide_integers()
    pq.write_table(table, tmp_path / "wide.parquet")
    result = train(tmp_path, tmp_path / "wide.parquet", "ml", "target: y\ncatboost: {iterations: 10}\n")
    assert result.returncode == 0, result.stderr
    said = result.stdout
    assert "column 'id' (uint64) holds 18446744073709551615 in row 4, beyond 2^53" in said
    assert "column 'count' (int64) holds 9223372036854775807 in row 6, beyond 2^53" in said
    assert "column 'y' (uint64) holds 18446744073709551615 in row 9, beyond 2^53" in said
    assert "list it in `categorical:`" in said
    frame = dataset.read_channel(tmp_path / "wide.parquet")
    assert np.isnan(frame["id"].iloc[1])
    for name in ("id", "count"):
        expected = [float("nan") if value is None else float(value) for value in table.column(name).to_pylist()]
        np.testing.assert_array_equal(frame[name].to_numpy(), expected)  # as float() reads the digits in a CSV cell
    rows = [line.split(",") for line in b"".join(parquet.csv_lines(tmp_path / "wide.parquet", ["id", "count"])).decode().splitlines()]
    assert rows[3][0] == "1.8446744073709552e+19" and [rows[5][1], rows[6][1]] == ["9.223372036854776e+18", "-9.223372036854776e+18"]
    assert dataset.read_channel(tmp_path / "wide.parquet", ["id"])["id"].iloc[3] == "18446744073709551615"  # categorical: exact


def test_wide_integers_round_as_float_does(tmp_path):
    rng = np.random.default_rng(12)
    unsigned = rng.integers(0, 2**64 - 1, 20_000, dtype=np.uint64, endpoint=True)
    signed = rng.integers(-(2**63), 2**63 - 1, 20_000, dtype=np.int64, endpoint=True)
    pq.write_table(pa.table({"u": pa.array(unsigned), "s": pa.array(signed)}), tmp_path / "random.parquet")
    frame, _, warnings = parquet.read_frame(tmp_path / "random.parquet")
    assert frame["u"].tolist() == [float(int(value)) for value in unsigned] and frame["s"].tolist() == [float(int(v)) for v in signed]
    assert [warning.split(" holds ")[0] for warning in warnings] == [
        f"{tmp_path / 'random.parquet'}: column 'u' (uint64)",
        f"{tmp_path / 'random.parquet'}: column 's' (int64)",
    ]


def test_a_uint64_target_of_classes_beyond_2_53_is_refused_naming_the_column(tmp_path):
    codes = np.array([0, 1, 2, 2**64 - 1] * 75, dtype=np.uint64)
    table = pa.table({"x": pa.array(np.arange(300, dtype=np.float64)), "y": pa.array(codes, pa.uint64())})
    pq.write_table(table, tmp_path / "codes.parquet")
    result = train(tmp_path, tmp_path / "codes.parquet", "ml", "target: y\n")
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert (
        "the target column 'y' holds whole numbers beyond 2^53 (9007199254740992) as classes: 1.8446744073709552e+19 in row 4" in errors[0]
    )
    assert "categorical:" in errors[0]
    as_text = train(tmp_path, tmp_path / "codes.parquet", "ml", "target: y\ncategorical: [y]\ncatboost: {iterations: 5}\n")  # as it says
    assert as_text.returncode == 0, as_text.stderr
    assert bundle.load(tmp_path / "ml" / "model").schema.classes == ["0", "1", "18446744073709551615", "2"]
