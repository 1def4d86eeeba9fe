"""The same row always gets the same answer, and no input is silently misread.

A row is sent alone, inside a large CSV body (the chunked fast path), after a header, as JSON
and as JSON Lines, to a real server; every answer must be identical, and equal to the model's own
prediction on the row typed as training types a file. Three models: binary with a true/false
column (whose categories training spells True/False), multiclass and regression.
"""

import csv
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import Server, flags_frame, train_model
from releaseml.common.errors import UserError
from releaseml.data import dataset
from releaseml.data.schema import model_frame
from releaseml.model import bundle

PENGUIN_FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
FLAG_FEATURES = ["flag", "x", "colour"]
MASS_FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "sex"]


@pytest.fixture(scope="module")
def models(tmp_path_factory, penguins):
    made = {
        "flags": train_model(tmp_path_factory.mktemp("flags"), {"target": "answer", "catboost": {"iterations": 50}}, flags_frame()),
        "species": train_model(
            tmp_path_factory.mktemp("species"), {"target": "species", "drop": ["year"], "catboost": {"iterations": 40}}, penguins
        ),
        "mass": train_model(
            tmp_path_factory.mktemp("mass"),
            {"target": "body_mass_g", "drop": ["year", "species"], "catboost": {"iterations": 40}},
            penguins,
        ),
    }
    servers = {name: Server(paths.root) for name, paths in made.items()}
    yield {name: (paths, bundle.load(paths.model_dir), servers[name]) for name, paths in made.items()}
    for server in servers.values():
        server.stop()


def csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


def post(server, body, content_type):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return requests.post(f"{server.url}/invocations", data=data, headers={"Content-Type": content_type, "Accept": content_type}, timeout=30)


def answers(response, content_type):
    """Each row's answer as (label or value, probabilities) from any answer type, or the status for an error."""
    if response.status_code != 200:
        return response.status_code
    if content_type == "text/csv":
        rows = [line.split(",") for line in response.text.split("\n")]
        return [(r[0], [float(x) for x in r[1:]]) if len(r) > 1 else (None, [float(r[0])]) for r in rows]
    records = response.json()["predictions"] if content_type == "application/json" else [json.loads(x) for x in response.text.split("\n")]
    return [
        (str(r["prediction"]), list(r["probabilities"].values())) if "probabilities" in r else (None, [float(r["prediction"])])
        for r in records
    ]


def expected_answer(tmp_path, model, features, row):
    """The model's own prediction for the row, typed as training types a file (dataset.read_raw + model_frame)."""
    path = tmp_path / "row.csv"
    path.write_text(csv_line(features) + "\n" + csv_line(row) + "\n", encoding="utf-8")
    try:
        frame = model_frame(dataset.read_raw(path), model.schema)
    except UserError:
        return 400
    prediction = model.predict(frame)
    if prediction.probabilities is None:
        return [(None, [float(prediction.values[0])])]
    return [(str(model.schema.classes[prediction.class_indices[0]]), prediction.probabilities[0].tolist())]


def same(a, b) -> bool:
    if isinstance(a, int) or isinstance(b, int):
        return a == b
    return all(la == lb and all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(pa, pb)) for (la, pa), (lb, pb) in zip(a, b))


def every_way(server, features, row, filler, paths=None, tmp_path=None):
    """The row's answer sent in five ways; the large body puts it between filler rows (over 16 KB).
    With an ML root, also scored locally: `releaseml score`'s file and the Python API's frame."""
    line = csv_line(row)
    big = "\n".join([csv_line(filler)] * 1000 + [line] + [csv_line(filler)] * 1000)
    assert len(big) > 16 * 1024
    big_answer = answers(post(server, big, "text/csv"), "text/csv")
    local = {} if paths is None else locally(paths, features, row, tmp_path)
    return {
        **local,
        "alone": answers(post(server, line, "text/csv"), "text/csv"),
        "in a large body": big_answer if isinstance(big_answer, int) else big_answer[1000:1001],
        "after a header": answers(post(server, csv_line(features) + "\n" + line, "text/csv"), "text/csv"),
        "json": answers(post(server, json.dumps({"instances": [row]}), "application/json"), "application/json"),
        "json lines": answers(post(server, json.dumps(dict(zip(features, row))), "application/jsonlines"), "application/jsonlines"),
    }


def locally(paths, features, row, tmp_path):
    """The row scored into a file by `score_file` (as `releaseml score`) and by `releaseml.load(...).predict`."""
    from releaseml import api
    from releaseml.local import scoring

    source, out = tmp_path / "rows.csv", tmp_path / "scored.csv"
    source.write_text(csv_line(["id", *features]) + "\n" + csv_line(["r1", *row]) + "\n", encoding="utf-8")
    summary = scoring.score_file(paths.model_dir, source, out)
    by_file = 400 if summary.rejected else scored_answers(pd.read_csv(out, dtype={"prediction": str}, keep_default_na=False))
    try:
        frame = api.load(paths.model_dir).predict(pd.DataFrame([row], columns=features, dtype=object))
        by_api = scored_answers(frame)
    except UserError:
        by_api = 400
    return {"score's file": by_file, "the Python API": by_api}


