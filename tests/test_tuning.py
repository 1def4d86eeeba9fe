"""`releaseml tune --local`: Optuna searches the `tune:` ranges on this machine, as a user runs it.

Each test runs the task (a real Optuna study, real CatBoost trials, the best trained into a real ML
root with its report) on the demo penguins, and reads what the user reads: the JSON summary,
metrics.json, the tuning page, the messages of mistakes.
"""

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from helpers import run_task

REPO = Path(__file__).resolve().parents[1]
RANGES = """
tune:
  trials: {trials}
  parallel: {parallel}
  {objective}
  ranges:
    catboost.depth: {{min: 2, max: 8}}
    catboost.learning_rate: {{min: 0.02, max: 0.5, scale: log}}
    catboost.l2_leaf_reg: {{min: 0.5, max: 20, scale: log}}
    catboost.grow_policy: [SymmetricTree, Depthwise]
"""


def project(tmp_path: Path, head: str, trials=20, parallel=1, objective="") -> Path:
    shutil.copy(REPO / "data" / "penguins.csv", tmp_path / "penguins.csv")
    tune = RANGES.format(trials=trials, parallel=parallel, objective=f"objective: {objective}" if objective else "")
    (tmp_path / "releaseml.yaml").write_text(f"{head}\ndata: penguins.csv\nseed: 3\n{tune}")
    return tmp_path


def tuned(folder: Path) -> dict:
    result = run_task("tune", "--local", "--ml-root", "ml", "--engine", "process", "--json", cwd=folder, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "head,objective,better",
    [
        ("target: species\ncatboost: {iterations: 60}", "", min),
        ("target: body_mass_g\ndrop: [year]\ncatboost: {iterations: 60}", "validation:r2", max),
    ],
    ids=["classification-logloss", "regression-r2"],
)
def test_twenty_trials_end_at_least_as_good_as_the_defaults_and_the_page_lists_every_trial(tmp_path, head, objective, better):
    summary = tuned(project(tmp_path, head, objective=objective))
    trials = summary["trials"]
    assert len(trials) == 20 and [t["trial"] for t in trials] == list(range(20))
    assert trials[0]["values"] == {} and trials[0]["state"] == "complete"  # the config as it is, first
    assert {t["state"] for t in trials} <= {"complete", "pruned", "fail"}
    done = [t for t in trials if t["state"] == "complete"]
    assert summary["best"]["value"] == better(t["value"] for t in done)
    assert better(summary["best"]["value"], summary["defaults"]) == summary["best"]["value"]  # never worse than not tuning
    metric = summary["objective"].split(":")[1]
    assert summary["objective"] == (objective or "validation:logloss")
    trained = json.loads((tmp_path / "ml" / "output" / "data" / "metrics.json").read_text())
    assert trained["validation"][metric] == pytest.approx(summary["best"]["value"], rel=1e-9)  # the best trial's values, retrained
    best_config = (tmp_path / "ml" / "tuning" / "best.yaml").read_text()
    for key, value in summary["best"]["values"].items():
        assert f"{key.split('.')[1]}: {value}" in best_config
    page = Path(summary["tuning_page"] if Path(summary["tuning_page"]).is_absolute() else tmp_path / summary["tuning_page"]).read_text()
    rows = re.findall(r"<tr(?: class='best')?><td class='number'>(\d+)</td><td>(\w+)</td>", page)
    assert [(int(n), state) for n, state in rows] == [(t["trial"], t["state"]) for t in trials]
    for trial in done:
        assert f"{trial['value']:.6g}" in page
    assert page.count("<img") == 2
    trial_0 = re.search(r"<tr(?: class='best')?><td class='number'>0</td>(.*?)</tr>", page).group(1)
    assert "<td class='number'>-</td>" not in trial_0  # the values the config as it is used, not dashes
    assert set(trials[0]["used"]) == {"catboost.depth", "catboost.learning_rate", "catboost.l2_leaf_reg", "catboost.grow_policy"}
    noise = summary["noise"]
    assert noise["kind"] == "seeds" and len(noise["values"]) == 3 and noise["values"][0] == summary["defaults"]
    gain = abs(summary["best"]["value"] - summary["defaults"])
    helped = summary["best"]["trial"] != 0 and gain > noise["spread"]
    assert summary["verdict"].startswith("Tuning helped") == helped
    assert html.escape(summary["verdict"]) in page


