"""The report as an analyst reads it: figures that point one way, the positive class named, imbalance
said plainly, the rows the model saw, the limits, readable numbers and a glossary.

Models are trained on generated data whose answer is known (the chance of "yes" rises with x), and
every figure is kept as matplotlib drew it (`figures.save` is wrapped), so the tests read the data
plotted, not pixels; the page itself is read in headless Chromium.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from helpers import train_model
from releaseml.report import REPORT_FILE, figures, findings
from test_report_in_a_browser import browser  # noqa: F401 (the fixture)


def rising(rows: int = 600, seed: int = 5) -> pd.DataFrame:
    """'yes' when x + noise > 0: the chance of 'yes' rises with x. Also a money column and a column that never changes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1.5, rows)
    income = rng.uniform(10_000, 95_000, rows).round(-1)
    noise = rng.normal(0, 0.8, rows) + (income - 50_000) / 60_000
    return pd.DataFrame({"x": x.round(3), "income": income, "country": "NL", "answer": np.where(x + noise > 0, "yes", "no")})


def rare(rows: int = 3000, seed: int = 11) -> pd.DataFrame:
    """3% 'yes', hard to tell apart: accuracy looks good while most of 'yes' is missed."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(0, 1, rows), rng.normal(0, 1, rows)
    score = x + 0.5 * z + rng.normal(0, 1.2, rows)
    return pd.DataFrame({"x": x.round(3), "z": z.round(3), "answer": np.where(score > np.quantile(score, 0.97), "yes", "no")})


def prices(rows: int = 800, seed: int = 2) -> pd.DataFrame:
    """A regression on money: every axis of its figures holds tens or hundreds of thousands."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(30, 250, rows).round()
    income = rng.uniform(20_000, 90_000, rows).round(-2)
    return pd.DataFrame({"area": area, "income": income, "price": (area * 1_800 + income * 0.9 + rng.normal(0, 15_000, rows)).round(-2)})


CASES = {
    "rising": ({"target": "answer", "catboost": {"iterations": 200}}, rising),
    "rising-folds": ({"target": "answer", "folds": 3, "catboost": {"iterations": 100}}, rising),
    "rare": ({"target": "answer", "catboost": {"iterations": 200}}, rare),
    "prices": ({"target": "price", "catboost": {"iterations": 200}}, prices),
    "species": ({"target": "species", "catboost": {"iterations": 150}}, None),
}


@pytest.fixture(scope="module")
def drawn():
    """Every figure drawn while this module's models train, by PNG path: the matplotlib Figure itself, closed but whole."""
    kept: dict[Path, object] = {}
    save = figures.save

    def keep(figure, path):
        kept[Path(path)] = figure
        return save(figure, path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figures, "save", keep)
        yield kept


@pytest.fixture(scope="module")
def runs(drawn, tmp_path_factory, penguins):
    return {
        name: train_model(tmp_path_factory.mktemp(name), config, penguins if make is None else make())
        for name, (config, make) in CASES.items()
    }


def figure_of(drawn, paths, stem: str):
    [figure] = [f for path, f in drawn.items() if path.stem == stem and path.is_relative_to(paths.output_data_dir)]
    return figure


def scatter(axes) -> tuple[np.ndarray, np.ndarray]:
    [points] = axes.collections
    offsets = np.asarray(points.get_offsets())
    return offsets[:, 0], offsets[:, 1]


def test_contributions_point_toward_the_positive_class_and_rise_with_x(drawn, runs):
    figure = figure_of(drawn, runs["rising"], "dependence")
    [axes] = [a for a in figure.axes if a.get_xlabel() == "x"]
    x, contribution = scatter(axes)
    assert contribution[x < -1].mean() < 0 < contribution[x > 1].mean()
    assert (contribution[x < -1.5] < 0).mean() > 0.9 and (contribution[x > 1.5] > 0).mean() > 0.9  # no mirrored half
    assert np.corrcoef(pd.Series(x).rank(), pd.Series(contribution).rank())[0, 1] > 0.8
    assert "'yes'" in axes.get_title() and "'yes'" in figure.get_suptitle()


def test_a_multiclass_model_gets_a_row_of_panels_per_class(drawn, runs):
    figure = figure_of(drawn, runs["species"], "dependence")
    shown = [a for a in figure.axes if a.get_visible()]
    titles = [a.get_title() for a in shown]
    for name in ("Adelie", "Chinstrap", "Gentoo"):
        assert sum(f"toward '{name}'" in title for title in titles) == len(shown) // 3
    [gentoo] = [a for a in shown if a.get_title() == "flipper_length_mm, toward 'Gentoo'"]
    flipper, contribution = scatter(gentoo)
    assert contribution[flipper >= 210].mean() > 0 > contribution[flipper < 200].mean()  # long flippers: a Gentoo