def scored_answers(frame):
    """(label, probabilities) or (None, [value]) per row of a scored frame."""
    probabilities = [name for name in frame.columns if name.startswith("probability_")]
    if not probabilities:
        return [(None, [float(value)]) for value in frame["prediction"]]
    return [(str(label), [float(x) for x in values]) for label, values in zip(frame["prediction"], frame[probabilities].to_numpy())]


# Spellings that once got different answers in different paths, and ordinary values.
NUMBER_SPELLINGS = st.one_of(
    st.sampled_from(["", "NA", "NA ", " na", "nAn", "NAN", "null", "None", "N/A", "#N/A", "true", "TRUE", "False", " 3 ", "+4", "-0",
                     ".5", "5.", "1e2", "1_000", "１２", "١٢", "\u00a03", "3\u00a0", "inf", "-Infinity", "abc", "1,5", "0x10", "\ufeff3"]),
    st.floats(min_value=-1e4, max_value=1e4).map(lambda x: repr(round(x, 3))),
    st.integers(-5000, 5000).map(str),
)  # fmt: skip
# Spaces and tabs of any length on either side: inside the typing rule's quick windows (~16 characters) and far past them;
# a few thousand on each of a row's fields also take a row alone past the small-body path (16 KB).
PADDING = st.tuples(st.sampled_from([" ", "\t", " \t"]), st.one_of(st.integers(1, 20), st.integers(17, 3000))).map(
    lambda unit: unit[0] * unit[1]
)


def padded(spellings):
    """A spelling with padding before it, after it, or both."""
    side = st.one_of(st.just(""), PADDING)
    return st.one_of(st.tuples(PADDING, spellings, side), st.tuples(side, spellings, PADDING)).map("".join)


# Values longer than any quick window: long words, long runs of digits.
LONG_NUMBERS = st.one_of(st.integers(17, 2000).map(lambda n: "7" * n), st.integers(17, 400).map(lambda n: "0." + "0" * n + "1"))
NUMBERS = st.one_of(NUMBER_SPELLINGS, padded(NUMBER_SPELLINGS), LONG_NUMBERS)
WORDS = ["", "NA", "null", "None", " NULL ", "true", "TRUE", "True", "false", " False ", "yes", "1", "1.0", "red", "green ", " blue",
         "Dream", "Biscoe", "Torgersen", "male", "female", "MALE", "Atlantis", "a,b", 'say "x"', "١٢", "Dr\ufeffeam"]  # fmt: skip
