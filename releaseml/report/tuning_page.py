"""The tuning page (`tuning.html` beside report.html): every trial with the values it used, the objective by
trial against the config as it is (trial 0) and the noise of chance, and how each tuned key moved the objective.

The objective's axis starts at the perfect score (0 for a loss, 1 for a score), so a trial twice as far from
perfect stands twice as far from that edge: noise is not zoomed into a cliff. The page builder returns what it
drew (axis scales, limits, the reference and its noise band) and the sentence on noise, for tests and callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Optional

import numpy as np
from matplotlib import ticker

from releaseml.common.layout import FIGURES_DIR
from releaseml.report import figures, page

TUNING_PAGE = "tuning.html"
REFERENCE_COLOR = "#555555"
FARTHEST = 3.0  # the axis reaches at most this many times trial 0's distance from perfect; farther trials sit on its edge


@dataclass
class Scale:
    """The objective's axis, shared by both figures."""

    label: str
    limits: tuple[float, float]
    reference: float  # trial 0's objective: the dashed line
    band: Optional[tuple[float, float]]  # reference ± the noise: the grey band


@dataclass
class TuningPage:
    """What the page shows: its file, the sentence on noise, and the axes as drawn (read these, not pixels)."""

    path: Path
    verdict: str
    scale: Scale
    by_trial_y_scale: str = "linear"
    x_scales: dict[str, str] = field(default_factory=dict)  # tuned key: the effect panel's x-axis, 'linear', 'log' or 'categorical'
    beyond_axis: int = 0  # finished trials farther from perfect than the axis reaches, drawn on its edge


def write(
    out_dir: Path,
    objective: str,
    direction: str,
    trials: list[dict],
    best: int,
    noise: Optional[dict] = None,
    scales: Optional[dict[str, str]] = None,
) -> TuningPage:
    """The page and its figures; `noise` as tuning measured it (None: not measured), `scales` each range's (log or linear)."""
    figure_dir = out_dir / FIGURES_DIR
    figure_dir.mkdir(parents=True, exist_ok=True)
    done = [t for t in trials if t["state"] == "complete"]
    keys = list(dict.fromkeys([*trials[0].get("used", {}), *(key for t in trials for key in t["values"])]))
    scale = _scale(done, objective, direction, noise)
    by_trial, y_scale, beyond = _by_trial(trials, scale, objective, direction, figure_dir / "tuning_by_trial.png")
    shown = [("Objective by trial", _by_trial_caption(objective, direction, noise), by_trial)]
    x_scales: dict[str, str] = {}
    if keys and done:
        effects, x_scales = _effects(done, keys, scale, scales or {}, objective, figure_dir / "tuning_effects.png")
        shown.append(
            (
                "Effect of each tuned key",
                f"Each finished trial's {objective} against the value it tried (the square: the config as it is), on the same axis "
                "as above, log where the range is: a slope or a best region clear of the grey band says the key matters; "
                "a flat cloud inside it says it does not.",
                effects,
            )
        )
    said = verdict(objective, direction, trials, best, noise)
    target = out_dir / TUNING_PAGE
    target.write_text(_html(objective, trials, best, keys, said, noise, shown), encoding="utf-8")
    return TuningPage(path=target, verdict=said, scale=scale, by_trial_y_scale=y_scale, x_scales=x_scales, beyond_axis=beyond)


def verdict(objective: str, direction: str, trials: list[dict], best: int, noise: Optional[dict]) -> str:
    """One sentence: does the best trial beat the config as it is by more than chance alone moves it?"""
    metric = _metric(objective)
    first, winner = trials[0]["value"], next(t for t in trials if t["trial"] == best)["value"]
    if best == trials[0]["trial"]:
        scale = f"; the noise is {_chance(noise)}" if noise else ""
        return f"Tuning found nothing better than the config as it is ({metric} {first:.4g}{scale})."
    gain = improvement(direction, first, winner)
    compared = f"{metric} {winner:.4g} (trial {best}) against {first:.4g} for the config as it is, {gain:.2g} better"
    if noise is None:
        return f"Noise not estimated (too few trials to spend extra trainings on it): {compared}; that may be chance."
    if gain > noise["spread"]:
        return f"Tuning helped: {compared}, beyond {_chance(noise)}."
    return f"The best trial is within the noise: {compared}, no more than {_chance(noise)}."


