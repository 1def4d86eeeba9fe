"""The project's runs for people (a table, a side-by-side comparison) and for scripts (JSON)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from releaseml.local.runs import Run, changes


def summaries(runs: list[Run]) -> list[dict[str, Any]]:
    """`runs --json`: every run's summary, oldest first, with what changed since the run before."""
    return [{**run.summary(), "changes": changes(before, run)} for before, run in zip([None, *runs], runs)]


def table(runs: list[Run], root: Path) -> str:
    if not runs:
        return "No runs yet in this project: `releaseml train-local` trains the first."
    header = ["run", "when", "status", "task", "target", "rows", "validation", "changed"]
    rows = [
        [
            run.id,
            _when(run.created),
            run.status,
            run.info.get("task") or "-",
            str(run.info.get("target") or run.config.get("target") or "-"),
            _rows(run.info.get("rows")),
            _metric(run),
            "; ".join(changes(before, run)),
        ]
        for before, run in zip([None, *runs], runs)
    ]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1] for line in [header, *rows]]
    latest = next((run.id for run in reversed(runs) if run.status == "succeeded"), None)
    footer = f"\n{len(runs)} run(s) in {root}; latest: {latest or 'none succeeded yet'}. `releaseml runs --compare A,B` compares two."
    return "\n".join(lines) + footer


def compare(first: Run, second: Run) -> dict[str, Any]:
    """Two runs' metrics and configs, key by key (flattened), with the keys that differ marked."""
    from releaseml.local.runs import _flat

    metrics = {}
    splits = {split for run in (first, second) for split, values in run.metrics.items() if isinstance(values, dict)}
    for split in sorted(splits):
        names = dict.fromkeys([*first.metrics.get(split, {}), *second.metrics.get(split, {})])
        for name in names:
            metrics[f"{split}:{name}"] = [first.metrics.get(split, {}).get(name), second.metrics.get(split, {}).get(name)]
    old, new = _flat(first.config), _flat(second.config)
    config = {key: [old.get(key), new.get(key)] for key in sorted(set(old) | set(new))}
    same_data = (first.info.get("data") or {}).get("sha256") == (second.info.get("data") or {}).get("sha256")
    return {"runs": [first.id, second.id], "metrics": metrics, "config": config, "same_data": same_data}


def comparison_text(comparison: dict[str, Any]) -> str:
    first, second = comparison["runs"]
    rows = [["", first, second, ""]]
    rows += [[name, _number(a), _number(b), _better(name, a, b)] for name, (a, b) in comparison["metrics"].items()]
    rows += [
        [key, str(a) if a is not None else "(unset)", str(b) if b is not None else "(unset)", "differs" if a != b else ""]
        for key, (a, b) in comparison["config"].items()
    ]
    rows.append(["data", "", "", "the same" if comparison["same_data"] else "differs"])
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3] for row in rows).rstrip()


LOWER_IS_BETTER = ("logloss", "rmse", "mae")


def _better(name: str, a, b) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or a == b:
        return ""
    lower = name.split(":")[-1] in LOWER_IS_BETTER
    return "second better" if (b < a) == lower else "first better"


def _metric(run: Run) -> str:
    found = run.main_metric()
    return f"{found[0]} {_number(found[1])}" if found else "-"


def _number(value) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else "-"


def _rows(rows) -> str:
    if isinstance(rows, dict):
        return "+".join(str(v) for v in rows.values())
    return str(rows) if rows is not None else "-"


def _when(created: str) -> str:
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return created or "-"
