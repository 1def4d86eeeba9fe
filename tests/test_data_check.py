"""`releaseml check-data`: scoring data against the model and its training profile, run as a user runs it.

Files made from the demo data: an unshifted sample (no errors, every PSI below 0.1), one with a
shifted number column and a new category (warnings that name exactly those columns), one with
text in a number column (an error naming exactly it). An old model without a profile still gets
its schema checked. The check page loads in headless Chromium like the training report.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import run_task, train_model
from releaseml.common.layout import PROFILE_FILE
from releaseml.data import profile
from releaseml.data.schema import model_frame

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, penguins):
    root = tmp_path_factory.mktemp("species")
    return train_model(root, {"target": "species", "catboost": {"iterations": 30}}, penguins)


def scoring(penguins: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    return penguins[FEATURES].sample(frac=0.5, random_state=seed).reset_index(drop=True)


def write(directory, name: str, frame: pd.DataFrame):
    path = directory / name
    frame.to_csv(path, header=False, index=False)
    return path


def check(trained, path, *args):
    result = run_task("check-data", str(path), "--ml-root", str(trained.root), "--json", *args, cwd=path.parent)
    assert "Traceback" not in result.stderr
    return result, json.loads(result.stdout) if result.stdout.strip().startswith("{") else None


def test_the_profile_is_small_and_describes_the_training_data(trained, penguins):
    saved = json.loads((trained.model_dir / PROFILE_FILE).read_text())
    assert set(saved["features"]) == set(FEATURES) and (trained.model_dir / PROFILE_FILE).stat().st_size < 1500 * len(FEATURES)
    for name, feature in saved["features"].items():
        shares = profile.training_shares(feature)
        assert shares.sum() == pytest.approx(1.0, abs=1e-4)
        assert feature["missing"] == pytest.approx(penguins[name].isna().mean(), abs=1e-6)
    assert saved["features"]["island"]["categories"] == pytest.approx(penguins["island"].value_counts(normalize=True).to_dict(), abs=1e-6)


def test_an_unshifted_sample_is_stable_and_has_no_errors(trained, penguins, tmp_path):
    result, report = check(trained, write(tmp_path, "sample.csv", scoring(penguins)))
    assert result.returncode == 0, result.stderr
    assert report["errors"] == [] and report["warnings"] == [] and report["rows"] == len(penguins) // 2
    assert all(column["psi"] < 0.1 for column in report["columns"]), report["columns"]
    assert "look like its training data" in report["summary"]


def test_a_shifted_column_and_a_new_category_are_named_exactly(trained, penguins, tmp_path):
    frame = scoring(penguins)
    frame["body_mass_g"] = frame["body_mass_g"] * 1.4
    frame.loc[frame.index % 3 == 0, "island"] = "Atlantis"
    result, report = check(trained, write(tmp_path, "shifted.csv", frame))
    assert result.returncode == 0 and report["errors"] == []
    assert {warning.split(":")[0] for warning in report["warnings"]} == {"body_mass_g", "island"}
    by_name = {column["name"]: column for column in report["columns"]}
    assert by_name["body_mass_g"]["drift"] == "large" and by_name["island"]["unseen_examples"] == ["Atlantis"]
    assert by_name["island"]["unseen_share"] == pytest.approx((frame.index % 3 == 0).mean())
    assert [c["name"] for c in report["columns"]][:2] == sorted(["body_mass_g", "island"], key=lambda n: -by_name[n]["psi"])
    stable = [c for c in report["columns"] if c["name"] not in ("body_mass_g", "island")]
    assert all(c["psi"] < 0.1 for c in stable)
    strict, _ = check(trained, tmp_path / "shifted.csv", "--strict")
    assert strict.returncode == 1
    page = (tmp_path / "check" / "check.html").read_text()
    assert "body_mass_g: large drift" in page and page.count("data:image/png;base64,") == 2


def test_text_in_a_number_column_is_an_error_in_the_servers_words(trained, penguins, tmp_path):
    frame = scoring(penguins)
    frame["flipper_length_mm"] = "long"
    frame["body_mass_g"] = frame["body_mass_g"] * 1.4
    result, report = check(trained, write(tmp_path, "text.csv", frame))
    assert result.returncode == 1
    (error,) = report["errors"]
    assert "column 'flipper_length_mm': 'long' is not a number" in error and "row 1" in error
    narrow = write(tmp_path, "narrow.csv", scoring(penguins).iloc[:, :-1])
    plain = run_task("check-data", str(narrow), "--ml-root", str(trained.root), cwd=tmp_path)
    assert plain.returncode == 1 and "row 1 has 6 value(s) but 7 are expected" in plain.stdout, plain.stdout


def test_psi_is_the_textbook_formula():
    expected, actual = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2])
    assert profile.psi(expected, actual) == pytest.approx((0.4 - 0.5) * np.log(0.4 / 0.5) + (0.4 - 0.3) * np.log(0.4 / 0.3))
    assert profile.psi(expected, expected) == 0.0
    assert [profile.reading(x) for x in (0.05, 0.2, 0.3)] == ["stable", "moderate", "large"]


def test_an_old_model_without_a_profile_still_gets_its_schema_checked(trained, penguins, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(trained.root, old)
    (old / "model" / PROFILE_FILE).unlink()
    fine = write(tmp_path, "fine.csv", scoring(penguins))
    result = run_task("check-data", str(fine), "--ml-root", str(old), cwd=tmp_path)
    assert result.returncode == 0 and "drift not checked (the model has no training profile: train it again)" in result.stdout
    frame = scoring(penguins)
    frame["year"] = "recent"
    bad = run_task("check-data", str(write(tmp_path, "bad.csv", frame)), "--ml-root", str(old), cwd=tmp_path)
    assert bad.returncode == 1 and "column 'year'" in bad.stdout


def test_check_data_mistakes(trained, tmp_path):
    missing = run_task("check-data", "nowhere.csv", "--ml-root", str(trained.root), cwd=tmp_path)
    assert missing.returncode == 1 and "no data to check at 'nowhere.csv'" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run_task("check-data", "empty", "--ml-root", str(trained.root), cwd=tmp_path)
    assert empty.returncode == 1 and "holds no .csv, .json, .jsonl or .parquet files to check" in empty.stderr
    untrained = run_task("check-data", "nowhere.csv", "--ml-root", str(tmp_path / "none"), cwd=tmp_path)
    assert untrained.returncode == 1 and "Traceback" not in untrained.stderr


def test_json_lines_are_checked_like_csv(trained, penguins, tmp_path):
    frame = scoring(penguins)
    typed_ok = model_frame(frame, __import__("releaseml.model.bundle", fromlist=["load"]).load(trained.model_dir).schema)
    assert len(typed_ok) == len(frame)
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in json.loads(frame.to_json(orient="records"))))
    result, report = check(trained, path)
    assert result.returncode == 0 and report["rows"] == len(frame) and report["errors"] == []
