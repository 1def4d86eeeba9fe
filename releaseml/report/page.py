"""The report as one HTML page with its figures inlined (data: URIs), so it can be mailed or attached as is."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from releaseml.report import glossary
from releaseml.report.findings import Column, metric_words, number

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
.headline { font-size: 1.2rem; background: #f3f6fa; border-left: 4px solid #4C72B0; padding: 0.8rem 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0; } td, th { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #eee; } figcaption { color: #555; }
.limits li { margin: 0.3rem 0; } .ok { color: #2a7a2a; } pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; }
a { color: #2a5599; } code { background: #f3f3f3; padding: 0 0.2rem; border-radius: 3px; font-size: 0.92em; }
details summary { cursor: pointer; font-weight: 600; margin: 1rem 0 0.5rem; }
dl.glossary dt { font-weight: 600; margin-top: 0.6rem; } dl.glossary dd { margin: 0.1rem 0 0 1.5rem; }
"""


@dataclass
class PageContent:
    title: str
    headline: str
    metrics: dict[str, dict[str, float]]
    columns: list[Column]
    rows: dict[str, int]
    limits: list[str]
    figures: list[tuple[str, str, Path]]
    card: dict[str, str]
    config: dict
    params: dict
    periods: list = field(default_factory=list)  # time_validation.PeriodScores, with `time:`
    positive: Any = None  # a binary model's positive class: what f1, precision and recall are about
    folds: int | None = None  # validated by cross-validation with this many folds
    train_measured: int | None = None  # the training rows' metrics were measured on this many of them (a sample)


def render(context: PageContent) -> str:
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(context.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(context.title)}</h1>",
        f"<p class='headline'>{glossary.linked(context.headline)}</p>",
        "<h2>Scores</h2>",
        _positive(context.positive),
        _metrics_table(context.metrics, context.positive),
        _periods_table(context.periods),
        "<h2>Known limits</h2>",
        _limits(context.limits),
        "<h2>Figures</h2>",
        *(figure(title, caption, path, linked=True) for title, caption, path in context.figures),
        "<h2>Data</h2>",
        _rows(context.rows, context.folds, context.train_measured),
        _columns_table(context.columns),
        "<h2>Model card</h2>",
        "<table>" + "".join(f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>" for key, value in context.card.items()) + "</table>",
        "<h3>Config (as given)</h3>",
        f"<pre>{escape(json.dumps(context.config, indent=2))}</pre>",
        "<details><summary>CatBoost parameters</summary>",
        "<p>Every parameter CatBoost trained with, the defaults releaseml chose included: for those who tune CatBoost.</p>",
        f"<pre>{escape(json.dumps(context.params, indent=2, default=str))}</pre></details>",
        glossary.section(),
        "</body></html>",
    ]
    return "\n".join(parts)


def _positive(positive) -> str:
    """Names the class a binary model's f1, precision and recall are about: the reader cannot guess it."""
    if positive is None:
        return ""
    name = escape(f"'{positive}'")
    return (
        f"<p>{glossary.link('f1')}, {glossary.link('precision')} and {glossary.link('recall')} are about {name}, the positive class "
        "(<code>positive_class:</code> in the config chooses the other).</p>"
    )


def _metrics_table(metrics: dict[str, dict[str, float]], positive=None) -> str:
    names = list(metrics.get("validation", {}))
    rows = []
    for name in names:
        meaning, direction = metric_words(name, positive)
        spread = metrics.get("validation_std", {}).get(name)  # with folds: the folds' standard deviation
        values = f"<td class='number'>{number(metrics['validation'][name])}" + (f" ± {spread:.2g}" if spread is not None else "") + "</td>"
        values += f"<td class='number'>{number(metrics.get('train', {}).get(name, float('nan')))}</td>"
        rows.append(f"<tr><th>{glossary.link(name)}</th>{values}<td>{escape(meaning)} ({escape(direction)})</td></tr>")
    return (
        "<table><tr><th>metric</th><th>validation rows</th><th>training rows</th><th>what it means</th></tr>" + "".join(rows) + "</table>"
    )


def _rows(rows: dict[str, int], folds: int | None, train_measured: int | None = None) -> str:
    sample = (
        f" The training rows' scores are measured on a random {train_measured:,} of them: enough to hold against the validation "
        "rows' scores, at a fraction of the time."
        if train_measured
        else ""
    )
    if folds:
        return (
            f"<p>{rows['train']:,} rows, each validated once by {folds}-fold cross-validation; the final model trained on all of them."
            f"{sample}</p>"
        )
    return f"<p>{rows['train']:,} training rows and {rows['validation']:,} validation rows.{sample}</p>"


def _periods_table(periods: list) -> str:
    """The validation rows' scores per period: a model that gets worse with time shows it here."""
    if not periods:
        return ""
    names = list(dict.fromkeys(name for period in periods for name in period.metrics))
    head = "".join(f"<th>{glossary.link(name)}</th>" for name in names)
    rows = "".join(
        f"<tr><th>{escape(period.label)}</th><td class='number'>{period.rows}</td>"
        + "".join(f"<td class='number'>{number(period.metrics[name])}</td>" if name in period.metrics else "<td>-</td>" for name in names)
        + "</tr>"
        for period in periods
    )
    return (
        "<h3>Validation by period</h3><p>The validation rows are the latest by time; here they are scored period by period.</p>"
        f"<table><tr><th>period</th><th>rows</th>{head}</tr>{rows}</table>"
    )


def _limits(limits: list[str]) -> str:
    if not limits:
        return "<p class='ok'>None found by the usual checks (data size, class balance, missing values, identifiers, leaks, overfitting, training length).</p>"
    return "<ul class='limits'>" + "".join(f"<li>{glossary.linked(item)}</li>" for item in limits) + "</ul>"


def figure(title: str, caption: str, path: Path, linked: bool = False) -> str:
    """A figure inlined; `linked`: its caption's terms link to the page's glossary (the training report has one)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    words = glossary.linked(caption) if linked else escape(caption)
    return f"<figure><h3>{escape(title)}</h3><img alt='{escape(title)}' src='data:image/png;base64,{data}'><figcaption>{words}</figcaption></figure>"


def _columns_table(columns: list[Column]) -> str:
    rows = "".join(
        f"<tr><th>{escape(c.name)}</th><td>{escape(c.role)}</td><td>{escape(c.kind)}</td><td class='number'>{c.missing:,}</td><td class='number'>{c.distinct:,}</td><td>{escape(c.example)}</td></tr>"
        for c in columns
    )
    return "<table><tr><th>column</th><th>role</th><th>kind</th><th>missing</th><th>distinct</th><th>values</th></tr>" + rows + "</table>"


def titled_list(title: str, items: list[str]) -> str:
    """A section of sentences (errors, warnings); "None." when there are none."""
    if not items:
        return f"<h2>{escape(title)}</h2><p class='ok'>None.</p>"
    return f"<h2>{escape(title)}</h2><ul class='limits'>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"
