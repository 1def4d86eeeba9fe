"""The live traffic as a page like the data check's: one sentence first, then a table per period
(requests, rows, refusals, drift, live metrics beside validation), the columns' PSI per period, each
drifted column's training and live shares side by side, and the live metrics over time against the
validation value. One self-contained file: figures inlined, no scripts, nothing fetched."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from releaseml.checking.data_check import ColumnCheck
from releaseml.checking.monitor import LIVE_METRICS, LOWER_IS_BETTER, MIN_ROWS_FOR_DRIFT, MonitorResult, Period
from releaseml.report import FIGURES_DIR, figures, page

MONITOR_FILE = "monitor.html"
LIVE_COLOR = "#55A868"


def write(out_dir: Path, result: MonitorResult) -> Path:
    """The page (and its figures) in `out_dir`; for a quiet window (`result.quiet`), the sentence and the window only."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MONITOR_FILE
    path.write_text("\n".join(_quiet_parts(result) if result.quiet else _parts(result, out_dir / FIGURES_DIR)), encoding="utf-8")
    return path


def _head(result: MonitorResult) -> list[str]:
    return [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Live traffic</title><style>{page.STYLE}</style></head><body>",
        "<h1>Live traffic against training</h1>",
        f"<p class='headline'>{escape(result.sentence())}</p>",
        f"<p>Model: <code>{escape(result.model)}</code> ({escape(result.task)}); captured requests: <code>{escape(result.source)}</code>"
        + (f"; since {escape(result.since.isoformat(timespec='minutes'))}" if result.since else "")
        + (f"; until {escape(result.until.isoformat(timespec='minutes'))}" if result.until else "")
        + "; times in UTC.</p>",
    ]


def _quiet_parts(result: MonitorResult) -> list[str]:
    return [
        *_head(result),
        "<p>No request was captured in this window, so there is nothing to compare with the training data. A quiet spell is "
        "news, not an error: if the endpoint should have been called, look upstream (the metric Requests says it every run).</p>",
        *([page.titled_list("Warnings", result.warnings)] if result.warnings else []),
        "</body></html>",
    ]


def _parts(result: MonitorResult, figure_dir: Path) -> list[str]:
    figure_dir.mkdir(parents=True, exist_ok=True)
    shown = [_drift_figure(result, name, period, column, figure_dir) for name, (period, column) in result.drifted().items()]
    metrics = _metrics_figure(result, figure_dir / "live_metrics.png")
    return [
        *_head(result),
        page.titled_list("Requests the model would refuse", result.errors),
        page.titled_list("Warnings", result.warnings),
        f"<h2>By {escape(result.period)}</h2>",
        _periods_table(result),
        f"<p>Drift is named for a {escape(result.period)} of at least {MIN_ROWS_FOR_DRIFT} rows: over fewer, the population stability "
        "index (PSI) of rows drawn like the training data is itself large. Below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 large.</p>",
        "<h2>Columns, most drifted first</h2>",
        _columns_table(result),
        *(["<h2>Drifted columns</h2>", *(page.figure(*each) for each in shown)] if shown else []),
        *(["<h2>Live metrics over time</h2>", page.figure(*metrics)] if metrics else []),
        "</body></html>",
    ]


def _metric_names(result: MonitorResult) -> list[str]:
    return [name for name in LIVE_METRICS[result.task] if name in result.metrics or any(name in p.metrics for p in result.periods)]


def _periods_table(result: MonitorResult) -> str:
    names = _metric_names(result)
    head = "<tr><th>period</th><th>requests</th><th>rows</th><th>refused</th><th>most drifted column</th>"
    head += ("<th>labelled rows</th>" + "".join(f"<th>live {escape(n)}</th>" for n in names)) if result.labels is not None else ""
    rows = [_period_row(p, names, result.labels is not None) for p in result.periods]
    if result.labels is not None:
        validation = "".join(_number_cell(result.validation.get(n)) for n in names)
        rows.append(f"<tr><th>validation, at training</th><td colspan='5'></td>{validation}</tr>")
        overall = "".join(_number_cell(result.metrics.get(n)) for n in names)
        rows.append(
            f"<tr><th>all traffic</th><td class='number'>{result.requests}</td><td class='number'>{result.rows}</td>"
            f"<td class='number'>{result.refused}</td><td></td><td class='number'>{result.labelled}</td>{overall}</tr>"
        )
    return f"<table>{head}</tr>{''.join(rows)}</table>"


def _period_row(period: Period, names: list[str], labelled: bool) -> str:
    if not period.requests:
        span = 4 + (1 + len(names) if labelled else 0)
        return f"<tr><th>{escape(period.label)}</th><td colspan='{span}'>no traffic</td></tr>"
    cells = [
        f"<td class='number'>{period.requests}</td><td class='number'>{period.rows}</td><td class='number'>{period.refused}</td>",
        f"<td>{escape(_most_drifted(period))}</td>",
    ]
    if labelled:
        cells.append(f"<td class='number'>{period.labelled}</td>" + "".join(_number_cell(period.metrics.get(n)) for n in names))
    return f"<tr><th>{escape(period.label)}</th>{''.join(cells)}</tr>"


def _most_drifted(period: Period) -> str:
    if not period.check or not period.check.columns:
        return "-" if period.rows else "no rows accepted"
    top = period.check.columns[0]
    if top.psi is None:
        return f"{top.name}: every value missing"
    if not period.judged:  # a drift word here would contradict the note under the table
        return f"none judged: {period.rows} rows, too few (highest PSI {top.psi:.2f}, {top.name})"
    return f"{top.name} ({top.drift}, PSI {top.psi:.2f})"


def _number_cell(value) -> str:
    return f"<td class='number'>{'-' if value is None else f'{value:.4g}'}</td>"