def improvement(direction: str, first: float, value: float) -> float:
    """How much better `value` is than trial 0's, in the objective's units (positive: better)."""
    return first - value if direction == "minimize" else value - first


def _chance(noise: dict) -> str:
    """The noise as a phrase: "the 0.004 that seeds alone move it (3 seeds on the same split)"."""
    if noise["kind"] == "folds":
        return f"the {noise['spread']:.2g} standard deviation of its {noise['folds']} folds"
    return f"the {noise['spread']:.2g} that seeds alone move it ({len(noise['seeds'])} seeds on the same split)"


def _metric(objective: str) -> str:
    return objective.split(":", 1)[-1]


def _perfect(direction: str) -> float:
    """The best score a metric can reach: 0 for the losses and errors minimised, 1 for the scores maximised (accuracy, F1, AUC, R2)."""
    return 0.0 if direction == "minimize" else 1.0


def _scale(done: list[dict], objective: str, direction: str, noise: Optional[dict]) -> Scale:
    """From the perfect score to the farthest trial (at most FARTHEST times trial 0's distance), so that heights are in proportion."""
    perfect, reference = _perfect(direction), done[0]["value"]
    band = (reference - noise["spread"], reference + noise["spread"]) if noise else None
    distances = [abs(t["value"] - perfect) for t in done] + [abs(edge - perfect) for edge in band or ()]
    own = abs(reference - perfect)
    far = min(max(distances), FARTHEST * own) if own > 0 else max(distances)
    far = far * 1.05 or 1.0
    limits = (perfect, perfect + far) if direction == "minimize" else (perfect - far, perfect)
    better = "lower" if direction == "minimize" else "higher"
    return Scale(f"{_metric(objective)} ({better} is better; {perfect:g} is perfect)", limits, reference, band)


def _by_trial_caption(objective: str, direction: str, noise: Optional[dict]) -> str:
    better = "lower" if direction == "minimize" else "higher"
    band = f" and the grey band ± the noise, {_chance(noise)}" if noise else " (the noise was not estimated)"
    return (
        f"Each dot is a finished trial's {objective}; the line is the best so far ({better} is better). The dashed line is the config "
        f"as it is (trial 0){band}; a cross is a trial pruned or failed before it finished. The axis starts at the perfect score, so distances are in proportion; the right axis is the "
        "change from trial 0 in %."
    )


def _reference(axes, scale: Scale, label: bool = True) -> None:
    """Trial 0's objective as a dashed line, and the noise around it as a grey band."""
    axes.axhline(scale.reference, color=REFERENCE_COLOR, linestyle="--", linewidth=1, label="config as it is (trial 0)" if label else None)
    if scale.band:
        axes.axhspan(*scale.band, color=REFERENCE_COLOR, alpha=0.15, linewidth=0, label="noise" if label else None)
    axes.set_ylim(*scale.limits)


def _dots(axes, xs: np.ndarray, ys: np.ndarray, scale: Scale, label: Optional[str] = None, **style) -> int:
    """Points inside the axis as dots (or `style`), points beyond it as triangles on the edge they pass; returns how many were beyond."""
    low, high = scale.limits
    inside = (ys >= low) & (ys <= high)
    axes.scatter(xs[inside], ys[inside], zorder=3, clip_on=False, label=label, **{"color": figures.TRAIN_COLOR, **style})
    for beyond, edge, marker in ((ys > high, high, "^"), (ys < low, low, "v")):
        if beyond.any():
            axes.scatter(
                xs[beyond],
                np.full(beyond.sum(), edge),
                marker=marker,
                color=style.get("color", figures.TRAIN_COLOR),
                zorder=3,
                clip_on=False,
                label="beyond the axis" if label else None,
            )
    return int((~inside).sum())


