"""`releaseml monitor`: a live model's captured traffic against its training, from captures made as SageMaker makes them.

Every body is posted to a real server (helpers.Server) and its real answer recorded as endpointOutput,
in AWS's JSON Lines under ENDPOINT/VARIANT/yyyy/mm/dd/hh/: CSV with and without a header row, JSON
(objects and lists), JSON Lines, some BASE64, requests of several rows. Three days back, traffic drawn
like training; yesterday, the same with one number column shifted by five standard deviations; the day
between, none. Ground truth in SageMaker's merge format gives live metrics that the test computes by
hand from the answers it received. Each mistake (another model's captures, labels that match nothing,
no capture files, a bad --since) gives one message; the page loads in headless Chromium.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from helpers import Server, train_model
from releaseml.checking import capture
from releaseml.checking.capture import since_time
from releaseml.checking.monitor import monitor
from releaseml.common.errors import UserError

FEATURES = ["x", "z", "colour"]
SHIFT = 25.0  # five standard deviations of z
TODAY = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
CALM_DAY, QUIET_DAY, SHIFTED_DAY = TODAY - timedelta(days=3), TODAY - timedelta(days=2), TODAY - timedelta(days=1)


def signals(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """A binary target decided mostly by x; z (mean 50, sd 5) and colour barely matter, so shifting z changes the inputs only."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, rows)
    frame = pd.DataFrame(
        {"x": x.round(3), "z": (rng.normal(50, 5, rows) + shift).round(2), "colour": rng.choice(["red", "green", "blue"], rows)}
    )
    frame["answer"] = np.where(x + rng.normal(0, 0.5, rows) > 0, "yes", "no")
    return frame


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    return train_model(tmp_path_factory.mktemp("binary"), {"target": "answer", "catboost": {"iterations": 60}}, signals(600, seed=1))


@pytest.fixture(scope="module")
def server(binary):
    running = Server(binary.root)
    yield running
    running.stop()


@dataclass
class Sent:
    """One captured request as the test saw it: its ids, when, its true labels, and what the server answered."""

    event_id: str
    inference_id: str | None
    day: datetime
    truth: list
    predicted: list
    p_yes: list


class Endpoint:
    """Posts bodies to the real server and writes each request and answer as SageMaker's data capture does."""

    KINDS = ["csv", "csv_header", "json_objects", "json_lists", "jsonl"]

    def __init__(self, url: str, folder: Path):
        self.url, self.folder, self.sent = url, folder, []

    def send(self, rows: pd.DataFrame, kind: str, when: datetime, base64_: bool = False, inference_id: str | None = None) -> Sent:
        content_type, body, accept = _body(rows[FEATURES], kind)
        event_id, answer = self.post(content_type, body, accept, when, base64_, inference_id)
        assert answer.status_code == 200, answer.text
        predicted, p_yes = _read_answer(answer.text, answer.headers["Content-Type"])
        sent = Sent(event_id, inference_id, when.replace(hour=0, minute=0, second=0), rows["answer"].tolist(), predicted, p_yes)
        self.sent.append(sent)
        return sent

    def post(self, content_type: str, body: bytes, accept: str, when: datetime, base64_=False, inference_id=None):
        """Post one body and capture it with the server's answer, whatever its status."""
        answer = requests.post(f"{self.url}/invocations", data=body, headers={"Content-Type": content_type, "Accept": accept}, timeout=30)
        event_id = str(uuid.uuid4())
        record = {
            "captureData": {
                "endpointInput": _captured(content_type, body, "INPUT", base64_),
                "endpointOutput": _captured(answer.headers["Content-Type"], answer.content, "OUTPUT", base64_),
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), **_optional(inference_id)},
            "eventVersion": "0",
        }
        self._append(when, record)
        return event_id, answer

    def _append(self, when: datetime, record: dict) -> None:
        hour = self.folder / "releaseml-endpoint" / "AllTraffic" / when.strftime("%Y/%m/%d/%H")
        hour.mkdir(parents=True, exist_ok=True)
        with (hour / "capture.jsonl").open("a") as out:
            out.write(json.dumps(record) + "\n")

    def day(self, frame: pd.DataFrame, day: datetime) -> None:
        """A day of traffic: requests of 1 to 5 rows in every kind of body, some BASE64, some with an inferenceId."""
        start, number = 0, 0
        while start < len(frame):
            size = [1, 1, 5, 3, 4][number % 5]
            when = day + timedelta(hours=9 + number % 8, minutes=number % 60)
            inference_id = f"caller-{uuid.uuid4()}" if number % 3 == 0 else None
            self.send(frame.iloc[start : start + size], self.KINDS[number % 5], when, base64_=number % 4 == 1, inference_id=inference_id)
            start, number = start + size, number + 1


