"""Scoring a file into a file on this machine (`local.scoring`): the server's typing, CatBoost's numbers.

Real models and a real server (conftest's), real files; each run is compared with CatBoost on the
saved model and with what the server answers for the same rows.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from catboost import CatBoost

from releaseml.common.errors import UserError
from releaseml.common.layout import MODEL_FILE
from releaseml.data.schema import model_frame
from releaseml.local import scoring
from releaseml.model import bundle

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
PROBABILITIES = [f"probability_{label}" for label in CLASSES]


@pytest.fixture
def with_ids(penguins) -> pd.DataFrame:
    frame = penguins.copy()
    frame.insert(0, "id", [f"p{i:03d}" for i in range(len(frame))])
    return frame


def as_text(path) -> pd.DataFrame:
    """A CSV file's cells exactly as written (no missing-value guessing)."""
    return pd.read_csv(path, dtype=object, keep_default_na=False)


def catboost_model(model_dir) -> CatBoost:
    model = CatBoost()
    model.load_model(str(model_dir / MODEL_FILE), format="cbm")
    return model


def score_csv(model, frame: pd.DataFrame, tmp_path, name="out.csv", **options):
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    summary = scoring.score_file(model.model_dir, source, tmp_path / name, **options)
    return summary, as_text(tmp_path / name)