def _by_trial(trials: list[dict], scale: Scale, objective: str, direction: str, path: Path) -> tuple[Path, str, int]:
    plt = figures.plt
    figure, axes = plt.subplots(figsize=(7.4, 3.9))
    done = [t for t in trials if t["state"] == "complete"]
    numbers = np.array([t["trial"] for t in done])
    values = np.array([t["value"] for t in done], dtype=float)
    _reference(axes, scale)
    beyond = _dots(axes, numbers, values, scale, label="trial")
    worse_edge = scale.limits[1] if direction == "minimize" else scale.limits[0]
    unfinished = [t["trial"] for t in trials if t["state"] != "complete"]
    if unfinished:
        axes.scatter(unfinished, [worse_edge] * len(unfinished), marker="x", color=REFERENCE_COLOR, label="pruned or failed", clip_on=False)
    best = np.minimum.accumulate(values) if direction == "minimize" else np.maximum.accumulate(values)
    axes.step(numbers, np.clip(best, *scale.limits), where="post", color=figures.VALIDATION_COLOR, label="best so far", zorder=2)
    axes.set(xlabel="trial", ylabel=scale.label, title=f"{_metric(objective)} by trial")
    axes.set_xlim(-0.5, max(t["trial"] for t in trials) + 0.5)
    axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    _percent_axis(axes, scale.reference)
    axes.legend(fontsize="small", loc="best")
    axes.grid(alpha=0.3)
    y_scale = axes.get_yscale()
    return figures.save(figure, path), y_scale, beyond


def _percent_axis(axes, reference: float) -> None:
    """A right-hand axis in % change from trial 0 (none when trial 0 scored 0: no change is a share of it)."""
    if reference == 0:
        return
    size = abs(reference)
    right = axes.secondary_yaxis("right", functions=(lambda y: (y - reference) / size * 100, lambda p: reference + p * size / 100))
    right.set_ylabel("change from trial 0 (%)")


def _effects(done: list[dict], keys: list[str], scale: Scale, scales: dict[str, str], objective: str, path: Path) -> tuple[Path, dict]:
    plt = figures.plt
    columns = min(3, len(keys))
    rows = -(-len(keys) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.0 * rows), squeeze=False)
    drawn = {key: _effect(axes, done, key, scale, scales.get(key, "linear")) for axes, key in zip(grid.flat, keys)}
    for axes in list(grid.flat)[len(keys) :]:
        axes.set_visible(False)
    grid.flat[0].set_ylabel(scale.label)
    return figures.save(figure, path), drawn


def _effect(axes, done: list[dict], key: str, scale: Scale, range_scale: str) -> str:
    """One key's panel: each trial's objective at the value it used; trial 0 as a square. Returns the x-axis scale drawn."""
    tried = [(_value_of(t, key), t["value"], t["trial"] == done[0]["trial"]) for t in done]
    tried = [(x, y, first) for x, y, first in tried if x is not None and not (range_scale == "log" and not isinstance(x, str) and x <= 0)]
    _reference(axes, scale, label=False)
    categorical = bool(tried) and all(isinstance(x, str) for x, _, _ in tried)
    names = sorted({x for x, _, _ in tried}) if categorical else []
    for first in (False, True):
        points = [(names.index(x) if categorical else float(x), y) for x, y, is_first in tried if is_first == first]
        if points:
            xs, ys = np.array(points, dtype=float).T
            _dots(axes, xs, ys, scale, **({"marker": "s", "color": REFERENCE_COLOR, "s": 40} if first else {}))
    if categorical:
        axes.set_xticks(range(len(names)), names, rotation=20)
        axes.set_xlim(-0.5, len(names) - 0.5)
    elif range_scale == "log":
        _log_axis(axes)
    elif tried and all(isinstance(x, int) for x, _, _ in tried):
        axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes.set(title=key.split(".", 1)[-1] + (" (log scale)" if range_scale == "log" else ""))
    axes.grid(alpha=0.3)
    return "categorical" if categorical else axes.get_xscale()


def _log_axis(axes) -> None:
    """A log x-axis labelled 0.01, 0.02, 0.05, ...: matplotlib's own labels are mathtext, which the report turns off."""
    axes.set_xscale("log")
    axes.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_formatter(ticker.NullFormatter())


def _value_of(trial: dict, key: str) -> Any:
    """The value a trial used for `key`: what it tried, or for trial 0 what the config or a default gave."""
    if key in trial["values"]:
        return trial["values"][key]
    return trial.get("used", {}).get(key, {}).get("value")


