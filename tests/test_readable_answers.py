"""Answers an analyst can read, checked by running what they run: `releaseml predict`, `train-local`,
`serve-local` and the server itself. Each test makes the mistake or reads the output as a newcomer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from helpers import free_port, run_task
from releaseml.common import stage_timer

RELEASEML = [sys.executable, "-m", "releaseml.cli"]
REPO = Path(__file__).resolve().parents[1]


def releaseml(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*RELEASEML, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_a_csv_answer_names_its_columns_on_request_and_only_then(species_server, species_model):
    body = "Dream,40,18,190,3700,male\nBiscoe,50,15,220,5000,female"
    plain = requests.post(f"{species_server.url}/invocations", data=body, headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    named = requests.post(
        f"{species_server.url}/invocations", data=body, headers={"Content-Type": "text/csv", "Accept": "text/csv; header=present"}
    )
    assert plain.status_code == named.status_code == 200
    header, *rows = named.text.split("\n")
    assert header == "prediction,probability_Adelie,probability_Chinstrap,probability_Gentoo"
    assert rows == plain.text.split("\n")  # the same rows, the same bytes; SageMaker's clients get no header by default
    explained = requests.post(
        f"{species_server.url}/invocations",
        data=body,
        headers={"Content-Type": "text/csv", "Accept": "text/csv; header=present; explain=2"},
    )
    assert explained.text.split("\n")[0].endswith(",reason_1,contribution_1,reason_2,contribution_2")


def test_predict_prints_column_names_and_rounded_numbers_and_json_keeps_every_digit(species_server, tmp_path):
    (tmp_path / "rows.csv").write_text("Dream,40,18,190,3700,male\n")
    shown = run_task("predict", "rows.csv", "--url", species_server.url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    header, row = shown.stdout.strip().split("\n")
    assert header == "prediction,probability_Adelie,probability_Chinstrap,probability_Gentoo"
    assert all(len(value.split(".")[-1]) <= 4 for value in row.split(",")[1:])
    exact = releaseml("predict", "rows.csv", "--url", species_server.url, "--json", cwd=tmp_path)
    import json

    probabilities = json.loads(exact.stdout)["predictions"][0]["probabilities"]
    assert [f"{p:.4f}".rstrip("0").rstrip(".") for p in probabilities.values()] == row.split(",")[1:]
    assert any(len(repr(p)) > 8 for p in probabilities.values())  # every digit


def test_predict_into_a_closed_pipe_ends_quietly(species_server, tmp_path):
    rows = "\n".join(["Dream,40,18,190,3700,male"] * 20000) + "\n"
    (tmp_path / "rows.csv").write_text(rows)
    command = f"{' '.join(RELEASEML)} predict rows.csv --url {species_server.url} | head -2"
    result = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("prediction,probability_Adelie") and len(result.stdout.splitlines()) == 2
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_no_task_has_a_nameless_option_or_a_short_flag(tmp_path):
    """`--help batch-predict` once showed `--=STRING`, and `-c` meant --check in one task, --config in others."""
    import re

    tasks = re.findall(r"^  ([a-z][a-z-]+)\s{2,}", releaseml("--list", cwd=tmp_path).stdout, flags=re.M)
    assert len(tasks) >= 15
    for task in tasks:
        shown = releaseml("--help", task, cwd=tmp_path).stdout
        options = [line.strip() for line in shown.split("Options:")[-1].splitlines() if line.strip().startswith("-")]
        assert options, task
        assert not [o for o in options if o.startswith("--=") or o.startswith("-") and not o.startswith("--")], (task, options)


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_serve_local_takes_its_server_and_workers_with_it(species_model, tmp_path, signum):
    """SIGTERM to `serve-local` once ended the task and left the server and its workers answering /ping."""
    port = free_port()
    task = subprocess.Popen(
        [*RELEASEML, "serve-local", "--ml-root", str(species_model.root), "--port", str(port), "--engine", "process"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # as from a terminal: under a shell's `&` (a background tox) SIGINT comes ignored, and stays so
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    below: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        below = _descendants(task.pid)
        assert len(below) >= 3, below  # the server, and its two workers
        task.send_signal(signum)
        assert task.wait(timeout=30) == 0
        time.sleep(0.5)
        assert not [pid for pid in below if _alive(pid)]
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/ping", timeout=2)
    finally:
        _kill_all(task, below)


def test_a_killed_serve_local_takes_its_server_with_it(species_model, tmp_path):
    """SIGKILL to `serve-local` (no handler runs) once left its server answering, orphaned."""
    port = free_port()
    task = subprocess.Popen(
        [*RELEASEML, "serve-local", "--ml-root", str(species_model.root), "--port", str(port), "--engine", "process"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    below: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        below = _descendants(task.pid)
        assert len(below) >= 3, below
        task.kill()
        task.wait(timeout=10)
        deadline = time.monotonic() + 25
        while [pid for pid in below if _alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in below if _alive(pid)]
    finally:
        _kill_all(task, below)


def _kill_all(task: subprocess.Popen, below: set[int]) -> None:
    """A failed test leaves no server behind: the task and every process it had."""
    if task.poll() is None:
        below = below | _descendants(task.pid)
        task.kill()
    for pid in below:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_serve_local_listens_on_this_machine_only_unless_asked(species_model, tmp_path):
    from releaseml.local import engines

    assert engines.LOCAL_HOST == "127.0.0.1"
    shown = releaseml("--help", "serve-local", cwd=tmp_path).stdout
    assert "--host" in shown and "127.0.0.1" in shown


def test_training_shows_releasemls_lines_and_hides_catboosts_unless_verbose(tmp_path, penguins):
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: species\ndata: penguins.csv\ncatboost: {iterations: 150}\n")
    quiet = releaseml("train-local", "--engine", "process", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    for catboost_line in ("learn:", "Shrink model", "bestTest", "Learning rate set to", "#releaseml metric", "#releaseml stage"):
        assert catboost_line not in quiet.stdout + quiet.stderr
    assert "Task: multiclass" in quiet.stdout and "Validation: logloss " in quiet.stdout and "Report: " in quiet.stdout
    assert quiet.stdout.count("Report: ") == 1
    loud = releaseml("train-local", "--engine", "process", "--verbose", cwd=tmp_path)
    assert "learn:" in loud.stdout and "#releaseml metric validation:logloss=" in loud.stdout
    stages = [timed.name for timed in stage_timer.parse_lines(loud.stdout)]  # where the time went, for those who ask
    assert stages[:2] == ["reading", "typing"] and "fit" in stages and stages[-1] == "report: page", stages


def test_a_failed_training_says_why_once(tmp_path, penguins):
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    (tmp_path / "releaseml.yaml").write_text("target: species\ndata: penguins.csv\ndrop: [nope]\n")
    failed = releaseml("train-local", "--engine", "process", cwd=tmp_path)
    assert failed.returncode == 1
    assert (failed.stdout + failed.stderr).count("Training failed") == 1 and "drop: column 'nope'" in failed.stderr


def test_the_demo_in_a_fresh_clone_leaves_git_status_clean(tmp_path):
    """`invoke demo` once rewrote the tracked test_dir/input/config/hyperparameters.json."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    (clone / ".gitignore").write_bytes((REPO / ".gitignore").read_bytes())  # the ignore rules as they are now
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "now", "--allow-empty"], cwd=clone, check=True)
    result = run_task("demo", "--engine", "process", "--port", str(free_port()), cwd=clone)
    assert result.returncode == 0, result.stderr
    assert (clone / "releaseml-demo" / ".releaseml" / "runs").is_dir()
    status = subprocess.run(["git", "status", "--porcelain", "--ignored=no"], cwd=clone, capture_output=True, text=True).stdout
    assert status == "", status