def test_the_confusion_matrix_is_coloured_by_the_share_of_each_true_class(drawn, runs):
    axes = figure_of(drawn, runs["rare"], "confusion_matrix").axes[0]
    [image] = axes.images
    shares = np.asarray(image.get_array())
    counts = np.zeros(shares.shape, dtype=int)
    for text in axes.texts:
        row, column = (round(v) for v in reversed(text.get_position()))
        counts[row, column] = int(text.get_text().split("\n")[0].replace(",", ""))
    assert np.allclose(shares, counts / counts.sum(axis=1, keepdims=True))
    assert image.norm.vmin == 0 and image.norm.vmax == 1
    missed = shares[1, 0]  # true 'yes' (the positive class: the second row), predicted 'no'
    assert missed > 0.5  # most of the rare 'yes' missed: coloured as the larger share of its row, however few its rows


def visible_tick_labels(axes, axis):
    low, high = sorted(axes.get_xlim() if axis == "x" else axes.get_ylim())
    ticks = axes.xaxis if axis == "x" else axes.yaxis
    return [
        label
        for location, label in zip(ticks.get_majorticklocs(), ticks.get_ticklabels())
        if low <= location <= high and label.get_text() and label.get_visible()
    ]


@pytest.mark.parametrize("case", ["rising", "prices", "rare"])
def test_tick_labels_are_short_and_never_run_together(drawn, runs, case):
    out = runs[case].output_data_dir
    checked = 0
    for path, figure in drawn.items():
        if not path.is_relative_to(out):
            continue
        canvas = FigureCanvasAgg(figure)  # closed figures lose theirs
        canvas.draw()
        renderer = canvas.get_renderer()
        for axes in (a for a in figure.axes if a.get_visible()):
            for axis in "xy":
                labels = visible_tick_labels(axes, axis)
                for label in labels:
                    assert not re.search(r"\d{5}", label.get_text()), (path.name, label.get_text())
                flat = sorted(
                    (label.get_window_extent(renderer) for label in labels if label.get_rotation() == 0), key=lambda b: (b.x0, b.y0)
                )
                assert not any(a.overlaps(b) for a, b in zip(flat, flat[1:])), (path.name, [label.get_text() for label in labels])
                checked += len(labels)
    assert checked > 50


def test_short_numbers():
    assert [figures.short_number(v) for v in (0, 0.25, 2_500, 10_000, 15_000, 400_000, 1_200_000, -60_000, 3e9)] == [
        "0",
        "0.25",
        "2,500",
        "10k",
        "15k",
        "400k",
        "1.2M",
        "-60k",
        "3B",
    ]
    assert [findings.number(v) for v in (12_345.6, 0.074361, 344.5, 1_341_000.0, 0.0)] == ["12,350", "0.07436", "344.5", "1,341,000", "0"]


def test_validation_above_training_is_explained_not_hidden():
    from releaseml.data.schema import Schema
    from releaseml.training.evaluation import Scored

    schema = Schema(target="y", task="regression", features=["a"], kinds={"a": "numeric"})
    frame = pd.DataFrame({"a": np.arange(2000.0), "y": np.arange(2000.0)})
    scored = Scored(truth=np.zeros(2), predicted=np.zeros(2))

    def said(train: float, valid: float) -> str:
        return " ".join(findings.limits(frame, schema, {"train": {"r2": train}, "validation": {"r2": valid}}, scored, {}, 10, 100))

    assert "Validation scores beat training scores (r2 0.880 on validation rows, 0.800 on training rows)" in said(0.80, 0.88)
    assert "not a bug" in said(0.80, 0.88) and "regularisation" in said(0.80, 0.88)
    assert "beat training" not in said(0.80, 0.81)


# The page, in the browser.


def open_report(driver, paths):
    driver.get((paths.output_data_dir / REPORT_FILE).as_uri())
    return driver


def text_of(driver, css: str) -> str:
    return driver.find_element("css selector", css).text


def caption(driver, title: str) -> str:
    [found] = [f for f in driver.find_elements("css selector", "figure") if f.find_element("css selector", "h3").text.startswith(title)]
    return found.find_element("css selector", "figcaption").text


def metrics_of(paths) -> dict:
    return json.loads((paths.output_data_dir / "metrics.json").read_text())


def card(driver, key: str) -> str:
    rows = driver.find_elements("css selector", "table tr")
    [value] = [r.find_element("css selector", "td").text for r in rows if r.find_elements("css selector", "th") and r.text.startswith(key)]
    return value


def test_the_page_names_the_positive_class_and_each_directed_figure_names_its_class(browser, runs):  # noqa: F811
    page = open_report(browser, runs["rising"])
    assert "f1, precision and recall are about 'yes'" in page.find_element("xpath", "//h2[.='Scores']/following-sibling::p").text
    assert "the log-odds of 'yes'" in caption(page, "How the strongest columns move the odds of 'yes'")
    assert "the log-odds of 'yes'" in caption(page, "What moves the predictions")
    assert "'yes' rows" in caption(page, "ROC curve") and "'yes' rows" in caption(page, "Precision-recall")
    species = open_report(browser, runs["species"])
    moving = caption(species, "How the strongest columns move each class")
    assert all(f"'{name}'" in moving for name in ("Adelie", "Chinstrap", "Gentoo")) and "log-odds of that panel's class" in moving