def test_a_csv_keeps_its_columns_and_matches_catboost_and_the_server(species_model, species_server, with_ids, tmp_path):
    summary, out = score_csv(species_model, with_ids, tmp_path)

    assert summary.as_dict() == {
        "rows": 344,
        "scored": 344,
        "rejected": 0,
        "out": str(tmp_path / "out.csv"),
        "rejects": None,
    }
    assert not (tmp_path / "out.rejects.csv").exists()
    raw = as_text(tmp_path / "in.csv")
    assert list(out.columns) == [*raw.columns, "prediction", *PROBABILITIES]
    pd.testing.assert_frame_equal(out[raw.columns], raw)
    probabilities = out[PROBABILITIES].to_numpy(dtype=float)
    schema = bundle.load(species_model.model_dir).schema
    model = catboost_model(species_model.model_dir)
    expected = model.predict(model_frame(raw, schema), prediction_type="Probability")
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-12)
    assert list(out["prediction"]) == [CLASSES[i] for i in expected.argmax(axis=1)]

    body = raw.drop(columns="id").to_csv(index=False)
    headers = {"Content-Type": "text/csv"}
    answer = requests.post(f"{species_server.url}/invocations", data=body, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    served = [line.split(",") for line in answer.text.splitlines()]
    assert [row[0] for row in served] == list(out["prediction"])
    served_probabilities = [[float(p) for p in row[1:]] for row in served]
    np.testing.assert_allclose(probabilities, served_probabilities, rtol=0, atol=1e-12)


def test_a_regression_gets_one_prediction_column_equal_to_catboosts_raw_score(mass_model, with_ids, tmp_path):
    summary, out = score_csv(mass_model, with_ids, tmp_path)

    raw = as_text(tmp_path / "in.csv")
    assert list(out.columns) == [*raw.columns, "prediction"]
    schema = bundle.load(mass_model.model_dir).schema
    model = catboost_model(mass_model.model_dir)
    expected = model.predict(model_frame(raw, schema), prediction_type="RawFormulaVal")
    np.testing.assert_allclose(out["prediction"].astype(float), expected, rtol=0, atol=1e-12)


def test_keep_chooses_the_input_columns_and_an_unknown_one_is_named(species_model, with_ids, tmp_path):
    _, out = score_csv(species_model, with_ids, tmp_path, keep=["id"])
    assert list(out.columns) == ["id", "prediction", *PROBABILITIES]
    assert list(out["id"]) == list(with_ids["id"])

    with pytest.raises(UserError, match=r"'nope'.*columns are id, species, island"):
        score_csv(species_model, with_ids, tmp_path, keep=["id", "nope"])


def bad_rows_file(tmp_path, with_ids) -> str:
    """Ten penguins as CSV, row 3 with text in a number column and row 7 with one field too many."""
    lines = with_ids.head(10).to_csv(index=False).splitlines()
    fields = lines[3].split(",")
    fields[3] = "abc"  # bill_length_mm
    lines[3] = ",".join(fields)
    lines[7] += ",extra"
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    return "in.csv"


def test_bad_rows_go_to_the_rejects_file_and_the_others_are_scored(species_model, with_ids, tmp_path):
    source = tmp_path / bad_rows_file(tmp_path, with_ids)
    summary = scoring.score_file(species_model.model_dir, source, tmp_path / "out.csv")

    assert (summary.rows, summary.scored, summary.rejected) == (10, 8, 2)
    assert summary.rejects == tmp_path / "out.rejects.csv"
    rejects = as_text(summary.rejects)
    assert list(rejects.columns) == ["file", "row", "line", "reason"]
    assert rejects[["file", "row", "line"]].values.tolist() == [["in.csv", "3", "4"], ["in.csv", "7", "8"]]
    assert "row 3, column 'bill_length_mm': 'abc' is not a number" in rejects["reason"][0]
    assert rejects["reason"][1] == "row 7 has 10 value(s) but 9 are expected (one per column, in order)"
    assert list(as_text(tmp_path / "out.csv")["id"]) == [f"p{i:03d}" for i in (0, 1, 3, 4, 5, 7, 8, 9)]

    with_ids.head(10).to_csv(source, index=False)
    summary = scoring.score_file(species_model.model_dir, source, tmp_path / "out.csv")
    assert (summary.rejected, summary.rejects) == (0, None)
    assert not (tmp_path / "out.rejects.csv").exists()  # the earlier run's would tell of rows that are fine now


def test_strict_stops_at_the_first_bad_row_and_writes_nothing(species_model, with_ids, tmp_path):
    source = tmp_path / bad_rows_file(tmp_path, with_ids)
    with pytest.raises(UserError, match=r"in\.csv, line 4: row 3, column 'bill_length_mm'"):
        scoring.score_file(species_model.model_dir, source, tmp_path / "out.csv", strict=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv"]


def test_quoted_commas_and_line_breaks_survive_and_lines_count_them(species_model, with_ids, tmp_path):
    frame = with_ids.head(6).copy()
    frame.loc[1, "id"] = 'one, "two"\nthree'
    frame["bill_length_mm"] = frame["bill_length_mm"].astype(object)
    frame.loc[4, "bill_length_mm"] = "abc"
    summary, out = score_csv(species_model, frame, tmp_path)

    assert list(out["id"]) == [frame["id"][i] for i in (0, 1, 2, 3, 5)]
    # line 1 is the header and row 2 takes lines 3 and 4, so row 5 starts on line 7
    assert as_text(summary.rejects)[["row", "line"]].values.tolist() == [["5", "7"]]


def test_a_file_of_many_blocks_gives_what_one_block_gives(species_model, with_ids, tmp_path, monkeypatch):
    frame = pd.concat([with_ids] * 3, ignore_index=True)
    frame.loc[::7, "id"] = 'a "quoted", id\non two lines'
    frame["bill_length_mm"] = frame["bill_length_mm"].astype(object)
    frame.loc[500, "bill_length_mm"] = "abc"
    one_block, _ = score_csv(species_model, frame, tmp_path, name="one.csv")
    monkeypatch.setattr(scoring, "BLOCK_BYTES", 1000)
    monkeypatch.setattr(scoring, "ROWS_PER_CHUNK", 37)
    many_blocks, _ = score_csv(species_model, frame, tmp_path, name="many.csv")

    assert (tmp_path / "many.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert (tmp_path / "many.rejects.csv").read_bytes() == (tmp_path / "one.rejects.csv").read_bytes()
    assert (many_blocks.rows, many_blocks.rejected) == (one_block.rows, one_block.rejected) == (len(frame), 1)


def test_parquet_in_and_out_give_the_csvs_predictions(species_model, with_ids, tmp_path):
    _, from_csv = score_csv(species_model, with_ids, tmp_path)
    with_ids.to_parquet(tmp_path / "in.parquet", index=False)
    scoring.score_file(species_model.model_dir, tmp_path / "in.parquet", tmp_path / "out.parquet")
    scoring.score_file(species_model.model_dir, tmp_path / "in.parquet", tmp_path / "parquet.csv")

    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == list(from_csv.columns)
    assert table.schema.field("year").type == pa.int64()  # kept columns keep their Parquet types
    assert table.column("id").to_pylist() == list(with_ids["id"])
    assert table.column("prediction").to_pylist() == list(from_csv["prediction"])
    probabilities = table.select(PROBABILITIES).to_pandas().to_numpy()
    np.testing.assert_array_equal(probabilities, from_csv[PROBABILITIES].to_numpy(dtype=float))
    pd.testing.assert_frame_equal(
        as_text(tmp_path / "parquet.csv")[["prediction", *PROBABILITIES]],
        from_csv[["prediction", *PROBABILITIES]],
    )


def test_a_missing_feature_column_is_named(species_model, with_ids, tmp_path):
    with pytest.raises(UserError, match=r"no column\(s\) \['bill_length_mm'\].*features are"):
        score_csv(species_model, with_ids.drop(columns="bill_length_mm"), tmp_path)


def test_explain_gives_the_bundles_reasons_and_contributions(species_model, with_ids, tmp_path):
    _, out = score_csv(species_model, with_ids, tmp_path, keep=["id"], explain=2)

    assert list(out.columns) == [
        "id",
        "prediction",
        *PROBABILITIES,
        "reason_1",
        "contribution_1",
        "reason_2",
        "contribution_2",
    ]
    model = bundle.load(species_model.model_dir)
    typed = model_frame(as_text(tmp_path / "in.csv"), model.schema)
    explanation = model.predict_and_explain(typed, 2).explanation
    assert out[["reason_1", "reason_2"]].values.tolist() == explanation.names
    np.testing.assert_allclose(
        out[["contribution_1", "contribution_2"]].to_numpy(dtype=float),
        explanation.contributions,
        rtol=0,
        atol=1e-12,
    )


def test_a_directory_gives_the_rows_of_its_files_in_name_order(species_model, with_ids, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with_ids.iloc[200:].to_csv(data / "b.csv", index=False)
    with_ids.iloc[:200].to_csv(data / "a.csv", index=False)
    (data / "notes.txt").write_text("not data")
    summary = scoring.score_file(species_model.model_dir, data, data / "out.csv")  # never read as input

    assert summary.rows == summary.scored == len(with_ids)
    assert list(as_text(data / "out.csv")["id"]) == list(with_ids["id"])
    summary = scoring.score_file(species_model.model_dir, data, data / "out.csv")
    assert summary.rows == len(with_ids)

    with_ids.iloc[:5].drop(columns="year").to_csv(data / "c.csv", index=False)
    with pytest.raises(UserError, match="need the same columns"):
        scoring.score_file(species_model.model_dir, data, tmp_path / "out.csv")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]  # no output, no temporary file


def test_a_data_frame_scores_as_its_csv_file_does(species_model, with_ids, tmp_path):
    """The Python API's path: values as a notebook holds them (floats with NaN, missing text, numpy ints)."""
    _, from_csv = score_csv(species_model, with_ids, tmp_path)
    scored, rejects = scoring.Scorer(bundle.load(species_model.model_dir)).score(with_ids.set_index("id"))

    assert rejects == [] and list(scored.index) == list(with_ids["id"])
    assert list(scored["prediction"]) == list(from_csv["prediction"])
    probabilities = scored[PROBABILITIES].to_numpy(dtype=float)
    np.testing.assert_array_equal(probabilities, from_csv[PROBABILITIES].to_numpy(dtype=float))
    odd = with_ids.head(3).astype({"bill_length_mm": object})
    odd.loc[1, "bill_length_mm"] = "abc"
    scored, rejects = scoring.Scorer(bundle.load(species_model.model_dir)).score(odd, first_row=10)
    assert list(scored.index) == [0, 2] and [(r.row, r.line) for r in rejects] == [(11, None)]


def test_mistakes_are_one_line_saying_what_to_do(species_model, with_ids, tmp_path):
    model_dir = species_model.model_dir
    with_ids.head(3).to_csv(tmp_path / "in.csv", index=False)
    cases = [
        ((tmp_path / "nowhere.csv", tmp_path / "out.csv"), "no data to score at"),
        ((tmp_path / "in.csv", tmp_path / "out.txt"), r"ending in \.csv or \.parquet"),
        ((tmp_path / "in.csv", tmp_path / "in.csv"), "both the data and the output"),
    ]
    (tmp_path / "empty.csv").write_text("\n\n")
    (tmp_path / "in.json").write_text("[]")
    (tmp_path / "nothing").mkdir()
    cases += [
        (
            (tmp_path / "empty.csv", tmp_path / "out.csv"),
            "is empty: a CSV file to score needs a header row",
        ),
        ((tmp_path / "in.json", tmp_path / "out.csv"), r"give a \.csv file"),
        ((tmp_path / "nothing", tmp_path / "out.csv"), r"holds no \.csv or \.parquet files"),
    ]
    for (source, out), message in cases:
        with pytest.raises(UserError, match=message):
            scoring.score_file(model_dir, source, out)
    with_ids.head(3).assign(prediction="x").to_csv(tmp_path / "again.csv", index=False)
    with pytest.raises(UserError, match=r"\['prediction'\], which scoring writes.*--keep id,species"):
        scoring.score_file(model_dir, tmp_path / "again.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_header_only_file_gives_a_header_only_output(species_model, with_ids, tmp_path):
    (tmp_path / "in.csv").write_text(",".join(with_ids.columns) + "\n")
    for name in ("out.csv", "out.parquet"):
        summary = scoring.score_file(species_model.model_dir, tmp_path / "in.csv", tmp_path / name)
        assert (summary.rows, summary.scored, summary.rejects) == (0, 0, None)
    header = [*with_ids.columns, "prediction", *PROBABILITIES]
    assert list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text()))) == [header]
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 0