def _body(rows: pd.DataFrame, kind: str) -> tuple[str, bytes, str]:
    records = json.loads(rows.to_json(orient="records"))
    if kind == "csv":
        return "text/csv", rows.to_csv(header=False, index=False).encode(), "text/csv"
    if kind == "csv_header":
        return "text/csv", rows.to_csv(index=False).encode(), "application/json"
    if kind == "json_objects":
        return "application/json", json.dumps({"instances": records}).encode(), "application/json"
    if kind == "json_lists":
        return "application/json", json.dumps([list(r.values()) for r in records]).encode(), "text/csv"
    return "application/jsonlines", "\n".join(json.dumps(r) for r in records).encode(), "application/jsonlines"


def _captured(content_type: str, body: bytes, mode: str, base64_: bool) -> dict:
    if base64_:
        return {"observedContentType": content_type, "mode": mode, "data": base64.b64encode(body).decode(), "encoding": "BASE64"}
    encoding = "CSV" if content_type.startswith("text/csv") else "JSON"
    return {"observedContentType": content_type, "mode": mode, "data": body.decode(), "encoding": encoding}


def _optional(inference_id: str | None) -> dict:
    return {"inferenceId": inference_id} if inference_id else {}


def _read_answer(text: str, content_type: str) -> tuple[list, list]:
    """The server's labels and P(yes), read here independently of releaseml's reader."""
    if content_type.startswith("text/csv"):
        rows = [line.split(",") for line in text.splitlines()]
        return [r[0] for r in rows], [float(r[2]) for r in rows]  # label,p_no,p_yes
    if content_type.startswith("application/jsonlines"):
        records = [json.loads(line) for line in text.splitlines()]
    else:
        records = json.loads(text)["predictions"]
    return [r["prediction"] for r in records], [r["probabilities"]["yes"] for r in records]


def keyed(sent: list[Sent], key=lambda s: s.inference_id or s.event_id) -> list[tuple[str, list]]:
    """Each request's true labels under the id SageMaker's merge joins by: the inferenceId when the caller gave one."""
    return [(key(s), s.truth) for s in sent]


def write_labels(folder: Path, labelled: list[tuple[str, list]]) -> Path:
    """Ground truth as SageMaker's merge reads it: CSV (several labels for a request of several rows) or JSON."""
    hour = folder / TODAY.strftime("%Y/%m/%d/%H")
    hour.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (key, truth) in enumerate(labelled):
        data = {"data": ",".join(map(str, truth)), "encoding": "CSV"} if i % 2 else {"data": json.dumps(truth), "encoding": "JSON"}
        lines.append(json.dumps({"groundTruthData": data, "eventMetadata": {"eventId": key}, "eventVersion": "0"}))
    (hour / "labels.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def traffic(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("captured")
    endpoint = Endpoint(server.url, folder)
    endpoint.day(signals(240, seed=2), CALM_DAY)
    endpoint.day(signals(240, seed=3, shift=SHIFT), SHIFTED_DAY)
    refused, answer = endpoint.post("text/csv", b"0.5,heavy,red\n", "text/csv", CALM_DAY + timedelta(hours=20))
    assert answer.status_code == 400
    broken = folder / "releaseml-endpoint" / "AllTraffic" / CALM_DAY.strftime("%Y/%m/%d/%H")
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "broken.jsonl").write_text('{"captureData": {"endpointInput": \n{"eventVersion": "0"}\n')
    labels = write_labels(tmp_path_factory.mktemp("labels"), keyed(endpoint.sent))
    return folder, labels, endpoint.sent, refused


@pytest.fixture(scope="module")
def result(traffic, binary):
    folder, labels, *_ = traffic
    return monitor(capture.Captured(folder), binary.model_dir, labels=labels)


def by_day(result) -> dict:
    return {p.start: p for p in result.periods}


