"""Runs kept, not overwritten: the run store, `releaseml runs`, `--run`, and two trainings at once.

Tasks are run as a user runs them, through both doors: the installed `releaseml` command and, in
this repository, `invoke` (the same collection).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_task

REPO = Path(__file__).resolve().parents[1]
RELEASEML = [sys.executable, "-m", "releaseml.cli"]  # what the `releaseml` console script runs


def releaseml(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*RELEASEML, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def project(tmp_path, penguins) -> Path:
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: species\ndata: penguins.csv\ndrop: [year]\ncatboost: {iterations: 30}\n")
    return tmp_path


def test_each_training_is_a_new_run_and_the_list_says_what_changed(project):
    first = releaseml("train-local", "--engine", "process", cwd=project)
    assert first.returncode == 0, first.stderr
    (project / "releaseml.yaml").write_text("target: species\ndata: penguins.csv\ndrop: [year]\ncatboost: {iterations: 30, depth: 4}\n")
    second = run_task("train-local", "--engine", "process", "--json", cwd=project)  # the other door
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["run"]

    listed = json.loads(releaseml("runs", "--json", cwd=project).stdout)
    assert [run["status"] for run in listed] == ["succeeded", "succeeded"]
    assert listed[0]["model"] != listed[1]["model"] and all(Path(run["model"], "model.cbm").is_file() for run in listed)
    assert listed[0]["changes"] == ["first run"] and listed[1]["changes"] == ["catboost.depth (unset) -> 4"]
    assert listed[0]["data"]["sha256"] == listed[1]["data"]["sha256"]
    assert listed[1]["metrics"]["validation"]["logloss"] > 0 and listed[1]["rows"] == {"train": 275, "validation": 69}

    table = releaseml("runs", cwd=project).stdout
    assert f"latest: {listed[1]['id']}" in table and "catboost.depth (unset) -> 4" in table
    compared = releaseml("runs", "--compare", f"{listed[0]['id']},latest", cwd=project)
    assert compared.returncode == 0 and "catboost.depth" in compared.stdout and "validation:logloss" in compared.stdout

    report = releaseml("report", cwd=project)  # latest by default
    assert report.stdout.strip() == str((Path(listed[1]["model"]).parent / "output" / "data" / "report.html").resolve())
    older = releaseml("report", "--run", listed[0]["id"][:-2], cwd=project)  # a unique start of an id is enough
    assert older.stdout.strip() == str((Path(listed[0]["model"]).parent / "output" / "data" / "report.html").resolve())
    suffix = listed[0]["id"].rsplit("-", 1)[1]  # or its last part: a day's runs share their start
    by_end = releaseml("runs", "--compare", f"{suffix},latest", cwd=project)
    assert by_end.returncode == 0 and listed[0]["id"] in by_end.stdout, by_end.stdout + by_end.stderr


def test_a_failed_run_is_kept_marked_failed_and_never_latest(project):
    assert releaseml("train-local", "--engine", "process", cwd=project).returncode == 0
    (project / "releaseml.yaml").write_text("target: species\ndata: penguins.csv\ncatboost: {max_leaves: 8}\n")  # CatBoost refuses it
    failed = releaseml("train-local", "--engine", "process", cwd=project)
    assert failed.returncode == 1 and "lossguide" in failed.stderr.lower()
    listed = json.loads(releaseml("runs", "--json", cwd=project).stdout)
    assert [run["status"] for run in listed] == ["succeeded", "failed"] and "lossguide" in listed[1]["failure"].lower()
    served = releaseml("report", cwd=project)
    assert listed[0]["id"] in served.stdout


def test_run_mistakes_are_one_line_each(project):
    nothing = releaseml("serve-local", cwd=project)
    assert nothing.returncode == 1 and "no trained model yet in this project: train one with `releaseml train-local`" in nothing.stderr
    assert releaseml("train-local", "--engine", "process", cwd=project).returncode == 0
    (run_id,) = [run["id"] for run in json.loads(releaseml("runs", "--json", cwd=project).stdout)]
    unknown = releaseml("serve-local", "--run", "nope", cwd=project)
    assert unknown.returncode == 1 and "no run 'nope'" in unknown.stderr and run_id in unknown.stderr
    both = releaseml("serve-local", "--run", run_id, "--ml-root", "x", cwd=project)
    assert both.returncode == 1 and "give --run or --ml-root, not both" in both.stderr
    compare = releaseml("runs", "--compare", run_id, cwd=project)
    assert compare.returncode == 1 and "--compare takes two run ids" in compare.stderr
    for result in (unknown, both, compare):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_two_trainings_at_once_in_one_project_keep_both_runs_whole(project):
    """Each run has its own folder and run.json; `latest` is worked out, never written, so it cannot be corrupted."""
    children = [subprocess.Popen([*RELEASEML, "train-local", "--engine", "process", "--quiet"], cwd=project) for _ in range(2)]
    assert [child.wait(timeout=300) for child in children] == [0, 0]
    listed = json.loads(releaseml("runs", "--json", cwd=project).stdout)
    assert len({run["id"] for run in listed}) == 2 and [run["status"] for run in listed] == ["succeeded", "succeeded"]
    for run in listed:
        assert Path(run["model"], "model.cbm").is_file() and Path(run["report"]).is_file()
    assert releaseml("report", cwd=project).stdout.strip().startswith(str(Path(listed[-1]["report"]).resolve().parents[2]))


def test_the_config_is_found_in_the_nearest_folder_above(project):
    below = project / "notebooks" / "deep"
    below.mkdir(parents=True)
    trained = releaseml("train-local", "--engine", "process", cwd=below)
    assert trained.returncode == 0, trained.stderr
    assert f"Config: {project / 'releaseml.yaml'}" in trained.stdout
    assert (project / ".releaseml" / "runs").is_dir() and not (below / ".releaseml").exists()


def test_ml_root_keeps_working_as_before(project):
    trained = releaseml("train-local", "--engine", "process", "--ml-root", "opt_ml", cwd=project)
    assert trained.returncode == 0, trained.stderr
    assert (project / "opt_ml" / "model" / "model.cbm").is_file() and not (project / ".releaseml").exists()
    assert "`releaseml report --open --ml-root opt_ml` shows it" in trained.stdout
