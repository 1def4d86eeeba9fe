"""One task collection, two front doors: the installed `releaseml` command and `invoke` in this repository.

Both must list the same tasks, explain each the same way and say the same thing for a mistake;
both must start at once (no CatBoost, pandas, boto3 or Docker SDK loaded to list or explain).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_task

RELEASEML = [sys.executable, "-m", "releaseml.cli"]
HEAVY = ("catboost", "pandas", "matplotlib", "boto3", "docker", "requests", "numpy")


def releaseml(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*RELEASEML, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def task_names(listing: str) -> list[str]:
    return re.findall(r"^  ([a-z][a-z-]+)\s", listing, flags=re.M)


def test_both_doors_list_the_same_tasks(tmp_path):
    by_releaseml, by_invoke = releaseml("--list", cwd=tmp_path), run_task("--list", cwd=tmp_path)
    assert by_releaseml.returncode == 0 and by_invoke.returncode == 0, by_releaseml.stderr + by_invoke.stderr
    names = task_names(by_releaseml.stdout)
    assert names == task_names(by_invoke.stdout)
    assert {"init", "train-local", "runs", "score", "serve-local", "predict", "report", "check-data", "demo", "deploy"} <= set(names)


@pytest.mark.parametrize(
    "task", ["init", "train-local", "runs", "score", "serve-local", "report", "check-data", "batch-predict", "endpoint"]
)
def test_both_doors_explain_a_task_the_same_way(tmp_path, task):
    by_releaseml, by_invoke = releaseml("--help", task, cwd=tmp_path), run_task("--help", task, cwd=tmp_path)
    assert by_releaseml.returncode == 0, by_releaseml.stderr
    body = by_releaseml.stdout.split("\n", 1)[1]  # all but the usage line, which names the binary
    assert body == by_invoke.stdout.split("\n", 1)[1] and by_releaseml.stdout.startswith(f"Usage: releaseml [--core-opts] {task}")


def test_both_doors_say_the_same_for_a_mistake(tmp_path):
    by_releaseml, by_invoke = releaseml("score", "x.csv", cwd=tmp_path), run_task("score", "x.csv", cwd=tmp_path)
    assert by_releaseml.returncode == by_invoke.returncode == 1
    assert by_releaseml.stderr == by_invoke.stderr and "releaseml init" in by_releaseml.stderr


def test_releaseml_alone_lists_the_tasks_and_says_how_to_start(tmp_path):
    result = releaseml(cwd=tmp_path)
    assert result.returncode == 0 and "train-local" in result.stdout
    assert result.stdout.strip().endswith("`releaseml init --data FILE --target COLUMN` makes one.")
    (tmp_path / "releaseml.yaml").write_text("target: y\n")
    assert "Config: " in releaseml(cwd=tmp_path / ".").stdout


def test_listing_and_help_load_nothing_heavy(tmp_path):
    probe = f"import sys; from releaseml.cli import collection; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_process_that_starts_a_training_loads_no_data_libraries(tmp_path):
    """train-local's own process lists and stages files and starts the training: pandas, numpy and
    CatBoost load only in the training process (they cost every run about 0.3 s twice)."""
    modules = "releaseml.local.runner, releaseml.local.staging, releaseml.data.data_paths"
    probe = f"import sys, {modules}; print(sorted(m for m in ('catboost', 'pandas', 'numpy', 'matplotlib') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


@pytest.mark.parametrize("words", [["score", "--help"], ["help", "score"], ["score", "data.csv", "-h"]])
def test_the_usual_ways_of_asking_for_help_work(tmp_path, words):
    """`releaseml score --help` once scored a file named `--help`."""
    result = releaseml(*words, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("Usage: releaseml [--core-opts] score"), result.stdout + result.stderr


@pytest.mark.parametrize(
    "words,message",
    [
        (["check"], "error: releaseml has no task 'check'; did you mean check-data? `releaseml --list` lists them."),
        (["trian-local"], "error: releaseml has no task 'trian-local'; did you mean train-local"),
        (["zzz"], "error: releaseml has no task 'zzz': `releaseml --list` lists them."),
        (
            ["train-local", "--verbse"],
            "error: train-local has no option '--verbse'; did you mean --verbose? `releaseml --help train-local`",
        ),
        (["score", "x.csv", "--outt", "y.csv"], "did you mean --out?"),
        (["score", "data.csv", "x.csv"], "error: 'x.csv' is neither a task nor the value of one of score's options"),
        (["--bogus"], "error: unknown option '--bogus': `releaseml --help` lists releaseml's own options."),
    ],
)
def test_an_unknown_task_or_option_is_named_with_the_nearest_one(tmp_path, words, message):
    """invoke's own words ("No idea what 'check' is!") said which word, not what to type instead."""
    result = releaseml(*words, cwd=tmp_path)
    assert result.returncode == 1 and message in result.stderr and "No idea" not in result.stderr, result.stderr
