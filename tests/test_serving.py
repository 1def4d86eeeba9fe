"""The model server as SageMaker uses it: a real waitress process on a loopback port."""

import io
import json
import signal
import time

import numpy as np
import pandas as pd
import pytest
import requests

from helpers import Server, free_port
from releaseml.data.schema import model_frame
from releaseml.model import bundle

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
ROWS = "Torgersen,39.1,18.7,181,3750,male\nDream,46.7,17.9,195,3300,female\nBiscoe,50,15.2,218,5700,male\n"
EXPECTED_LABELS = ["Adelie", "Chinstrap", "Gentoo"]


def post(server, body, content_type="text/csv", accept=None, **headers):
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {}), **headers}
    return requests.post(f"{server.url}/invocations", data=body, headers=headers, timeout=30)


def csv_answer(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/csv"
    return [line.split(",") for line in response.text.splitlines()]


def test_ping_answers_200(species_server):
    assert requests.get(f"{species_server.url}/ping", timeout=5).status_code == 200


def test_csv_without_header_gives_label_and_probabilities_per_row(species_server):
    rows = csv_answer(post(species_server, ROWS))
    assert [r[0] for r in rows] == EXPECTED_LABELS
    probabilities = np.array([[float(x) for x in r[1:]] for r in rows])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert all(r[0] == EXPECTED_LABELS[int(np.argmax(p))] for r, p in zip(rows, probabilities))


def test_answers_match_the_model_in_process(species_server, species_model, penguins):
    model = bundle.load(species_model.model_dir)
    frame = penguins[FEATURES]
    body = frame.to_csv(index=False, header=False)
    served = np.array([[float(x) for x in r[1:]] for r in csv_answer(post(species_server, body))])
    np.testing.assert_array_equal(served, model.predict(model_frame(frame, model.schema)).probabilities)


def test_large_csv_takes_the_fast_path_with_the_same_answers(species_server, penguins):
    frame = pd.concat([penguins.drop(columns=["species"])] * 30, ignore_index=True).iloc[:10_000]
    big = post(species_server, frame[FEATURES].to_csv(index=False, header=False))
    small = [post(species_server, frame[FEATURES].iloc[i : i + 1].to_csv(index=False, header=False)).text for i in (0, 3, 9_999)]
    lines = big.text.splitlines()
    assert len(lines) == 10_000
    assert [lines[i] for i in (0, 3, 9_999)] == small


def test_header_row_allows_any_column_order_and_known_extra_columns(species_server):
    plain = csv_answer(post(species_server, ROWS))
    frame = pd.read_csv(io.StringIO(ROWS), header=None, names=FEATURES)
    frame["species"], frame["year"] = "?", 2007  # the target and an ignored column may come along
    shuffled = frame[["sex", "year", "body_mass_g", "species", "island", "bill_depth_mm", "flipper_length_mm", "bill_length_mm"]]
    assert csv_answer(post(species_server, shuffled.to_csv(index=False))) == plain


def test_header_with_an_unknown_column_is_a_400(species_server):
    response = post(
        species_server, "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,colour\nDream,1,2,3,4,male,red\n"
    )
    assert response.status_code == 400
    assert response.json()["column"] == "colour" and "does not know" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {
            "instances": [
                ["Torgersen", 39.1, 18.7, 181, 3750, "male"],
                ["Dream", 46.7, 17.9, 195, 3300, "female"],
                ["Biscoe", 50, 15.2, 218, 5700, "male"],
            ]
        },
        [
            ["Torgersen", "39.1", "18.7", "181", "3750", "male"],
            ["Dream", 46.7, 17.9, 195, 3300, "female"],
            ["Biscoe", 50, 15.2, 218, 5700, "male"],
        ],
        {"instances": [dict(zip(FEATURES, r.split(","))) for r in ROWS.splitlines()]},
        [dict(zip(FEATURES, r.split(","))) for r in ROWS.splitlines()],
    ],
    ids=["instances-lists", "bare-lists", "instances-objects", "bare-objects"],
)
def test_json_shapes_give_the_same_answers(species_server, body):
    answer = post(species_server, json.dumps(body), "application/json")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    predictions = answer.json()["predictions"]
    assert [p["prediction"] for p in predictions] == EXPECTED_LABELS
    csv_probabilities = [[float(x) for x in r[1:]] for r in csv_answer(post(species_server, ROWS))]
    assert [list(p["probabilities"].values()) for p in predictions] == csv_probabilities
    assert list(predictions[0]["probabilities"]) == EXPECTED_LABELS


