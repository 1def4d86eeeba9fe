"""The same parts the command line and the server drive through child processes, driven here in this process:
`init`'s project writer, the Python API, the server's codecs and the training log's filter.

The subprocess tests read what a user reads; these reach each branch directly (a forked server
worker's coverage is not saved, and an installed venv's is not measured).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from releaseml.common.errors import UserError
from releaseml.local import new_project
from releaseml.model import bundle
from releaseml.serving import codecs

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]


# ---- init ----------------------------------------------------------------------------------


def test_init_writes_a_config_and_a_gitignore_and_never_overwrites(tmp_path, penguins):
    penguins.to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / ".gitignore").write_text("venv/")
    made = new_project.init(tmp_path, tmp_path / "p.csv", "species")
    assert made.written and "Next: `releaseml train-local`" in "\n".join(made.said())
    config = (tmp_path / "releaseml.yaml").read_text()
    assert "target: species" in config and "data: p.csv" in config and "# drop: [island]" in config
    ignored = (tmp_path / ".gitignore").read_text().splitlines()
    assert ignored[0] == "venv/" and ".releaseml/" in ignored
    again = new_project.init(tmp_path, tmp_path / "p.csv", "species")
    assert not again.written and "exists already and is left as it is" in again.said()[0]
    assert new_project._write_gitignore(tmp_path) is None  # nothing missing: nothing added


def test_init_drops_the_columns_that_look_like_identifiers(tmp_path, penguins):
    """Text that differs in every row, or whole numbers under an id's name, go under `drop:` (said so);
    a measured number that differs in every row, or a code that repeats, stays a feature."""
    import yaml

    rows = len(penguins)
    frame = penguins.assign(
        customer_id=[f"C{i:05d}" for i in range(rows)],
        RowID=range(rows),
        measured=[i * 0.37 for i in range(rows)],  # differs in every row but is a number: kept
        count=range(rows),  # whole numbers that differ, but not named as an id: kept
        spend=["NA", *[f"{i}.5" for i in range(rows - 1)]],  # numbers with a missing marker: kept
        order_id=[str(i) if i else "" for i in range(rows)],  # an id is never missing: kept
    )
    frame.to_csv(tmp_path / "p.csv", index=False)
    made = new_project.init(tmp_path, tmp_path / "p.csv", "species")
    assert yaml.safe_load((tmp_path / "releaseml.yaml").read_text())["drop"] == ["customer_id", "RowID"]
    assert "Not a feature: customer_id, RowID (every value differs" in "\n".join(made.said())
    (tmp_path / "releaseml.yaml").unlink()
    by_id = new_project.init(tmp_path, tmp_path / "p.csv", "customer_id")  # the target is never dropped nor said to be
    assert yaml.safe_load((tmp_path / "releaseml.yaml").read_text())["drop"] == ["RowID"]
    assert "Not a feature: RowID (" in "\n".join(by_id.said())
    (tmp_path / "releaseml.yaml").unlink()
    penguins.assign(customer_id="same").to_csv(tmp_path / "p.csv", index=False)
    new_project.init(tmp_path, tmp_path / "p.csv", "species")
    assert "drop" not in yaml.safe_load((tmp_path / "releaseml.yaml").read_text())


def test_every_commented_example_of_init_uncommented_makes_a_valid_config(tmp_path, penguins):
    """Each "# key: value" line of the written config, uncommented as its header says, still loads."""
    from releaseml.config import config_file

    penguins.to_csv(tmp_path / "p.csv", index=False)
    new_project.init(tmp_path, tmp_path / "p.csv", "species")
    text = (tmp_path / "releaseml.yaml").read_text()
    for line in [line for line in text.splitlines() if line.startswith("# ") and ":" in line and not line.startswith("# releaseml")]:
        if "[...]" in line or line.startswith(("# README", "# then", "# catboost", "#   ")):
            continue
        (tmp_path / "try.yaml").write_text(text.replace(line, line[2:], 1))
        config_file.load(tmp_path / "try.yaml")


@pytest.mark.parametrize(
    "line,hint",
    [(" seed: 42", "Line 3 starts with a space: a top-level key (`seed:`)"), ("\tseed: 42", "indented with a tab")],
)
def test_a_key_uncommented_with_its_space_or_a_tab_is_said_plainly(tmp_path, line, hint):
    from releaseml.config import config_file

    (tmp_path / "releaseml.yaml").write_text(f"target: species\ndata: p.csv\n{line}\n")
    with pytest.raises(UserError, match="not valid YAML") as raised:
        config_file.load(tmp_path / "releaseml.yaml")
    assert hint in str(raised.value)


@pytest.mark.parametrize("target", ["2020", "yes", "a b", "price"])
def test_init_quotes_a_target_that_yaml_would_read_as_something_else(tmp_path, target):
    import yaml

    (tmp_path / "d.csv").write_text(f"{target},x\n1,2\n")
    new_project.init(tmp_path, tmp_path / "d.csv", target)
    assert yaml.safe_load((tmp_path / "releaseml.yaml").read_text())["target"] == target


def test_init_mistakes(tmp_path, penguins):
    with pytest.raises(UserError, match="give the data to learn from"):
        new_project.init(tmp_path, None, None)
    with pytest.raises(UserError, match="does not exist"):
        new_project.init(tmp_path, tmp_path / "nope.csv", "y")
    penguins.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(UserError, match="which column should the model predict") as listed:
        new_project.init(tmp_path, tmp_path / "p.csv", None)
    assert "species (e.g. 'Adelie'" in str(listed.value)
    with pytest.raises(UserError, match="Did you mean 'species'"):
        new_project.init(tmp_path, tmp_path / "p.csv", "specis")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no CSV or Parquet file"):
        new_project.init(tmp_path, tmp_path / "empty", "y")
    (tmp_path / "blank.csv").write_text("")
    with pytest.raises(UserError, match="is empty"):
        new_project.init(tmp_path, tmp_path / "blank.csv", "y")


def test_init_reads_parquet_and_folders_and_large_files(tmp_path, penguins):
    folder = tmp_path / "data"
    folder.mkdir()
    penguins.to_parquet(folder / "a.parquet", index=False)
    columns = new_project.read_columns(folder)
    assert [c.name for c in columns] == list(penguins.columns) and columns[0].examples
    big = pd.concat([penguins] * 60, ignore_index=True)  # past the sample the header is read from
    big.to_csv(tmp_path / "big.csv", index=False)
    assert [c.name for c in new_project.read_columns(tmp_path / "big.csv")] == list(penguins.columns)


# ---- the Python API ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_project(tmp_path_factory, penguins):
    import os

    from releaseml import api

    folder = tmp_path_factory.mktemp("api")
    before = os.getcwd()
    os.chdir(folder)
    try:
        run = api.train(config={"catboost": {"iterations": 20}}, data=penguins.drop(columns=["year"]), target="species")
    finally:
        os.chdir(before)
    return folder, run


def test_the_api_trains_a_run_and_loads_it_every_way(api_project, penguins):
    from releaseml import api

    folder, run = api_project
    assert run.status == "succeeded" and run.metrics["validation"]["accuracy"] > 0.8
    assert f"releaseml run {run.id}" in run._repr_html_() and "accuracy" in run._repr_html_()
    listed = api.runs(folder)
    assert [r["id"] for r in listed] == [run.id]
    for ref in (run.model_dir, run.model_dir.parent):
        assert api.load(ref).features == FEATURES
    assert run.model.classes == ["Adelie", "Chinstrap", "Gentoo"]
    scored = run.load().predict(penguins.head(5))
    assert list(scored.columns) == [*penguins.columns, "prediction", "probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]
    explained = run.load().explain(penguins.head(3), 2)
    assert list(explained.columns)[-4:] == ["reason_1", "contribution_1", "reason_2", "contribution_2"]


def test_the_api_says_what_is_wrong_with_a_frame(api_project, penguins):
    folder, run = api_project
    model = run.load()
    with pytest.raises(UserError, match="takes a pandas DataFrame"):
        model.predict([[1, 2]])
    with pytest.raises(UserError, match=r"has no column\(s\) \['sex'\]"):
        model.predict(penguins.drop(columns=["sex"]))
    with pytest.raises(UserError, match="that the scores are written to"):
        model.predict(penguins.assign(prediction=1))
    with pytest.raises(UserError, match="k is how many reasons"):
        model.explain(penguins, 0)
    with pytest.raises(UserError, match="row 2 of the frame"):
        model.predict(penguins.head(3).assign(bill_length_mm=["1", "long", "2"]))


def test_the_api_finds_the_project_config_and_resolves_runs(api_project, penguins, monkeypatch):
    from releaseml import api

    folder, run = api_project
    monkeypatch.chdir(folder)
    (folder / "releaseml.yaml").write_text("target: island\ncatboost: {iterations: 10}\n")
    penguins.to_csv(folder / "p.csv", index=False)
    second = api.train(data="p.csv", target="species")  # the config found here, its target replaced
    assert second.id != run.id and api.load("latest").model_dir == second.model_dir
    assert api.load(run.id).model_dir == run.model_dir
    with pytest.raises(UserError, match="data= takes a file or folder path"):
        api.train(data=42)


# ---- the server's codecs, in this process --------------------------------------------------


@pytest.fixture(scope="module")
def species(species_model):
    return bundle.load(species_model.model_dir)


def decoded(body: bytes, content_type: str, schema):
    chunks = [chunk if isinstance(chunk, list) else chunk.values.tolist() for chunk in codecs.decode(body, content_type, schema)]
    return [row for chunk in chunks for row in chunk]


def test_every_content_type_decodes_a_row_alike(species):
    schema = species.schema
    row = ["Dream", 40.0, 18.0, 190.0, 3700.0, "male"]
    ways = {
        "csv": decoded(b"Dream,40,18,190,3700,male", "text/csv", schema),
        "csv with a header": decoded((",".join(FEATURES) + "\nDream,40,18,190,3700,male").encode(), "text/csv", schema),
        "json list": decoded(json.dumps([row]).encode(), "application/json", schema),
        "json instances": decoded(json.dumps({"instances": [dict(zip(FEATURES, row))]}).encode(), "application/json", schema),
        "json lines": decoded(json.dumps(dict(zip(FEATURES, row))).encode() + b"\n\n", "application/jsonlines", schema),
    }
    assert all(rows == [row] for rows in ways.values()), ways


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (b"", "text/csv", "empty"),
        (b"  \n", "application/json", "empty"),
        (b"{bad", "application/json", "malformed JSON"),
        (b'{"rows": []}', "application/json", 'needs an "instances" list'),
        (b'{"instances": []}', "application/json", "no instances"),
        (b'"text"', "application/json", "must be"),
        (b'{"island": "Dream", "colour": 1}', "application/jsonlines", "unknown key"),
        (b"7", "application/jsonlines", "an instance must be a list"),
        (",".join(FEATURES).encode(), "text/csv", "header row but no data rows"),
        (b"island,bill_length_mm,bill_depth_mm,sex\nDream,1,2,male", "text/csv", "lacks the feature column"),
        ((",".join([*FEATURES, "colour"]) + "\nDream,1,2,3,4,male,red").encode(), "text/csv", "does not know"),
    ],
)
def test_bad_bodies_are_refused_with_what_is_wrong(species, body, content_type, message):
    with pytest.raises(codecs.RequestError, match=message):
        decoded(body, content_type, species.schema)


def test_answers_encode_alike_in_every_type_with_and_without_a_header(species):
    schema = species.schema
    rows = [["Dream", 40.0, 18.0, 190.0, 3700.0, "male"], ["Biscoe", 50.0, 15.0, 220.0, 5000.0, "female"]]
    plain = species.predict(rows)
    explained = species.predict_and_explain(rows, 2)
    csv = b"".join(codecs.encode([plain], "text/csv", schema)).decode()
    named = b"".join(codecs.encode([plain], "text/csv", schema, header=True)).decode().split("\n")
    assert named[0] == "prediction,probability_Adelie,probability_Chinstrap,probability_Gentoo" and named[1:] == csv.split("\n")
    records = json.loads(b"".join(codecs.encode([plain, plain], "application/json", schema)))["predictions"]
    assert [r["prediction"] for r in records] == [line.split(",")[0] for line in csv.split("\n")] * 2
    lines = b"".join(codecs.encode([explained], "application/jsonlines", schema)).decode().split("\n")
    assert all(json.loads(line)["explanation"]["toward"] == json.loads(line)["prediction"] for line in lines)
    with_reasons = b"".join(codecs.encode([explained], "text/csv", schema, header=True)).decode().split("\n")
    assert with_reasons[0].endswith("reason_1,contribution_1,reason_2,contribution_2") and len(with_reasons) == 3


def test_regression_answers_carry_intervals_when_the_model_has_them(mass_model, penguins):
    from releaseml.data.schema import model_frame

    model = bundle.load(mass_model.model_dir)
    model.info["interval"] = {"half_width": 100.0}
    model.__dict__.pop("interval_half_width", None)
    rows = model_frame(penguins.head(1), model.schema)
    prediction = model.predict(rows)
    assert np.allclose(prediction.intervals[0], [prediction.values[0] - 100, prediction.values[0] + 100])
    csv = b"".join(codecs.encode([prediction], "text/csv", model.schema, header=True)).decode().split("\n")
    assert csv[0] == "prediction,lower,upper" and len(csv[1].split(",")) == 3
    record = json.loads(b"".join(codecs.encode([prediction], "application/json", model.schema)))["predictions"][0]
    assert record["interval"]["upper"] - record["interval"]["lower"] == pytest.approx(200)
    assert prediction.rows(0, 1).intervals.shape == (1, 2)


# ---- the training log's filter -------------------------------------------------------------


LOG = [
    "Task: binary on 'y'.",
    "Learning rate set to 0.05",
    "0:\tlearn: 0.6\ttest: 0.6\tbest: 0.6 (0)\ttotal: 1ms\tremaining: 1s",
    "Training: tree 400 of at most 1000, 15 s so far, at most ~20 s left.",
    "#releaseml metric validation:logloss=0.1",
    "#releaseml stage fit: wall 1.20 s, CPU 2.31 s, peak 350 MB",
    "Report: /x/report.html",
    "Training failed: a reason",
    "",
    "Warning: something to see",
]


@pytest.mark.parametrize("terminal", [False, True])
def test_the_training_log_keeps_releasemls_lines_and_hides_catboosts(terminal, monkeypatch, capsys):
    from releaseml.local import training_log

    monkeypatch.setattr(training_log, "_on_a_terminal", lambda: terminal)
    log = training_log.TrainingLog()
    for line in LOG:
        log.line(line + "\n")
    log.close()
    shown = capsys.readouterr().out.splitlines()
    expected = ["Task: binary on 'y'.", "Warning: something to see"]
    assert shown == (expected if terminal else [expected[0], LOG[3], expected[1]])


def test_the_verbose_training_log_shows_all_but_the_failure_the_task_says(capsys):
    from releaseml.local import training_log

    log = training_log.TrainingLog(verbose=True)
    for line in LOG:
        log.line(line)
    assert capsys.readouterr().out.splitlines() == [line for line in LOG if not line.startswith("Training failed")]


def test_help_in_the_usual_places_means_the_tasks_help():
    from releaseml.cli.program import conventional

    assert conventional(["releaseml", "score", "--help"]) == ["releaseml", "--help", "score"]
    assert conventional(["releaseml", "help", "runs"]) == ["releaseml", "--help", "runs"]
    assert conventional(["releaseml", "score", "x.csv"]) == ["releaseml", "score", "x.csv"]
    assert conventional(["releaseml", "--list"]) == ["releaseml", "--list"]


# ---- media types and runs, directly ---------------------------------------------------------


@pytest.mark.parametrize(
    "accept, own, chosen",
    [
        (None, "text/csv", "text/csv"),
        ("", "application/json", "application/json"),
        ("*/*", "text/csv", "text/csv"),
        ("application/json, */*", "text/csv", "application/json"),
        ("text/csv;q=0.1, application/jsonlines;q=0.9", "text/csv", "application/jsonlines"),
        ("text/*", "application/json", "text/csv"),
        ("image/png", "text/csv", None),
        ("text/csv; header=present; explain=2", "application/json", "text/csv"),
    ],
)
def test_the_answer_type_is_what_the_client_rates_highest(accept, own, chosen):
    from releaseml.common import media

    assert media.negotiate(accept, own) == chosen


def test_media_type_parameters_are_read_once_each():
    from releaseml.common import media

    assert media.canonical("Text/CSV; charset=utf-8") == "text/csv" and media.canonical("image/png") is None
    assert media.charset("text/csv; charset=UTF-8") == "utf-8" and media.charset("text/csv") is None
    assert media.wants_header("text/csv; header=present") and not media.wants_header("text/csv; header=absent")
    assert not media.wants_header(None)
    assert media.explain_request("text/csv; explain=3", None) == "3" and media.explain_request(None, "explain=2") == "2"
    assert media.explain_request("text/csv", "trace=1") is None and media.with_explain("text/csv", 2) == "text/csv; explain=2"


def test_the_run_store_resolves_ids_and_says_which_it_knows(tmp_path):
    from releaseml.local import runs

    store = runs.RunStore(tmp_path)
    assert store.all() == [] and store.latest() is None
    with pytest.raises(UserError, match="no trained model yet in this project"):
        store.resolve()
    first = store.finish(store.create(tmp_path / "releaseml.yaml", {"target": "y"}, []), 0, {"validation": {"rmse": 1.0}}, None)
    second = store.finish(store.create(tmp_path / "releaseml.yaml", {"target": "y", "seed": 3}, []), 1, {}, "it broke")
    assert store.latest().id == first.id and store.resolve("latest").id == first.id and store.resolve(first.id[:-1]).id == first.id
    assert runs.changes(None, first) == ["first run"] and runs.changes(first, second) == ["seed (unset) -> 3"]
    assert runs.changes(first, first) == ["nothing"] and first.main_metric() == ("rmse", 1.0)
    with pytest.raises(UserError, match=f"no run 'zzz'.*{first.id}"):
        store.resolve("zzz")
    broken = tmp_path / ".releaseml" / "runs" / "20000101-000000-dead"
    broken.mkdir()
    (broken / "run.json").write_text('{"status": "running", "pid": 999999999}')  # a process long gone
    (tmp_path / ".releaseml" / "runs" / "not-a-run").mkdir()  # no run.json: not listed
    statuses = {run.id: run.status for run in store.all()}
    assert statuses["20000101-000000-dead"] == "failed" and "not-a-run" not in statuses
    assert not runs._alive("x") and runs._alive(__import__("os").getpid())
    with pytest.raises(UserError, match="give --run or --ml-root, not both"):
        runs.resolve_root("a", "b")
    assert runs.resolve_root(None, "some/ml") == __import__("pathlib").Path("some/ml")


def test_two_runs_compare_side_by_side(tmp_path):
    from releaseml.local import run_listing, runs

    store = runs.RunStore(tmp_path)
    a = store.finish(store.create(tmp_path / "c.yaml", {"target": "y"}, []), 0, {"validation": {"logloss": 0.3, "auc": 0.8}}, None)
    b = store.finish(
        store.create(tmp_path / "c.yaml", {"target": "y", "seed": 1}, []), 0, {"validation": {"logloss": 0.2, "auc": 0.7}}, None
    )
    compared = run_listing.compare(a, b)
    assert compared["metrics"]["validation:logloss"] == [0.3, 0.2] and compared["config"]["seed"] == [None, "1"]
    text = run_listing.comparison_text(compared)
    assert "second better" in text and "first better" in text and "seed" in text
    table = run_listing.table(store.all(), store.root)
    assert f"latest: {b.id}" in table and "logloss 0.2" in table
    assert run_listing.table([], store.root).startswith("No runs yet")


def test_stages_are_timed_only_when_a_run_records_them():
    from releaseml.common import stage_timer

    with stage_timer.stage("alone"):
        pass  # nothing records it: nothing said (the same functions serve check-data and scoring)
    said = []
    with stage_timer.recording(said.append):
        with stage_timer.stage("report: figures"):
            sum(range(1000))
    [timed] = stage_timer.parse_lines("\n".join(said))
    assert timed.name == "report: figures" and timed.wall >= 0 and timed.cpu >= 0 and timed.peak_mb > 10