def _columns_table(result: MonitorResult) -> str:
    if result.overall is None or not result.overall.columns:
        return "<p>No column compared (the model has no training profile: train it again).</p>"
    busy = [p for p in result.periods if p.check]
    head = "<tr><th>column</th><th>kind</th><th>PSI, all traffic</th><th>drift</th>"
    head += "".join(f"<th>PSI {escape(p.label)}</th>" for p in busy)
    head += "<th>missing in training</th><th>missing live</th><th>never seen</th></tr>"
    rows = []
    for c in result.overall.columns:
        per_period = "".join(_psi_cell(p.column(c.name), p.judged) for p in busy)
        rows.append(
            f"<tr><th>{escape(c.name)}</th><td>{escape(c.kind)}</td>{_psi_cell(c, True)}<td>{escape(c.drift)}</td>{per_period}"
            f"<td class='number'>{c.missing_then:.1%}</td><td class='number'>{c.missing_now:.1%}</td>"
            f"<td class='number'>{c.unseen_share:.1%}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _psi_cell(column: ColumnCheck | None, judged: bool) -> str:
    if column is None or column.psi is None:
        return "<td class='number'>-</td>"
    mark = "" if judged else " (few rows)"
    strong = column.drift == "large" and judged
    value = f"<strong>{column.psi:.3f}</strong>" if strong else f"{column.psi:.3f}"
    return f"<td class='number'>{value}{mark}</td>"


def _drift_figure(result: MonitorResult, name: str, period: Period, column: ColumnCheck, figure_dir: Path) -> tuple[str, str, Path]:
    """Training, the period where the column drifted most, and all traffic: the share of rows per bin."""
    import matplotlib.pyplot as plt
    import numpy as np

    overall = next(c for c in result.overall.columns if c.name == name)
    series = [("training", column.shares_then, figures.TRAIN_COLOR), (f"live, {period.label}", column.shares_now, figures.VALIDATION_COLOR)]
    if len(result.periods) > 1:
        series.append(("live, all traffic", overall.shares_now, LIVE_COLOR))
    positions = np.arange(len(column.bins))
    width = 0.8 / len(series)
    figure, axes = plt.subplots(figsize=(max(6.4, 0.7 * len(column.bins) + 2), 3.8))
    for i, (label, shares, color) in enumerate(series):
        axes.bar(positions + (i - (len(series) - 1) / 2) * width, shares, width=width, color=color, label=label)
    axes.set_xticks(positions, column.bins, rotation=30, ha="right")
    axes.set(ylabel="share of rows", title=f"{name}: training against live traffic")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    path = figures.save(figure, figure_dir / f"drift_{_file_name(name)}.png")
    caption = (
        f"Share of rows in each bin, in training and in the live requests; PSI {column.psi:.2f} on {period.label} "
        f"({column.drift}), {overall.psi:.2f} over all traffic."
    )
    return f"{name}: {column.drift} drift on {period.label}", caption, path


def _metrics_figure(result: MonitorResult, path: Path) -> tuple[str, str, Path] | None:
    """One panel per live metric over every period of the window: its value per period, written
    beside its point, "no labels" where no row was labelled, and the validation value dashed. The
    y-axis takes in both with room around them, so no point sits on the frame."""
    import matplotlib.pyplot as plt

    names = _metric_names(result)
    if not names:
        return None
    labels = [p.label for p in result.periods]
    columns = min(2, len(names))
    rows = -(-len(names) // columns)
    figure, panels = plt.subplots(rows, columns, figsize=(5.6 * columns, 3.9 * rows), squeeze=False)
    for axes, name in zip(panels.flat, names):
        _metric_panel(axes, name, result, labels)
    for axes in list(panels.flat)[len(names) :]:
        axes.set_visible(False)
    figures.save(figure, path)
    caption = (
        f"Live metrics per {result.period} over the requests with ground truth ({result.labelled} rows in all), "
        "against the validation value saved at training; each point is written beside it with its labelled rows."
    )
    return "Live metrics against validation", caption, path


def _metric_panel(axes, name: str, result: MonitorResult, labels: list[str]) -> None:
    points = [p.metrics.get(name) for p in result.periods]
    known = [(i, v) for i, v in enumerate(points) if v is not None]
    axes.plot(range(len(labels)), [float("nan") if v is None else v for v in points], marker="o", color=LIVE_COLOR, label="live")
    values = [v for _, v in known]
    if name in result.validation:
        axes.axhline(result.validation[name], color=figures.VALIDATION_COLOR, linestyle="--", label="validation, at training")
        values.append(result.validation[name])
    low, high = _padded(values)
    axes.set_ylim(low, high)
    for i, value in known:
        axes.annotate(
            f"{value:.3g}\n{result.periods[i].labelled} rows",
            (i, value),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=9,
        )
    for i, value in enumerate(points):
        if value is None:  # no labelled row, or labels the metric cannot use (AUC on one class)
            said = "no labels" if not result.periods[i].labelled else "not computable"
            axes.text(i, (low + high) / 2, said, ha="center", va="center", rotation=90, fontsize=9, color="0.45")
    better = "lower is better" if name in LOWER_IS_BETTER else "higher is better"
    axes.set_title(f"{name} ({better})", fontsize=11)
    axes.set_xlabel(result.period)
    axes.set_xlim(-0.6, len(labels) - 0.4)
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axes.tick_params(labelsize=9)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=9, loc="best")


def _padded(values: list[float]) -> tuple[float, float]:
    """The finite values' range with a quarter of it (at least 0.05 of their size) added on each side."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    room = max((high - low) * 0.25, 0.05 * max(abs(low), abs(high)), 1e-3)
    return low - room, high + room


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)[:60] or "column"