def test_json_lines_in_and_out(species_server):
    body = "\n".join(json.dumps(dict(zip(FEATURES, r.split(",")))) for r in ROWS.splitlines()) + "\n\n"
    answer = post(species_server, body, "application/jsonlines")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/jsonlines"
    assert [json.loads(line)["prediction"] for line in answer.text.splitlines()] == EXPECTED_LABELS


@pytest.mark.parametrize(
    "accept,expected",
    [
        ("application/json", "application/json"),
        ("application/jsonlines", "application/jsonlines"),
        ("text/csv", "text/csv"),
        ("*/*", "text/csv"),
        (None, "text/csv"),
        ("text/html, application/json;q=0.9", "application/json"),
    ],
)
def test_answer_type_follows_accept(species_server, accept, expected):
    answer = post(species_server, ROWS, accept=accept)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == expected
    assert len(answer.text.strip().splitlines()) == (1 if expected == "application/json" else 3)


def test_missing_values_and_unseen_categories_are_predicted(species_server):
    body = ",,,,,\nAtlantis,40,,NA,4000,unknown\n"
    assert len(csv_answer(post(species_server, body))) == 2
    answer = post(species_server, json.dumps({"instances": [{"island": None}, {}]}), "application/json")
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 2


def test_regression_answers_one_number_per_row(mass_model, penguins):
    server = Server(mass_model.root)
    try:
        features = penguins.drop(columns=["body_mass_g"]).iloc[:5]
        answer = post(server, features.to_csv(index=False, header=False))
        values = [float(v) for v in answer.text.splitlines()]
        model = bundle.load(mass_model.model_dir)
        np.testing.assert_array_equal(values, model.predict(model_frame(features, model.schema)).values)
        as_json = post(server, features.to_json(orient="records"), "application/json").json()["predictions"]
        assert [p["prediction"] for p in as_json] == values
    finally:
        server.stop()


@pytest.mark.parametrize(
    "body,content_type,status,fragment,row,column",
    [
        ("Dream,1,2,3\n", "text/csv", 400, "row 1 has 4 value(s) but 6 are expected", 1, None),
        (ROWS + "Dream,1,2,3,4,male,extra\n", "text/csv", 400, "row 4 has 7 value(s)", 4, None),
        ("Dream,abc,2,3,4,male\n", "text/csv", 400, "'abc' is not a number", 1, "bill_length_mm"),
        ('Dream,"1,2,3,4,male\n', "text/csv", 400, "malformed CSV", None, None),
        (b"Dream,\xff\xfe,2,3,4,male\n", "text/csv", 400, "not UTF-8", None, None),
        ("", "text/csv", 400, "the request body is empty", None, None),
        ("   \n", "application/json", 400, "the request body is empty", None, None),
        ('{"instances": [', "application/json", 400, "malformed JSON", None, None),
        ('{"rows": []}', "application/json", 400, 'needs an "instances" list', None, None),
        ('{"instances": []}', "application/json", 400, "no instances", None, None),
        ('{"instances": [["Dream", 1]]}', "application/json", 400, "row 1 has 2 value(s)", 1, None),
        ('{"instances": [{"island": "Dream", "beak": 3}]}', "application/json", 400, "unknown key(s) ['beak']", 1, "beak"),
        ('{"instances": [{"bill_length_mm": [1]}]}', "application/json", 400, "is not a number", 1, "bill_length_mm"),
        ('{"instances": [{"bill_length_mm": true}]}', "application/json", 400, "is not a number", 1, "bill_length_mm"),
        ('{"instances": [7]}', "application/json", 400, "an instance must be a list", 1, None),
        ('{"island": "Dream"}\n{"island": ', "application/jsonlines", 400, "malformed JSON in line 2", None, None),
        ("x", "text/plain", 415, "unsupported Content-Type", None, None),
    ],
)
def test_bad_requests_get_a_4xx_with_a_json_explanation(species_server, body, content_type, status, fragment, row, column):
    answer = post(species_server, body, content_type)
    assert answer.status_code == status
    error = answer.json()
    assert fragment in error["error"]
    assert error.get("row") == row and error.get("column") == column


