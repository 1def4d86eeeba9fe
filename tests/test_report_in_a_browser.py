"""The report in a real headless browser (Debian's chromium, driven by Selenium through chromedriver).

It must load with no console errors and show every figure (each image decoded, with a size on
the page); a full-page screenshot of each report is saved (RELEASEML_SCREENSHOTS=DIR keeps them)
and checked not to be blank.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from releaseml.report import REPORT_FILE
from test_report import EXPECTED_FIGURES

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(
            f"the report test needs {' and '.join(missing)}: apt-get install chromium chromium-driver (.ci/run does)", pytrace=False
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1100,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


@pytest.mark.parametrize("case", EXPECTED_FIGURES)
def test_the_report_loads_without_errors_and_shows_every_figure(browser, trained_reports, case, tmp_path):
    browser.get((trained_reports[case].output_data_dir / REPORT_FILE).as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    images = browser.execute_script(
        "return Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth, shown: i.getBoundingClientRect().width}))"
    )
    assert len(images) == len(EXPECTED_FIGURES[case])
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["shown"] > 300, image
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []

    shot = _full_page_screenshot(browser)
    keep = Path(os.environ.get("RELEASEML_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    (keep / f"report-{case}.png").write_bytes(shot)
    _assert_not_blank(keep / f"report-{case}.png")


def test_the_data_check_page_loads_without_errors_and_shows_each_drifted_column(browser, trained_reports, penguins, tmp_path):
    from releaseml.checking import data_check
    from releaseml.report import check_page

    paths = trained_reports["demo-species"]
    frame = penguins.drop(columns=["species"]).sample(frac=0.5, random_state=1)
    frame["body_mass_g"] = frame["body_mass_g"] * 1.4
    frame["island"] = frame["island"].where(frame.index % 3 != 0, "Atlantis")
    scoring = tmp_path / "scoring.csv"
    frame.to_csv(scoring, header=False, index=False)
    page = check_page.write(tmp_path / "check", data_check.check(scoring, paths.model_dir))
    browser.get(page.as_uri())
    images = browser.execute_script("return Array.from(document.images).map(i => ({complete: i.complete, width: i.naturalWidth}))")
    assert len(images) == 2 and all(i["complete"] and i["width"] > 300 for i in images), images
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    assert "body_mass_g" in browser.find_element("css selector", "p.headline").text


def _full_page_screenshot(driver) -> bytes:
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    return base64.b64decode(
        driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})["data"]
    )


def _assert_not_blank(path: Path) -> None:
    import matplotlib.image

    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 2000  # the whole page, not one screen
    ink = (pixels[..., :3].mean(axis=2) < 0.9).mean()
    assert ink > 0.03, f"the screenshot is nearly blank ({ink:.1%} ink)"