def test_a_fixed_seed_gives_the_same_trials_and_the_same_best(tmp_path):
    runs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        summary = tuned(project(tmp_path / name, "target: species\ncatboost: {iterations: 40}", trials=8))
        runs.append(([(t["values"], t["state"], t["value"]) for t in summary["trials"]], summary["best"]))
    assert runs[0] == runs[1]


def test_trials_in_parallel_processes_share_one_study(tmp_path):
    summary = tuned(project(tmp_path, "target: species\ncatboost: {iterations: 40}", trials=7, parallel=2))
    assert sorted(t["trial"] for t in summary["trials"]) == list(range(7))
    assert len({json.dumps(t["values"], sort_keys=True) for t in summary["trials"]}) == 7


def test_tuning_by_the_folds_mean(tmp_path):
    summary = tuned(project(tmp_path, "target: species\nfolds: 3\ncatboost: {iterations: 30}", trials=4))
    trained = json.loads((tmp_path / "ml" / "output" / "data" / "metrics.json").read_text())
    assert set(trained) == {"train", "validation", "validation_std"}
    assert trained["validation"]["logloss"] == pytest.approx(summary["best"]["value"], rel=1e-9)
    assert summary["noise"]["kind"] == "folds" and summary["noise"]["folds"] == 3 and summary["noise"]["spread"] > 0  # no extra training
    assert "standard deviation of its 3 folds" in summary["verdict"]


@pytest.mark.parametrize(
    "config_text,args,message",
    [
        ("target: species\n", ["--local"], "has no `tune:` section; add one, e.g."),
        (
            "target: species\ntune:\n  ranges:\n    catboost.deepth: {min: 2, max: 8}\n",
            ["--local"],
            "'catboost.deepth' cannot be tuned. Did you mean 'catboost.depth'?",
        ),
        ("target: species\ntune:\n  ranges:\n    target: [a, b]\n", ["--local"], "'target' cannot be tuned."),
        (
            "target: species\ntune:\n  ranges:\n    catboost.learning_rate: {min: 0.01, max: 0.3, scale: cube}\n",
            ["--local"],
            "Input should be 'linear' or 'log'",
        ),
        ("target: species\ntune:\n  ranges:\n    catboost.depth: {min: 9, max: 3}\n", ["--local"], "min 9 is more than max 3"),
        ("target: species\ntune:\n  ranges:\n    catboost.depth: {min: 2.5, max: 3}\n", ["--local"], "catboost.depth takes whole numbers"),
        (
            "target: species\ntune:\n  ranges:\n    catboost.grow_policy: {min: 1, max: 2}\n",
            ["--local"],
            "catboost.grow_policy takes a list of some of",
        ),
        (
            "target: species\ntune:\n  objective: validation:r2\n  ranges:\n    catboost.depth: [4, 6]\n",
            ["--local"],
            "tune.objective validation:r2: a multiclass model is measured by logloss, accuracy, f1_weighted, f1_macro",
        ),
        (
            "target: species\ntune:\n  ranges:\n    catboost.depth: [4, 6]\n",
            [],
            "--validation, --ml-root and --engine are for `releaseml tune --local`",
        ),
    ],
    ids=[
        "no-section",
        "misspelt-key",
        "not-tunable",
        "bad-scale",
        "min-above-max",
        "half-a-depth",
        "range-of-names",
        "wrong-objective",
        "no-local",
    ],
)
def test_tuning_mistakes_are_one_message_each(tmp_path, config_text, args, message):
    shutil.copy(REPO / "data" / "penguins.csv", tmp_path / "penguins.csv")
    (tmp_path / "releaseml.yaml").write_text(config_text + "data: penguins.csv\n")
    result = run_task("tune", *args, "--ml-root", "ml", "--engine", "process", cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "ml" / "model" / "model.cbm").exists()