def test_a_row_of_the_wrong_width_names_the_columns_in_their_order(species_server, penguins):
    """A headerless row carrying an id (or the target) is refused with the model's columns listed in the
    order it expects them, small or large bodies, CSV or JSON lists alike."""
    order = ", ".join(FEATURES)
    with_id = penguins[FEATURES].head(3).astype(object).assign(customer_id=range(3))
    large = pd.concat([penguins[FEATURES]] * 60, ignore_index=True).assign(customer_id=1)
    for body, content_type in (
        (with_id.to_csv(index=False, header=False), "text/csv"),
        (large.to_csv(index=False, header=False), "text/csv"),
        (json.dumps({"instances": with_id.values.tolist()}, default=str), "application/json"),
    ):
        answer = post(species_server, body, content_type)
        assert answer.status_code == 400, answer.text
        message = answer.json()["error"]
        assert "row 1 has 7 value(s) but 6 are expected" in message and f": {order}. Send exactly these, in this order" in message
        assert ("header row" if content_type == "text/csv" else "objects that name their columns") in message
    headed = post(species_server, ",".join(FEATURES) + "\n" + "Dream,1,2,3,4,male,extra\n", "text/csv")  # a header: its own width
    assert headed.status_code == 400 and "in this order" not in headed.json()["error"]


def test_missing_content_type_is_415(species_server):
    answer = requests.post(f"{species_server.url}/invocations", data=ROWS.encode(), timeout=5)
    assert answer.status_code == 415 and "unsupported Content-Type" in answer.json()["error"]


def test_unanswerable_accept_is_406(species_server):
    answer = post(species_server, ROWS, accept="application/x-protobuf")
    assert answer.status_code == 406 and "cannot answer in" in answer.json()["error"]


def test_large_csv_errors_name_the_row(species_server, penguins):
    frame = pd.concat([penguins[FEATURES]] * 60, ignore_index=True).astype(object)
    frame.loc[12_345, "flipper_length_mm"] = "long"
    answer = post(species_server, frame.to_csv(index=False, header=False))
    assert answer.status_code == 400 and answer.json()["row"] == 12_346
    frame.loc[12_345, "flipper_length_mm"] = 200
    text = frame.to_csv(index=False, header=False).splitlines()
    text[777] += ",1"
    answer = post(species_server, "\n".join(text))
    assert answer.status_code == 400 and answer.json()["row"] == 778


def test_unknown_paths_and_methods_get_json_errors(species_server):
    assert requests.get(f"{species_server.url}/nothing", timeout=5).status_code == 404
    answer = requests.delete(f"{species_server.url}/invocations", timeout=5)
    assert answer.status_code == 405 and "error" in answer.json()


def test_execution_parameters_for_batch_transform(species_server):
    parameters = requests.get(f"{species_server.url}/execution-parameters", timeout=5).json()
    assert parameters["BatchStrategy"] == "MULTI_RECORD"
    assert parameters["MaxConcurrentTransforms"] >= 1 and 1 <= parameters["MaxPayloadInMB"] <= 100
    assert parameters["MaxConcurrentTransforms"] * parameters["MaxPayloadInMB"] <= 100