def test_every_request_is_read_as_the_server_read_it(result, traffic):
    _, _, sent, refused = traffic
    assert result.requests == len(sent) + 1 and result.rows == 480 and result.refused == 1
    (error,) = result.errors
    assert error.startswith("1 request(s): row 1, column 'z': 'heavy' is not a number") and f"e.g. event {refused}, " in error
    assert by_day(result)[CALM_DAY].refused == 1
    assert [p.start for p in result.periods] == [CALM_DAY, QUIET_DAY, SHIFTED_DAY]
    assert [p.rows for p in result.periods] == [240, 0, 240]
    assert len(result.malformed) == 2 and all("broken.jsonl:" in m for m in result.malformed), result.malformed
    assert "broken.jsonl:1: not JSON" in result.malformed[0] and "broken.jsonl:2:" in result.malformed[1]


def test_the_shifted_column_drifts_on_the_shifted_day_only(result):
    days = by_day(result)
    calm, shifted = days[CALM_DAY], days[SHIFTED_DAY]
    assert all(c.drift != "large" for c in calm.check.columns), [(c.name, c.psi) for c in calm.check.columns]
    assert shifted.column("z").drift == "large" and shifted.column("z").psi > 1
    assert {c.name for c in shifted.check.columns if c.drift == "large"} == {"z"}
    assert list(result.drifted()) == ["z"] and result.drifted()["z"][0].start == SHIFTED_DAY
    sentence = result.sentence()
    assert f"z (large, PSI {shifted.column('z').psi:.2f} on {SHIFTED_DAY:%Y-%m-%d})" in sentence
    assert f"no traffic on {QUIET_DAY:%Y-%m-%d}" in sentence and days[QUIET_DAY].requests == 0


def test_live_metrics_equal_the_ones_computed_by_hand(result, traffic, binary):
    _, _, sent, _ = traffic
    schema = json.loads(binary.schema_file.read_text())
    for day, period in by_day(result).items():
        today = [s for s in sent if s.day == day]
        truth = [t for s in today for t in s.truth]
        predicted = [p for s in today for p in s.predicted]
        p_yes = np.array([p for s in today for p in s.p_yes])
        if not truth:
            assert period.metrics == {} and period.labelled == 0
            continue
        positive = np.array(truth) == "yes"
        assert period.labelled == len(truth)
        assert period.metrics["accuracy"] == pytest.approx(np.mean(np.array(truth) == np.array(predicted)), abs=1e-12)
        assert period.metrics["logloss"] == pytest.approx(-np.mean(np.log(np.where(positive, p_yes, 1 - p_yes))), rel=1e-6)
        pairs = [(a > b) + 0.5 * (a == b) for a in p_yes[positive] for b in p_yes[~positive]]  # AUC: P(a yes scores above a no)
        assert period.metrics["auc"] == pytest.approx(np.mean(pairs), rel=1e-9)
    assert result.validation == {name: schema["metrics"]["validation"][name] for name in ("logloss", "auc", "accuracy")}
    assert result.labels.records == len(sent) and result.labels.matched == len(sent) and result.labelled == 480
    assert f"live accuracy {result.metrics['accuracy']:.4g} on 480 labelled rows (validation" in result.sentence()


