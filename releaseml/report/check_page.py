"""The data check as a page like the training report: one sentence, the errors and warnings, a
table of columns sorted by drift, and for each drifted column its training and scoring shares."""

from __future__ import annotations

from html import escape
from pathlib import Path

from releaseml.checking.data_check import CheckResult, ColumnCheck
from releaseml.report import FIGURES_DIR, figures, page

CHECK_FILE = "check.html"


def write(out_dir: Path, result: CheckResult) -> Path:
    figure_dir = out_dir / FIGURES_DIR
    figure_dir.mkdir(parents=True, exist_ok=True)
    drifted = [c for c in result.columns if c.drift in ("moderate", "large") or c.unseen_share > 0]
    shown = [
        (
            f"{c.name}: {c.drift} drift (PSI {c.psi:.2f})" if c.psi is not None else c.name,
            "Share of rows in each bin, in training and in the data checked"
            + (f"; {c.unseen_share:.1%} of the values checked were never seen in training." if c.unseen_share else "."),
            figures.compared_shares(c.bins, c.shares_then, c.shares_now, c.name, figure_dir / f"drift_{_file_name(c.name)}.png"),
        )
        for c in drifted
    ]
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Data check</title><style>{page.STYLE}</style></head><body>",
        "<h1>Data check</h1>",
        f"<p class='headline'>{escape(result.sentence())}</p>",
        page.titled_list("Errors (the model would refuse these rows)", result.errors),
        page.titled_list("Warnings", result.warnings),
        "<h2>Columns, most drifted first</h2>",
        _table(result.columns) if result.columns else "<p>No column compared (see above).</p>",
        "<p>PSI (population stability index) compares each column's spread over the training bins: below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 large.</p>",
        *(["<h2>Drifted columns</h2>"] + [page.figure(title, caption, path) for title, caption, path in shown] if shown else []),
        "</body></html>",
    ]
    path = out_dir / CHECK_FILE
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _table(columns: list[ColumnCheck]) -> str:
    rows = "".join(
        f"<tr><th>{escape(c.name)}</th><td>{escape(c.kind)}</td><td class='number'>{'-' if c.psi is None else f'{c.psi:.3f}'}</td>"
        f"<td>{escape(c.drift)}</td><td class='number'>{c.missing_then:.1%}</td><td class='number'>{c.missing_now:.1%}</td>"
        f"<td class='number'>{c.unseen_share:.1%}</td></tr>"
        for c in columns
    )
    head = (
        "<tr><th>column</th><th>kind</th><th>PSI</th><th>drift</th><th>missing in training</th><th>missing now</th><th>never seen</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)[:60] or "column"