def _html(objective: str, trials: list[dict], best: int, keys: list[str], said: str, noise: Optional[dict], shown: list) -> str:
    winner, first = next(t for t in trials if t["trial"] == best), trials[0]
    counts = {state: sum(t["state"] == state for t in trials) for state in ("complete", "pruned", "fail")}
    headline = (
        f"Best {objective}: {winner['value']:.6g} (trial {best}), against {first['value']:.6g} with the config as it is (trial 0), "
        f"over {len(trials)} trials ({counts['pruned']} pruned, {counts['fail']} failed)."
    )
    style = f"{page.STYLE} tr.best td {{ background: #eaf4ea; }} .verdict {{ font-size: 1.1rem; }} td .source {{ color: #777; white-space: nowrap; }}"
    return "\n".join(
        [
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Tuning</title><style>{style}</style></head><body>",
            "<h1>Tuning</h1>",
            f"<p class='headline'>{escape(headline)}</p>",
            f"<p class='verdict'>{escape(said)}</p>",
            _noise_paragraph(objective, noise),
            "<p>The best trial's values were trained into the model beside this page; its report is report.html.</p>",
            "<h2>Trials</h2>",
            _table(trials, keys, best, objective),
            "<p>Trial 0 is the config as it is: its values are the config's, or the default where the config sets none "
            "(<span class='source'>default</span>), or what CatBoost chose for this data (<span class='source'>auto</span>: "
            "the learning rate).</p>",
            "<h2>Figures</h2>",
            *(page.figure(title, caption, path) for title, caption, path in shown),
            "</body></html>",
        ]
    )


def _noise_paragraph(objective: str, noise: Optional[dict]) -> str:
    """How the noise was measured, with its numbers, so a reader can judge the verdict."""
    if noise is None:
        return "<p>The noise was not measured: with so few trials, the extra trainings would cost too large a share of the search.</p>"
    if noise["kind"] == "folds":
        text = f"Noise: the standard deviation of {objective} over the config's {noise['folds']} folds, {noise['spread']:.4g}."
    else:
        scores = ", ".join(f"{value:.4g}" for value in noise["values"])
        seeds = ", ".join(str(seed) for seed in noise["seeds"])
        text = (
            f"Noise: the config as it is trained with seeds {seeds} on the same split scored {objective} {scores}: "
            f"a spread of {noise['spread']:.4g} from chance alone."
        )
    return f"<p class='noise'>{escape(text)}</p>"


def _table(trials: list[dict], keys: list[str], best: int, objective: str) -> str:
    head = "".join(f"<th>{escape(key)}</th>" for key in keys)
    rows = "".join(_row(t, keys, t["trial"] == best) for t in trials)
    return f"<table class='trials'><tr><th>trial</th><th>state</th>{head}<th>{escape(objective)}</th><th>seconds</th></tr>{rows}</table>"


def _row(trial: dict, keys: list[str], best: bool) -> str:
    cells = "".join(f"<td class='number'>{_cell(trial, key)}</td>" for key in keys)
    marked = " class='best'" if best else ""
    return (
        f"<tr{marked}><td class='number'>{trial['trial']}</td><td>{escape(trial['state'])}</td>{cells}"
        f"<td class='number'>{_objective_cell(trial)}</td><td class='number'>{trial['seconds']:.1f}</td></tr>"
    )


def _objective_cell(trial: dict) -> str:
    """The objective; a pruned trial has none (Optuna keeps the loss it last reported, negated for a higher-better objective)."""
    if trial["state"] == "complete":
        return escape(_value(trial["value"]))
    if "pruned_at" in trial:
        return f"<span class='source'>stopped at tree {trial['pruned_at']}</span>"
    return "-"


def _cell(trial: dict, key: str) -> str:
    """A trial's value for `key` as HTML; for trial 0, where it came from beside it."""
    if key in trial["values"] or key not in trial.get("used", {}):
        return escape(_value(trial["values"].get(key)))
    used = trial["used"][key]
    if used["source"] == "unused":
        return "<span class='source'>not used</span>"
    if used["source"] == "auto":
        return f"<span class='source'>auto</span> ({escape(_value(used['value']))})"
    shown = escape(_value(used["value"]))
    return shown if used["source"] == "config" else f"{shown} <span class='source'>default</span>"


def _value(value) -> str:
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)