def test_a_rare_positive_class_is_said_plainly(browser, runs):  # noqa: F811
    paths = runs["rare"]
    page = open_report(browser, paths)
    headline, metrics = text_of(page, "p.headline"), metrics_of(paths)["validation"]
    assert re.search(r"always answering the most common class, 'no', would be right 9[67]\.\d% of the time", headline), headline
    caught = re.search(r"It catches (\d+)% of 'yes' \((\d+) of (\d+) validation rows\) at the usual 0\.5 threshold", headline)
    assert caught, headline
    assert int(caught[2]) / int(caught[3]) == pytest.approx(metrics["recall"], abs=1e-9) and f"{caught[1]}%" == f"{metrics['recall']:.0%}"
    assert f"AUC of {metrics['auc']:.3f} (0.5 would be guessing)" in headline
    assert re.search(r"logloss is [0-9.]+ against [0-9.]+ for always predicting the 3\.\d% share of 'yes' \(\d+% lower\)", headline), (
        headline
    )
    limits = text_of(page, "ul.limits")
    assert "Rare positive class: answer = 'yes' is only 3.0% of rows" in limits and f"catches {caught[1]}% of 'yes'" in limits
    assert "Class imbalance: answer = yes" not in limits  # said once, in full


def test_the_model_card_says_which_rows_the_model_learnt_from(browser, runs):  # noqa: F811
    held_out = json.loads((runs["rising"].model_dir / "schema.json").read_text())["rows"]
    trained = card(open_report(browser, runs["rising"]), "Trained on")
    assert trained.startswith(
        f"the {held_out['train']:,} training rows from training/data.csv; the {held_out['validation']:,} validation rows were held out"
    )
    assert held_out["train"] + held_out["validation"] == 600
    folds = open_report(browser, runs["rising-folds"])
    assert card(folds, "Trained on").startswith("all 600 rows from training/data.csv")
    assert (
        "600 rows, each validated once by 3-fold cross-validation"
        in folds.find_element("xpath", "//h2[.='Data']/following-sibling::p").text
    )


def test_known_limits_name_a_column_that_never_changes(browser, runs):  # noqa: F811
    limits = text_of(open_report(browser, runs["rising"]), "ul.limits")
    assert "country has one value in every row (NL): it cannot help the model" in limits


def test_the_two_importance_rankings_say_why_they_can_differ(browser, runs):  # noqa: F811
    page = open_report(browser, runs["rising"])
    assert "training rows" in caption(page, "Feature importance") and "PredictionValuesChange" in caption(page, "Feature importance")
    assert "The order can differ from Feature importance above" in caption(page, "What moves the predictions")


@pytest.mark.parametrize("case", ["rising", "prices", "species"])
def test_terms_link_to_a_glossary_and_the_parameter_dump_is_folded(browser, runs, case):  # noqa: F811
    page = open_report(browser, runs[case])
    assert page.execute_script("return document.scripts.length") == 0
    assert page.execute_script("return performance.getEntriesByType('resource').length") == 0  # nothing fetched
    ids = set(page.execute_script("return Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
    assert {f"term-{t}" for t in ("logloss", "auc", "psi", "shap", "log-odds", "f1", "precision", "recall", "rmse", "mae", "r2")} <= ids
    links = page.execute_script("return Array.from(document.querySelectorAll('a')).map(a => [a.getAttribute('href'), a.textContent])")
    assert links and all(href.startswith("#") and href[1:] in ids for href, _ in links), links
    table = page.find_element("xpath", "//h2[.='Scores']/following-sibling::table")
    named = {a.text for a in table.find_elements("css selector", "th a")}
    assert named == set(metrics_of(runs[case])["validation"]) - {"accuracy"}
    expected = {"SHAP"} if case == "prices" else {"SHAP", "log-odds"}
    assert expected <= {a.text for a in page.find_elements("css selector", "figcaption a")}
    dump = page.find_element("xpath", "//details[summary='CatBoost parameters']//pre")
    assert not dump.is_displayed()
    page.find_element("xpath", "//details/summary[.='CatBoost parameters']").click()
    assert dump.is_displayed() and '"iterations"' in dump.text


def test_four_digit_numbers_such_as_years_go_without_a_separator():
    """The demo's Data table once read "2,007 to 2,009, median 2,008"."""
    assert [findings.number(v) for v in (2007.0, 9999.0, 10_000.0, -2500.0)] == ["2007", "9999", "10,000", "-2500"]


def test_the_learning_curve_names_the_loss_as_the_scores_table_does():
    """The demo's learning curve once said MultiClass while the table said logloss."""
    from releaseml.report import training_report

    assert training_report._our_name("MultiClass", "multiclass") == "logloss"
    assert training_report._our_name("Logloss", "binary") == "logloss" and training_report._our_name("RMSE", "regression") == "rmse"
