"""The tasks about the project itself: make one (init), list and compare its runs, and the demo."""

from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from releaseml.cli.support import AWS_HELP, CONFIG_HELP, ENGINE_HELP, config_path, user_errors_exit
from releaseml.common import arguments, defaults


@task(
    help={
        "data": "the data to learn from: a CSV or Parquet file, or a folder of them",
        "target": "the column to predict (without it, init lists the columns to choose from)",
        "dir": "the project folder to write releaseml.yaml in (default: this folder)",
    }
)
@user_errors_exit
def init(c, data=None, target=None, dir="."):
    """Start a project: write a commented releaseml.yaml for your data (never over one) and a .gitignore."""
    from releaseml.local import new_project

    outcome = new_project.init(Path(dir), Path(data) if data else None, target)
    print("\n".join(outcome.said()))


@task(
    help={
        "compare": "two runs side by side, their metrics and configs: `--compare A,B` (ids, their starts, or latest)",
        "config": CONFIG_HELP,
        "json_": AWS_HELP["json_"],
    }
)
@user_errors_exit
def runs(c, compare=None, config=None, json_=False):
    """List the project's runs: id, when, status, task, target, rows, validation metric, what changed."""
    from releaseml.local import run_listing
    from releaseml.local.runs import RunStore

    store = RunStore.of_config(config_path(config))
    if compare:
        ids = compare.replace(",", " ").split()
        if len(ids) != 2:
            raise Exit("error: --compare takes two run ids: `releaseml runs --compare A,B`", code=1)
        comparison = run_listing.compare(store.resolve(ids[0]), store.resolve(ids[1]))
        print(arguments.as_json(comparison) if json_ else run_listing.comparison_text(comparison))
        return
    listed = store.all()
    if json_:
        print(arguments.as_json(run_listing.summaries(listed)))
    else:
        print(run_listing.table(listed, store.root))


@task(
    help={
        "dir": f"the demo project folder, made if missing (default {defaults.DEMO_DIR})",
        "port": f"port for the server (default {defaults.PORT})",
        "engine": ENGINE_HELP,
    }
)
@user_errors_exit
def demo(c, dir=defaults.DEMO_DIR, port=str(defaults.PORT), engine="auto"):
    """Make a demo project (penguins), train a run, serve it, predict two payloads, stop the server."""
    from releaseml.local import runner

    runner.demo(Path(dir), arguments.port(port), engine)