TEXT_SPELLINGS = st.one_of(st.sampled_from(WORDS), st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=5))
TEXT = st.one_of(TEXT_SPELLINGS, padded(st.sampled_from(WORDS)), st.integers(17, 3000).map(lambda n: "w" * n))
PENGUIN_ROW = st.tuples(TEXT, NUMBERS, NUMBERS, NUMBERS, NUMBERS, TEXT).map(list)
FLAG_ROW = st.tuples(TEXT, NUMBERS, TEXT).map(list)
MASS_ROW = st.tuples(TEXT, NUMBERS, NUMBERS, NUMBERS, TEXT).map(list)
CASES = {
    "flags": (FLAG_FEATURES, FLAG_ROW, ["true", "0.5", "red"]),
    "species": (PENGUIN_FEATURES, PENGUIN_ROW, ["Dream", "40", "18", "190", "3700", "male"]),
    "mass": (MASS_FEATURES, MASS_ROW, ["Dream", "40", "18", "190", "male"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_row_gets_one_answer_in_every_way_it_is_sent(models, name, tmp_path_factory):
    paths, model, server = models[name]
    features, rows, filler = CASES[name]
    tmp_path = tmp_path_factory.mktemp("rows")

    @settings(max_examples=150)
    @given(row=rows)
    def check(row):
        expected = expected_answer(tmp_path, model, features, row)
        found = every_way(server, features, row, filler, paths, tmp_path)
        for way, answer in found.items():
            assert same(answer, expected), (row, way, answer, expected)

    check()


@pytest.mark.parametrize("spelling", ["true", "TRUE", "True", " true ", "tRuE"])
def test_true_false_columns_are_read_at_serving_as_training_read_them(models, spelling):
    """Training read `true` as a boolean (category True); the server once kept it as the unseen text 'true'."""
    _, model, server = models["flags"]
    assert model.info["metrics"]["validation"]["accuracy"] == 1.0  # the answer hangs on the flag
    csv_answer = post(server, f"{spelling},0.5,red", "text/csv")
    json_answer = post(server, json.dumps({"instances": [{"flag": True, "x": 0.5, "colour": "red"}]}), "application/json")
    assert csv_answer.status_code == 200 and csv_answer.text.split(",")[0] == "yes"
    assert json_answer.json()["predictions"][0]["prediction"] == "yes"
    assert float(csv_answer.text.split(",")[2]) == json_answer.json()["predictions"][0]["probabilities"]["yes"]


@pytest.mark.parametrize("value", ["nAn", "NAN", "NA ", "１２", "١٢", "\u00a03", "true", "abc"])
def test_a_value_gets_one_outcome_alone_and_inside_a_large_body(models, value):
    _, _, server = models["species"]
    row = ["Dream", value, "18", "190", "3700", "male"]
    ways = every_way(server, PENGUIN_FEATURES, row, ["Dream", "40", "18", "190", "3700", "male"])
    assert len({json.dumps(answer) for answer in ways.values()}) == 1, ways


PADDED = [
    ("flags", 0, " " * 16 + "true"),  # once an unseen category 'true': P(yes) 0.124 instead of 0.437
    ("flags", 0, "\t" * 3000 + "FALSE" + " " * 3000),
    ("flags", 0, " " * 17 + "NA"),
    ("species", 1, " " * 17 + "NA"),  # once "not a number" alone, missing in a large body or beside a quoted field
    ("species", 4, "NA" + "\t " * 40),
    ("species", 2, " " * 300 + "18.5" + "\t" * 300),
    ("species", 0, " " * 20 + "Dream"),
    ("mass", 4, "\t" * 25 + "male"),
]


@pytest.mark.parametrize("name,position,value", PADDED)
def test_a_padded_value_gets_the_value_s_own_answer_in_every_way_and_beside_a_quoted_field(models, name, position, value, tmp_path):
    """Padding of any length is white space around a value: the same answer as the bare value, whether
    or not another field of the row is quoted (a quote sends the row down csvrows' other path)."""
    paths, _, server = models[name]
    features, _, filler = CASES[name]
    text_column = next(i for i, feature in enumerate(features) if feature in ("colour", "sex", "island") and i != position)
    for other in (filler[text_column], "far, far away"):
        row, bare = list(filler), list(filler)
        row[position], bare[position], row[text_column], bare[text_column] = value, value.strip(), other, other
        found, wanted = every_way(server, features, row, filler, paths, tmp_path), every_way(server, features, bare, filler)
        assert all(same(answer, wanted["alone"]) for answer in [*found.values(), *wanted.values()]), (row, found, wanted)


def test_a_stray_carriage_return_in_a_large_body_is_a_400_not_a_shift(models):
    """`male,40,\\r3rd` once gave 1,501 answers for 1,500 rows in a large body, every later answer misaligned."""
    _, _, server = models["species"]
    good = "Dream,40,18,190,3700,male"
    for body in [good + "\r" + "3700,male", "\n".join([good] * 700 + ["Dream,40,18,\r190,3700,male"] + [good] * 799)]:
        answer = post(server, body, "text/csv")
        assert answer.status_code == 400, answer.text[:200]
        assert "value(s) but 6 are expected" in answer.json()["error"]


@pytest.mark.parametrize("body", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\n", b"\xef\xbb\xbf\r\n  \r\n", b"\n \n\t\n"])
@pytest.mark.parametrize("content_type", ["text/csv", "application/json", "application/jsonlines"])
def test_a_body_of_a_byte_order_mark_and_blank_lines_is_empty(models, body, content_type):
    _, _, server = models["species"]
    answer = post(server, body, content_type)
    assert answer.status_code == 400 and "empty" in answer.json()["error"], answer.text


def test_a_header_of_sixty_thousand_names_is_refused_in_under_a_second(models):
    """The duplicate check once counted each name against all the others: 61 s of CPU for 360 KB."""
    _, _, server = models["species"]
    header = ",".join(PENGUIN_FEATURES + ["sex"] * 60_000)
    answer = post(server, header + "\nDream,40,18,190,3700,male\n", "text/csv")
    assert answer.status_code == 400 and "more than once" in answer.json()["error"]
    assert answer.elapsed.total_seconds() < 1.0


def test_large_bodies_answer_row_for_row_like_small_ones(models, penguins):
    _, model, server = models["species"]
    frame = pd.concat([penguins[PENGUIN_FEATURES]] * 150, ignore_index=True)  # 51,600 rows: several chunks
    answer = post(server, frame.to_csv(index=False, header=False), "text/csv")
    lines = answer.text.split("\n")
    assert answer.status_code == 200 and len(lines) == len(frame)
    expected = model.predict(model_frame(frame, model.schema)).probabilities
    np.testing.assert_array_equal(np.array([[float(x) for x in line.split(",")[1:]] for line in lines]), expected)
    as_json = post(server, json.dumps({"instances": frame.astype(object).where(frame.notna(), None).values.tolist()}), "application/json")
    np.testing.assert_array_equal(np.array([list(p["probabilities"].values()) for p in as_json.json()["predictions"]]), expected)