def test_payload_over_the_limit_is_413_and_at_the_limit_is_served(species_model, penguins):
    server = Server(species_model.root, RELEASEML_MAX_PAYLOAD_MB="1")
    try:
        row = "Torgersen,39.1,18.7,181,3750,male\n"
        fits = row * ((1024 * 1024) // len(row))
        assert post(server, fits).status_code == 200
        answer = post(server, fits + row * 100)
        assert answer.status_code == 413 and "limit" in answer.json()["error"]
        assert requests.get(f"{server.url}/ping", timeout=5).status_code == 200  # and it is still up
    finally:
        server.stop()


def test_sigterm_stops_the_server_promptly_and_cleanly(species_model):
    server = Server(species_model.root)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert "Server stopped." in server.process.stdout.read()


def test_serve_without_a_model_says_to_train_first(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "releaseml", "serve"],
        env={"RELEASEML_ML_ROOT": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "no trained model" in result.stderr and "Traceback" not in result.stderr


def test_windows_line_endings_are_fine(species_server, penguins):
    assert [r[0] for r in csv_answer(post(species_server, ROWS.replace("\n", "\r\n")))] == EXPECTED_LABELS
    big = pd.concat([penguins[FEATURES]] * 10).to_csv(index=False, lineterminator="\r\n")
    assert len(csv_answer(post(species_server, big))) == 3440


def test_large_quoted_csv_with_a_header_matches_the_small_path(species_server, penguins):
    frame = pd.concat([penguins[FEATURES]] * 10, ignore_index=True)
    frame.loc[5, "island"] = 'Dream, "north"\nshore'  # a comma, quotes and a line break in one field
    big = frame.to_csv(index=False)
    assert len(big) > 16 * 1024
    lines = csv_answer(post(species_server, big))
    assert len(lines) == len(frame)
    small = csv_answer(post(species_server, frame.iloc[4:7].to_csv(index=False)))
    assert lines[4:7] == small


def invoke_predict(*args):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    return subprocess.run([sys.executable, "-m", "invoke", "-r", str(repo), "predict", *args], capture_output=True, text=True, timeout=60)


def test_invoke_predict_sends_a_file_with_its_content_type(species_server, tmp_path):
    payload = tmp_path / "rows.jsonl"
    payload.write_text("\n".join(json.dumps(dict(zip(FEATURES, r.split(",")))) for r in ROWS.splitlines()))
    result = invoke_predict(str(payload), "--url", species_server.url, "--accept", "text/csv")
    assert result.returncode == 0, result.stderr
    assert [line.split(",")[0] for line in result.stdout.splitlines()] == EXPECTED_LABELS


def test_invoke_predict_explains_errors(species_server, tmp_path):
    payload = tmp_path / "rows.csv"
    payload.write_text("Dream,1\n")
    result = invoke_predict(str(payload), "--url", species_server.url)
    assert result.returncode == 1 and "error: the server answered 400: row 1 has 2 value(s)" in result.stderr
    result = invoke_predict(str(tmp_path / "missing.csv"), "--url", species_server.url)
    assert result.returncode == 1 and "cannot read the payload" in result.stderr and "No such file" in result.stderr
    (tmp_path / "rows.txt").write_text(ROWS)
    result = invoke_predict(str(tmp_path / "rows.txt"), "--url", species_server.url)
    assert result.returncode == 1 and "cannot tell the content type of 'rows.txt'" in result.stderr
    result = invoke_predict(str(payload), "--url", "http://127.0.0.1:9")
    assert result.returncode == 1 and "no model server answers at http://127.0.0.1:9" in result.stderr


@pytest.mark.parametrize("accept", ["text/csv", "application/jsonlines"])
def test_line_answers_have_no_trailing_newline_for_batch_assembly(species_server, accept):
    # Batch transform (AssembleWith=Line) adds a newline after each response: one more would be a blank line.
    text = post(species_server, ROWS, accept=accept).text
    assert not text.endswith("\n") and text.count("\n") == 2


def test_waitress_sends_short_answers_from_its_io_thread_as_set_and_without_a_deprecation_warning():
    """`send_bytes` (serving/server.py says why): set, honoured by this waitress, and its warning kept out of the log."""
    import warnings

    import falcon

    from releaseml.serving import server as server_module

    settings = server_module.settings_from_env({"RELEASEML_HOST": "127.0.0.1", "SAGEMAKER_BIND_TO_PORT": str(free_port())})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = server_module._server(falcon.App(), settings)
    try:
        assert made.adj.send_bytes == server_module.SEND_BYTES == 18_000
        assert not [w for w in caught if "send_bytes" in str(w.message)]
    finally:
        made.close()
