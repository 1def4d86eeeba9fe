"""The tuning page (`tuning.html` beside report.html): every trial, the objective by trial, and
how each tuned key moved the objective, in the training report's style."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from releaseml.common.layout import FIGURES_DIR
from releaseml.report import figures, page

TUNING_PAGE = "tuning.html"


def write(out_dir: Path, objective: str, direction: str, trials: list[dict], best: int) -> Path:
    figure_dir = out_dir / FIGURES_DIR
    figure_dir.mkdir(parents=True, exist_ok=True)
    done = [t for t in trials if t["state"] == "complete"]
    keys = list(dict.fromkeys(key for t in trials for key in t["values"]))
    shown = [
        (
            "Objective by trial",
            f"Each dot is a finished trial's {objective}; the line is the best so far ({'lower' if direction == 'minimize' else 'higher'} is better). "
            "Trial 0 is the config as it is.",
            _by_trial(done, objective, direction, figure_dir / "tuning_by_trial.png"),
        )
    ]
    if keys and done:
        shown.append(
            (
                "Effect of each tuned key",
                f"Each finished trial's {objective} against the value it tried: a clear slope or a best region says the key matters; a flat cloud says it does not.",
                _effects(done, keys, objective, figure_dir / "tuning_effects.png"),
            )
        )
    winner = next(t for t in trials if t["trial"] == best)
    first = trials[0]
    counts = {state: sum(t["state"] == state for t in trials) for state in ("complete", "pruned", "fail")}
    headline = (
        f"Best {objective}: {winner['value']:.6g} (trial {best}), against {first['value']:.6g} with the config as it is (trial 0), "
        f"over {len(trials)} trials ({counts['pruned']} pruned, {counts['fail']} failed)."
    )
    best_row = " class='best'"
    rows = "".join(
        f"<tr{best_row if t['trial'] == best else ''}><td class='number'>{t['trial']}</td><td>{escape(t['state'])}</td>"
        + "".join(f"<td class='number'>{escape(_value(t['values'].get(key)))}</td>" for key in keys)
        + f"<td class='number'>{escape(_value(t['value']))}</td><td class='number'>{t['seconds']:.1f}</td></tr>"
        for t in trials
    )
    table = (
        "<table class='trials'><tr><th>trial</th><th>state</th>"
        + "".join(f"<th>{escape(key)}</th>" for key in keys)
        + f"<th>{escape(objective)}</th><th>seconds</th></tr>{rows}</table>"
    )
    html = "\n".join(
        [
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Tuning</title><style>{page.STYLE} tr.best td {{ background: #eaf4ea; }}</style></head><body>",
            "<h1>Tuning</h1>",
            f"<p class='headline'>{escape(headline)}</p>",
            "<p>The best trial's values were trained into the model beside this page; its report is report.html.</p>",
            "<h2>Trials</h2>",
            table,
            "<h2>Figures</h2>",
            *(page.figure(title, caption, path) for title, caption, path in shown),
            "</body></html>",
        ]
    )
    target = out_dir / TUNING_PAGE
    target.write_text(html, encoding="utf-8")
    return target


def _value(value) -> str:
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _by_trial(done: list[dict], objective: str, direction: str, path: Path) -> Path:
    plt = figures.plt
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    numbers = np.array([t["trial"] for t in done])
    values = np.array([t["value"] for t in done], dtype=float)
    axes.scatter(numbers, values, color=figures.TRAIN_COLOR, label="trial")
    best = np.minimum.accumulate(values) if direction == "minimize" else np.maximum.accumulate(values)
    axes.step(numbers, best, where="post", color=figures.VALIDATION_COLOR, label="best so far")
    axes.set(xlabel="trial", ylabel=objective, title=f"{objective} by trial")
    axes.legend()
    axes.grid(alpha=0.3)
    return figures.save(figure, path)


def _effects(done: list[dict], keys: list[str], objective: str, path: Path) -> Path:
    plt = figures.plt
    columns = min(3, len(keys))
    rows = -(-len(keys) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.9 * rows), squeeze=False)
    for axes, key in zip(grid.flat, keys):
        tried = [(t["values"][key], t["value"]) for t in done if key in t["values"]]
        if tried and all(isinstance(v, str) for v, _ in tried):
            names = sorted({v for v, _ in tried})
            axes.scatter([names.index(v) for v, _ in tried], [y for _, y in tried], color=figures.TRAIN_COLOR)
            axes.set_xticks(range(len(names)), names, rotation=20)
        elif tried:
            axes.scatter([float(v) for v, _ in tried], [y for _, y in tried], color=figures.TRAIN_COLOR)
        axes.set(title=key.split(".", 1)[-1], ylabel=objective)
        axes.grid(alpha=0.3)
    for axes in list(grid.flat)[len(keys) :]:
        axes.set_visible(False)
    return figures.save(figure, path)
