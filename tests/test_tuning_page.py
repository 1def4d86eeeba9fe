"""The tuning page as an analyst reads it: the values trial 0 really used, axes that keep proportions (log
where the range is), and one sentence on whether the best trial beats the config as it is by more than chance.

One real study on the demo penguins (in this process, so that the page builder's account of what it drew can
be read), checked against numbers the test computes itself; then the page in headless chromium.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import shutil
from pathlib import Path

import pytest

from releaseml.common.layout import MLPaths
from releaseml.config import config_file
from releaseml.local import tuning
from releaseml.report import tuning_page
from releaseml.training import fitting
from test_report_in_a_browser import browser  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
CONFIG = """target: species
data: penguins.csv
seed: 3
catboost: {iterations: 40, depth: 4}
tune:
  trials: 6
  ranges:
    catboost.depth: {min: 2, max: 6}
    catboost.learning_rate: {min: 0.02, max: 0.5, scale: log}
    catboost.l2_leaf_reg: {min: 0.5, max: 20, scale: log}
    catboost.grow_policy: [SymmetricTree, Depthwise]
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A real tuning run: the outcome, the log it printed, its page's HTML and the config."""
    folder = tmp_path_factory.mktemp("tuning-page")
    shutil.copy(REPO / "data" / "penguins.csv", folder / "penguins.csv")
    (folder / "releaseml.yaml").write_text(CONFIG)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        outcome = tuning.run(folder / "releaseml.yaml", ml_root=folder / "ml", engine="process")
    config = config_file.load(folder / "releaseml.yaml")
    return outcome, log.getvalue(), outcome.page.read_text(encoding="utf-8"), config


def cells_of_trial(page: str, number: int) -> list[str]:
    row = re.search(rf"<tr(?: class='best')?><td class='number'>{number}</td>(.*?)</tr>", page).group(1)
    return [html.unescape(re.sub("<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_trial_0_shows_the_values_it_used_not_dashes(study):
    outcome, _, page, config = study
    state, depth, learning_rate, l2_leaf_reg, grow_policy, *_ = cells_of_trial(page, 0)
    # depth from the config; l2_leaf_reg and grow_policy are CatBoost's defaults
    assert (state, depth, l2_leaf_reg, grow_policy) == ("complete", "4", "3 default", "SymmetricTree default")
    chosen = float(re.fullmatch(r"auto \((.+)\)", learning_rate).group(1))
    # the learning rate CatBoost chooses for these rows and settings, asked of a model trained here
    prepared = tuning._prepare(MLPaths(outcome.training.model_dir.parent), config)
    params = {**fitting.catboost_params(config, prepared.schema), "verbose": False}
    with contextlib.redirect_stdout(io.StringIO()):
        model = fitting.fit(prepared.train, prepared.valid, prepared.schema, params).model
    assert chosen == pytest.approx(model.learning_rate_, rel=1e-5)


def test_each_range_is_drawn_on_its_own_scale_and_the_objective_from_a_perfect_score(study):
    outcome, _, _, _ = study
    shown, trial_0 = outcome.shown, outcome.trials[0]
    assert shown.x_scales == {
        "catboost.depth": "linear",
        "catboost.learning_rate": "log",
        "catboost.l2_leaf_reg": "log",
        "catboost.grow_policy": "categorical",
    }
    assert shown.by_trial_y_scale == "linear" and shown.scale.limits[0] == 0.0  # logloss: 0 is perfect, heights in proportion
    assert "lower is better" in shown.scale.label
    assert shown.scale.reference == trial_0["value"]
    spread = outcome.noise["spread"]
    assert shown.scale.band == pytest.approx((trial_0["value"] - spread, trial_0["value"] + spread))


def test_the_noise_is_the_config_retrained_with_other_seeds_on_the_same_split(study):
    outcome, log, _, config = study
    noise = outcome.noise
    assert noise["kind"] == "seeds" and noise["seeds"] == [3, 4, 5]
    assert noise["values"][0] == outcome.trials[0]["value"]
    assert noise["spread"] == pytest.approx(max(noise["values"]) - min(noise["values"]))
    prepared = tuning._prepare(MLPaths(outcome.training.model_dir.parent), config)
    params = {**fitting.catboost_params(config.model_copy(update={"seed": 5}), prepared.schema), "verbose": False}
    with contextlib.redirect_stdout(io.StringIO()):
        again = fitting.fit(prepared.train, prepared.valid, prepared.schema, params).metrics["validation"]["logloss"]
    assert noise["values"][2] == pytest.approx(again, rel=1e-9)
    assert "Noise: the config as it is with seeds 3, 4, 5 on the same split" in log


def test_the_sentence_on_noise_agrees_with_the_numbers(study):
    outcome, log, page, _ = study
    first, best, spread = outcome.trials[0]["value"], outcome.best["value"], outcome.noise["spread"]
    gain = first - best  # logloss: lower is better
    if outcome.best["trial"] == 0:
        expected = "Tuning found nothing better than the config as it is"
    else:
        expected = "Tuning helped: " if gain > spread else "The best trial is within the noise: "
        assert f"{gain:.2g} better" in outcome.shown.verdict
    assert outcome.shown.verdict.startswith(expected)
    assert f"{spread:.2g}" in outcome.shown.verdict
    assert html.escape(outcome.shown.verdict) in page
    assert outcome.shown.verdict in log


@pytest.mark.parametrize(
    "direction,values,noise,expected",
    [
        ("minimize", [0.095, 0.081], 0.004, "Tuning helped: logloss 0.081 (trial 1) against 0.095 for the config as it is, 0.014 better"),
        ("minimize", [0.095, 0.093], 0.004, "The best trial is within the noise: logloss 0.093 (trial 1) against 0.095"),
        ("maximize", [0.80, 0.86], 0.01, "Tuning helped: r2 0.86 (trial 1) against 0.8 for the config as it is, 0.06 better"),
        ("maximize", [0.80, 0.805], 0.01, "The best trial is within the noise: r2 0.805"),
        ("minimize", [0.095, 0.081], None, "Noise not estimated"),
    ],
    ids=["loss-helped", "loss-within", "score-helped", "score-within", "no-noise"],
)
def test_the_verdict_compares_the_gain_with_the_noise_in_the_objectives_direction(direction, values, noise, expected):
    objective = "validation:logloss" if direction == "minimize" else "validation:r2"
    trials = [{"trial": n, "state": "complete", "values": {}, "value": v, "seconds": 0.1} for n, v in enumerate(values)]
    measured = {"kind": "seeds", "spread": noise, "seeds": [1, 2, 3], "values": []} if noise is not None else None
    assert tuning_page.verdict(objective, direction, trials, 1, measured).startswith(expected)


def test_the_tuning_page_loads_in_a_browser_without_errors(browser, study):  # noqa: F811 (the fixture)
    outcome, _, _, _ = study
    browser.get(outcome.page.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    images = browser.execute_script("return Array.from(document.images).map(i => ({complete: i.complete, width: i.naturalWidth}))")
    assert len(images) == 2 and all(i["complete"] and i["width"] > 300 for i in images), images
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    assert browser.find_element("css selector", "p.verdict").text == outcome.shown.verdict