def test_regression_live_errors_against_validation(mass_model, penguins, tmp_path):
    frame = penguins.dropna(subset=["body_mass_g"]).sample(30, random_state=4)
    running = Server(mass_model.root)
    try:
        endpoint, sent = Endpoint(running.url, tmp_path / "captured"), []
        for i in range(0, 30, 3):
            rows = frame.iloc[i : i + 3]
            body = rows.drop(columns=["body_mass_g"]).to_csv(index=False).encode()
            event_id, answer = endpoint.post("text/csv", body, "text/csv", SHIFTED_DAY + timedelta(minutes=i), base64_=i % 2 == 0)
            sent.append((event_id, [float(v) for v in answer.text.splitlines()], rows["body_mass_g"].tolist()))
    finally:
        running.stop()
    labels = write_labels(tmp_path / "labels", [(event_id, truth) for event_id, _, truth in sent])
    result = monitor(capture.Captured(tmp_path / "captured"), mass_model.model_dir, labels=labels)
    errors = np.array([p - t for _, predicted, truth in sent for p, t in zip(predicted, truth)])
    assert result.metrics["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)), rel=1e-9)
    assert result.metrics["mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-9)
    assert set(result.validation) == {"rmse", "mae"} and result.labelled == 30
    assert "too few rows per day to judge drift" in result.sentence()


def test_another_models_captures_name_the_columns(traffic, species_model):
    folder, *_ = traffic
    with pytest.raises(UserError) as caught:
        monitor(capture.Captured(folder), species_model.model_dir)
    message = str(caught.value)
    assert "they name column(s) x, z, colour that it does not know" in message, message
    assert "its features are island, bill_length_mm" in message and "another model's endpoint" in message


def test_labels_that_match_nothing_say_how_many_and_show_ids(traffic, binary, tmp_path):
    folder, _, sent, _ = traffic
    wrong = write_labels(tmp_path / "wrong", keyed(sent[:10], key=lambda s: f"label-{s.event_id[:8]}"))
    with pytest.raises(UserError) as caught:
        monitor(capture.Captured(folder), binary.model_dir, labels=wrong)
    message = str(caught.value)
    assert f"none of the 10 ground-truth records under {wrong} matches a captured request" in message
    assert (
        f"'label-{sent[0].event_id[:8]}'" in message
        and "a captured request's" in message
        and "inferenceId when the caller gave one" in message
    )
    some = write_labels(tmp_path / "some", keyed(sent[:10]))
    partial = monitor(capture.Captured(folder), binary.model_dir, labels=some)
    assert partial.labels.matched == 10 and partial.labelled == sum(len(s.truth) for s in sent[:10])


def test_no_capture_files_and_a_bad_since_are_named(tmp_path, binary):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no capture files under .*empty: SageMaker writes them as ENDPOINT/VARIANT/yyyy/mm/dd/hh"):
        capture.Captured(tmp_path / "empty")
    with pytest.raises(UserError, match="no folder at"):
        capture.Captured(tmp_path / "nowhere")
    with pytest.raises(UserError, match="--since 'last week': give how far back to look"):
        since_time("last week")
    now = datetime(2026, 12, 5, 12, tzinfo=timezone.utc)
    assert since_time("7d", now) == now - timedelta(days=7) and since_time("24h", now) == now - timedelta(hours=24)
    assert since_time("2026-12-01", now) == datetime(2026, 12, 1, tzinfo=timezone.utc)


def run_monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`releaseml monitor ...` as a user runs it: invoke's Program over the task module."""
    program = (
        "import sys; from invoke import Collection, Program; from releaseml.cli import monitor_tasks; "
        "Program(namespace=Collection.from_module(monitor_tasks), name='releaseml').run(['releaseml', 'monitor', *sys.argv[1:]])"
    )
    return subprocess.run([sys.executable, "-c", program, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_task_prints_the_sentence_and_the_page(traffic, binary, tmp_path):
    folder, labels, sent, _ = traffic
    shown = run_monitor("--captured", str(folder), "--labels", str(labels), "--ml-root", str(binary.root), "--out", "seen", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "z (large" in lines[0] and f"  {QUIET_DAY:%Y-%m-%d}: no traffic" in lines
    assert lines[-1] == f"Page: {Path('seen') / 'monitor.html'}" and (tmp_path / "seen" / "monitor.html").is_file()
    recent = run_monitor(
        "--captured", str(folder), "--labels", str(labels), "--ml-root", str(binary.root), "--since", "2d", "--json", cwd=tmp_path
    )
    assert recent.returncode == 0, recent.stderr
    report = json.loads(recent.stdout)
    assert report["requests"] == sum(1 for s in sent if s.day == SHIFTED_DAY) and list(report["drifted"]) == ["z"]
    assert [p["period"] for p in report["periods"]] == [f"{d:%Y-%m-%d}" for d in (QUIET_DAY, SHIFTED_DAY, TODAY)]
    assert any("matched a captured request (requests before --since are left out)" in w for w in report["warnings"])
    calm = run_monitor(
        "--captured",
        str(folder),
        "--ml-root",
        str(binary.root),
        "--since",
        "1d",  # back from --until
        "--until",
        f"{QUIET_DAY:%Y-%m-%d}",
        "--json",
        cwd=tmp_path,
    )
    assert calm.returncode == 0, calm.stderr
    report = json.loads(calm.stdout)  # --until: the calm day only (and the request it refused)
    assert report["requests"] == sum(1 for s in sent if s.day == CALM_DAY) + 1 and report["drifted"] == {}
    assert [p["period"] for p in report["periods"]] == [f"{CALM_DAY:%Y-%m-%d}"] and report["until"] == QUIET_DAY.isoformat()
    empty = tmp_path / "nothing"
    empty.mkdir()
    missing = run_monitor("--captured", str(empty), "--ml-root", str(binary.root), cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("error: no capture files under") and "Traceback" not in missing.stderr
    nowhere = run_monitor("--ml-root", str(binary.root), cwd=tmp_path)
    assert nowhere.returncode == 1 and "Traceback" not in nowhere.stderr
    assert nowhere.stderr.startswith(
        "error: say where the captured requests are: --captured PATH (a folder, or an s3:// prefix), or --endpoint NAME"
    )
    both = run_monitor("--captured", str(folder), "--ml-root", str(binary.root), "--run", "latest", cwd=tmp_path)
    assert both.returncode == 1 and both.stderr.startswith(
        "error: give one of --endpoint, --job, --run and --ml-root, not --run and --ml-root"
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,900"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    yield driver
    driver.quit()


def test_the_page_loads_in_a_browser_with_its_figures(browser, result, tmp_path):
    from releaseml.report import monitor_page

    page = monitor_page.write(tmp_path / "monitor", result)
    browser.get(page.as_uri())
    images = browser.execute_script(
        "return Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth}))"
    )
    assert [i["alt"] for i in images] == [f"z: large drift on {SHIFTED_DAY:%Y-%m-%d}", "Live metrics against validation"]
    assert all(i["complete"] and i["width"] > 300 for i in images), images
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    assert "z (large" in browser.find_element("css selector", "p.headline").text
    assert "no traffic" in browser.find_element("css selector", "table").text


def test_a_day_of_few_rows_names_no_drift_on_the_page(result):
    """Under MIN_ROWS_FOR_DRIFT rows a day's table cell gives its highest PSI without a drift word: the note
    under the table says such a PSI is large by chance, and "large" beside it read as a finding."""
    import dataclasses

    from releaseml.report import monitor_page

    shifted = by_day(result)[SHIFTED_DAY]
    assert monitor_page._most_drifted(shifted).startswith("z (large, PSI")
    few = dataclasses.replace(shifted, rows=40)
    cell = monitor_page._most_drifted(few)
    assert "large" not in cell and "40 rows, too few" in cell and "z)" in cell


def test_live_metric_panels_span_the_window_and_keep_each_point_off_the_frame(result):
    """Every period on the x-axis (those without labels said so), the live values and the validation line
    inside the y-axis with room, each value written beside its point."""
    import matplotlib.pyplot as plt

    from releaseml.report import monitor_page

    labels = [p.label for p in result.periods]
    for name in monitor_page._metric_names(result):
        figure, axes = plt.subplots()
        monitor_page._metric_panel(axes, name, result, labels)
        values = [p.metrics[name] for p in result.periods if name in p.metrics] + [result.validation[name]]
        low, high = axes.get_ylim()
        margin = (high - low) * 0.1
        assert all(low + margin < v < high - margin for v in values), (name, values, (low, high))
        assert axes.get_xlim()[0] < 0 and axes.get_xlim()[1] > len(labels) - 1
        texts = [t.get_text() for t in axes.texts]
        gaps = texts.count("no labels") + texts.count("not computable")
        assert gaps == sum(name not in p.metrics for p in result.periods) > 0
        assert texts.count("no labels") == sum(name not in p.metrics and not p.labelled for p in result.periods)
        assert sum(t.endswith(" rows") for t in texts) == sum(name in p.metrics for p in result.periods)
        plt.close(figure)
    assert monitor_page._padded([]) == monitor_page._padded([float("nan")]) == (0.0, 1.0)  # nothing to show: no crash
    assert monitor_page._padded([0.5]) == (0.475, 0.525)


# ---- `monitor` in the image: SageMaker Processing's layout, on local folders -----------------------


def processing_root(root: Path, binary, captured: Path | None = None, labels: Path | None = None) -> Path:
    """An ML root laid out as a Processing job finds it: the model.tar.gz as SageMaker packs /opt/ml/model, the
    capture files and ground truth copied under processing/input/ (as the job's S3 inputs are downloaded)."""
    import shutil
    import tarfile

    inputs = root / "processing" / "input"
    (inputs / "model").mkdir(parents=True)
    with tarfile.open(inputs / "model" / "model.tar.gz", "w:gz") as archive:
        for file in sorted(binary.model_dir.iterdir()):
            archive.add(file, arcname=file.name)
    for name, folder in (("captured", captured), ("labels", labels)):
        if folder is not None:
            shutil.copytree(folder, inputs / name)
    return root


def entry_point(root: Path, window_end: datetime | str, **more: str) -> subprocess.CompletedProcess:
    """`python -m releaseml monitor`, as the image's `monitor` script runs it, on a local ML root."""
    import os

    settings = {
        "RELEASEML_ML_ROOT": str(root),
        "RELEASEML_MONITOR_ENDPOINT": "releaseml-endpoint",
        "RELEASEML_MONITOR_WINDOW": "1d",
        "RELEASEML_MONITOR_WINDOW_END": window_end if isinstance(window_end, str) else window_end.isoformat(),
        **more,
    }
    return subprocess.run(
        [sys.executable, "-m", "releaseml", "monitor"], env={**os.environ, **settings}, capture_output=True, text=True, timeout=300
    )


def test_the_image_entry_point_checks_the_day_before_its_scheduled_time(traffic, binary, tmp_path):
    """The window is the whole day before the scheduled time (00:30 fires for the day before), whatever else the
    capture prefix holds; page, figures and monitor.json under output/<day>/; one JSON metric line per column
    and a summary, with the drift and the live accuracy the test computes by hand from the answers it received."""
    folder, labels, sent, _ = traffic
    root = processing_root(tmp_path / "ml", binary, folder, labels)
    ran = entry_point(root, SHIFTED_DAY + timedelta(days=1, minutes=30))
    assert ran.returncode == 0, ran.stderr
    out = root / "processing" / "output" / f"{SHIFTED_DAY:%Y-%m-%d}"
    assert (out / "monitor.html").is_file() and list((out / "figures").glob("*.png"))
    report = json.loads((out / "monitor.json").read_text())
    day = [s for s in sent if s.day == SHIFTED_DAY]
    truth, predicted = [t for s in day for t in s.truth], [p for s in day for p in s.predicted]
    accuracy = float(np.mean(np.array(truth) == np.array(predicted)))
    assert report["requests"] == len(day) and report["rows"] == 240 and report["endpoint"] == "releaseml-endpoint"
    assert report["since"] == SHIFTED_DAY.isoformat() and report["until"] == (SHIFTED_DAY + timedelta(days=1)).isoformat()
    assert "z" in report["drifted"] and report["metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert report["model"].endswith("processing/input/model/model.tar.gz")

    lines = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith('{"releaseml_monitor"')]
    *columns, summary = lines
    assert {line["column"] for line in columns} == set(FEATURES)
    assert {line["column"] for line in columns if line["drifted"]} == set(report["drifted"])
    assert {line["column"]: line["psi"] for line in columns}["z"] == pytest.approx(report["drifted"]["z"]["psi"], abs=1e-4)
    assert summary["releaseml_monitor"] == "releaseml-endpoint" and summary["drifted_columns"] == len(report["drifted"])
    assert summary["rows"] == 240 and summary["labelled_rows"] == 240 and summary["refused"] == 0
    assert summary["live_accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert summary["window_start"] == SHIFTED_DAY.isoformat()
    assert (root / "output" / "message").read_text().strip() == report["summary"]  # DescribeProcessingJob's ExitMessage

    hourly = entry_point(
        processing_root(tmp_path / "hourly", binary, folder), SHIFTED_DAY + timedelta(hours=12, minutes=15), RELEASEML_MONITOR_WINDOW="1h"
    )
    assert hourly.returncode == 0, hourly.stderr
    (hour,) = (tmp_path / "hourly" / "processing" / "output").iterdir()
    assert hour.name == f"{SHIFTED_DAY:%Y-%m-%d}T11" and json.loads((hour / "monitor.json").read_text())["period"] == "hour"


def test_a_quiet_window_completes_and_says_no_traffic_where_sagemaker_and_cloudwatch_read_it(traffic, binary, tmp_path):
    """The day between the two days of traffic holds no request: news, not a failure. The run exits 0; monitor.json
    has requests 0 and the window, a short page says so; the summary metric line says requests 0 and drifted columns
    0 (no column lines: nothing to measure), and the message (the job's ExitMessage) is the sentence. The local task
    on the same window still refuses it, in the same words."""
    folder, *_ = traffic
    root = processing_root(tmp_path / "quiet", binary, folder)
    ran = entry_point(root, QUIET_DAY + timedelta(days=1, minutes=30))
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    day, next_day = f"{QUIET_DAY:%Y-%m-%d}", f"{QUIET_DAY + timedelta(days=1):%Y-%m-%d}"
    window = f"from {day} 00:00 until {next_day} 00:00 UTC under {root}/processing/input/captured"
    sentence = f"No traffic: no captured requests {window}."
    out = root / "processing" / "output" / f"{QUIET_DAY:%Y-%m-%d}"
    report = json.loads((out / "monitor.json").read_text())
    assert report["summary"] == sentence and report["endpoint"] == "releaseml-endpoint" and report["page"] == "monitor.html"
    assert (report["requests"], report["rows"], report["refused"], report["drifted"], report["columns"]) == (0, 0, 0, {}, [])
    assert report["since"] == QUIET_DAY.isoformat() and report["until"] == (QUIET_DAY + timedelta(days=1)).isoformat()
    validation = json.loads((binary.model_dir / "schema.json").read_text())["metrics"]["validation"]  # which model it was
    assert report["validation"] == {k: validation[k] for k in ("accuracy", "auc", "logloss")}
    assert report["model"].endswith("processing/input/model/model.tar.gz")
    page = (out / "monitor.html").read_text()
    assert sentence.replace("'", "&#x27;") in page and "No request was captured in this window" in page
    assert not (out / "figures").exists()

    lines = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith('{"releaseml_monitor"')]
    assert lines == [
        {
            "releaseml_monitor": "releaseml-endpoint",
            "window_start": QUIET_DAY.isoformat(),
            "window_end": (QUIET_DAY + timedelta(days=1)).isoformat(),
            "drifted_columns": 0,
            "requests": 0,
            "rows": 0,
            "refused": 0,
        }
    ]
    assert (root / "output" / "message").read_text() == sentence + "\n"
    assert f"Monitoring complete: {out}." in ran.stdout

    until = QUIET_DAY + timedelta(days=1)
    window_flags = ("--since", QUIET_DAY.isoformat(), "--until", until.isoformat())
    local = run_monitor("--captured", str(folder), "--ml-root", str(binary.root), *window_flags, cwd=tmp_path)
    assert local.returncode == 1 and "Traceback" not in local.stderr, local.stderr
    here = window.replace(f"{root}/processing/input/captured", str(folder))
    assert local.stderr.strip() == f"error: no captured requests {here}"


def test_the_image_entry_point_says_what_went_wrong_where_sagemaker_reads_it(traffic, binary, tmp_path):
    """A user's mistake: the reason in /opt/ml/output/message (the job's ExitMessage), exit code 1, no output."""
    import shutil

    folder, *_ = traffic

    def failed(root: Path, end: datetime, *fragments: str, **settings: str) -> None:
        ran = entry_point(root, end, **settings)
        message = (root / "output" / "message").read_text()
        assert ran.returncode == 1 and "Traceback" not in ran.stderr, ran.stderr
        assert message.startswith("Monitoring failed: ") and all(f in message for f in fragments), message
        output = root / "processing" / "output"
        assert not output.exists() or not any(output.iterdir())

    no_model = tmp_path / "no-model" / "processing" / "input" / "captured"
    shutil.copytree(folder, no_model)
    failed(tmp_path / "no-model", SHIFTED_DAY, "the `model` input", "must hold one model.tar.gz", "it holds nothing")
    failed(processing_root(tmp_path / "no-capture", binary), SHIFTED_DAY, "no folder at", "processing/input/captured")
    failed(
        processing_root(tmp_path / "window", binary, folder),
        SHIFTED_DAY,
        "RELEASEML_MONITOR_WINDOW 'weekly'",
        RELEASEML_MONITOR_WINDOW="weekly",
    )
