"""The report's figures, drawn with matplotlib (Agg: no screen needed) and saved as PNG files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # column names and labels are data, never markup ($, ^, _)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from releaseml.report import findings  # noqa: E402
from releaseml.training import evaluation  # noqa: E402

DPI = 110
TRAIN_COLOR, VALIDATION_COLOR = "#4C72B0", "#DD8452"


def short_number(value: float, _position=None) -> str:
    """A tick label that stays short: 2,500, 15k, 1.2M, 3B (raw ticks like 10000 20000 run into each other)."""
    for from_size, unit, suffix in ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(value) >= from_size:
            return f"{value / unit:,.4g}{suffix}"
    return f"{value:,.4g}"


def readable(axes, which: str = "xy") -> None:
    """At most six short ticks on each numeric axis named in `which`, whatever the numbers' size."""
    for axis in (axes.xaxis if "x" in which else None, axes.yaxis if "y" in which else None):
        if axis is not None:
            axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            axis.set_major_formatter(FuncFormatter(short_number))


def save(figure, path: Path) -> Path:
    """Lay the figure out once and draw it once into a PNG file. `tight_layout` leaves a placeholder layout
    engine behind, for which `savefig` would first draw the whole figure once more (a fifth of the report's time)."""
    figure.tight_layout()
    figure.set_layout_engine(None)
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def learning_curves(
    history: dict[str, dict[str, list[float]]], metric: str, best_iteration: int | None, path: Path, shown: str | None = None
) -> Path:
    """The loss per iteration on training and validation rows; the dashed line is the tree count kept."""
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for split, color, label in (("learn", TRAIN_COLOR, "training rows"), ("validation", VALIDATION_COLOR, "validation rows")):
        values = history.get(split, {}).get(metric)
        if values:
            axes.plot(np.arange(1, len(values) + 1), values, color=color, label=label)
    if best_iteration is not None:
        axes.axvline(best_iteration + 1, color="grey", linestyle="--", label=f"kept: {best_iteration + 1} trees")
    shown = shown or metric  # our name for CatBoost's loss (logloss for MultiClass), as the scores table says
    axes.set(xlabel="iteration (trees)", ylabel=shown, title=f"Learning curves ({shown}, lower is better)")
    readable(axes)
    axes.legend()
    axes.grid(alpha=0.3)
    return save(figure, path)


def feature_importance(names: list[str], values: np.ndarray, path: Path) -> Path:
    return _ranked_bars(names, values, "importance (% of prediction change)", "Feature importance", path)


def _ranked_bars(names: list[str], values: np.ndarray, label: str, title: str, path: Path) -> Path:
    """One horizontal bar per feature, the largest on top."""
    order = np.argsort(values)
    figure, axes = plt.subplots(figsize=(6.4, max(2.0, 0.35 * len(names) + 1)))
    axes.barh(np.asarray(names)[order], values[order], color=TRAIN_COLOR)
    axes.set(xlabel=label, title=title)
    readable(axes, "x")
    axes.grid(axis="x", alpha=0.3)
    return save(figure, path)


def row_shares(counts: np.ndarray) -> np.ndarray:
    """Each row of a confusion matrix as shares of its true class: 43 missed of 60 is dark however rare the class."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)


def confusion_matrix(counts: np.ndarray, classes: list[str], path: Path) -> Path:
    """Coloured by the share of each true class (row), each cell holding its count and that share."""
    shares = row_shares(counts)
    size = max(3.6, 0.8 * len(classes) + 2)
    figure, axes = plt.subplots(figsize=(size + 1.2, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set(
        xticks=range(len(classes)),
        yticks=range(len(classes)),
        xticklabels=classes,
        yticklabels=[f"{name} ({total:,})" for name, total in zip(classes, counts.sum(axis=1))],
        xlabel="predicted class",
        ylabel="true class (validation rows)",
        title="Confusion matrix: share of each true class",
    )
    plt.setp(axes.get_xticklabels(), rotation=30, ha="right")
    small = "small" if len(classes) > 8 else "medium"
    for (row, column), count in np.ndenumerate(counts):
        share = shares[row, column]
        axes.text(
            column, row, f"{count:,}\n{_share(share)}", ha="center", va="center", fontsize=small, color="white" if share > 0.5 else "black"
        )
    colorbar = figure.colorbar(image, ax=axes, fraction=0.046)
    colorbar.set_label("share of the true class's rows")
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
    return save(figure, path)


def _share(share: float) -> str:
    """A percentage that never rounds a few rows away: 1 of 582 is "<1%", not "0%"."""
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{share:.0%}"


def roc_curves(scored: evaluation.Scored, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    for name, positive, scores in evaluation.one_vs_rest(scored):
        fpr, tpr, area = evaluation.roc_curve(positive, scores)
        axes.plot(fpr, tpr, label=f"{name} (AUC {area:.3f})")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="guessing")
    title = f"ROC curve {_subject(scored)}"
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title=title, xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(alpha=0.3)
    return save(figure, path)


def pr_curves(scored: evaluation.Scored, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    for name, positive, scores in evaluation.one_vs_rest(scored):
        recall, precision, average = evaluation.pr_curve(positive, scores)
        axes.step(recall, precision, where="post", label=f"{name} (AP {average:.3f})")
    title = f"Precision-recall {_subject(scored)}"
    axes.set(xlabel="recall", ylabel="precision", title=title, xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower left", fontsize="small")
    axes.grid(alpha=0.3)
    return save(figure, path)


def _subject(scored: evaluation.Scored) -> str:
    """Whom the curves are about (on the validation rows): the positive class of a binary model, else each class against the rest."""
    return f"for '{scored.classes[1]}' (validation)" if len(scored.classes) == 2 else "per class (validation rows)"


def predicted_vs_actual(scored: evaluation.Scored, target: str, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    axes.scatter(scored.truth, scored.predicted, s=12, alpha=0.6, color=TRAIN_COLOR)
    low, high = float(min(scored.truth.min(), scored.predicted.min())), float(max(scored.truth.max(), scored.predicted.max()))
    axes.plot([low, high], [low, high], color="grey", linestyle="--", label="perfect")
    axes.set(xlabel=f"actual {target}", ylabel=f"predicted {target}", title="Predicted vs actual (validation rows)")
    readable(axes)
    axes.legend()
    axes.grid(alpha=0.3)
    return save(figure, path)


def residuals(scored: evaluation.Scored, target: str, path: Path) -> Path:
    errors = scored.predicted - scored.truth
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6))
    left.scatter(scored.predicted, errors, s=12, alpha=0.6, color=TRAIN_COLOR)
    left.axhline(0, color="grey", linestyle="--")
    left.set(xlabel=f"predicted {target}", ylabel="error (predicted - actual)", title="Errors by prediction")
    right.hist(errors, bins=30, color=VALIDATION_COLOR)
    right.set(xlabel="error (predicted - actual)", ylabel="rows", title="Distribution of errors")
    for axes in (left, right):
        readable(axes)
        axes.grid(alpha=0.3)
    return save(figure, path)


def target_distribution(values, task: str, target: str, path: Path) -> Path:
    """Class balance (bars) or the spread of the value to predict (histogram)."""
    figure, axes = plt.subplots(figsize=(6.4, 3.2))
    if task == "regression":
        axes.hist(values.dropna().astype(float), bins=30, color=TRAIN_COLOR)
        axes.set(xlabel=target, ylabel="rows", title=f"Distribution of {target}")
        readable(axes)
    else:
        counts = findings.counts_as_text(values)
        title = f"Class balance of {target}"
        if len(counts) > evaluation.MAX_CLASSES_SHOWN:
            title += f" ({evaluation.MAX_CLASSES_SHOWN} most frequent of {len(counts)} classes)"
            counts = counts.iloc[: evaluation.MAX_CLASSES_SHOWN]
        axes.bar(counts.index, counts.to_numpy(), color=TRAIN_COLOR)
        axes.set(xlabel=target, ylabel="rows", title=title)
        readable(axes, "y")
        plt.setp(axes.get_xticklabels(), rotation=30, ha="right")
    axes.grid(axis="y", alpha=0.3)
    return save(figure, path)


def compared_shares(bins: list[str], then: list[float], now: list[float], name: str, path: Path) -> Path:
    """Side by side bars: the share of rows per bin in training and in the data checked."""
    positions = np.arange(len(bins))
    figure, axes = plt.subplots(figsize=(max(6.4, 0.6 * len(bins) + 2), 3.6))
    axes.bar(positions - 0.2, then, width=0.4, color=TRAIN_COLOR, label="training")
    axes.bar(positions + 0.2, now, width=0.4, color=VALIDATION_COLOR, label="data checked")
    axes.set_xticks(positions, bins, rotation=30, ha="right")
    axes.set(ylabel="share of rows", title=f"{name}: training against the data checked")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return save(figure, path)


def mean_contributions(names: list[str], values: np.ndarray, score: str, path: Path) -> Path:
    """Mean |SHAP contribution| per feature: how far each column moves a prediction (either way), on average."""
    return _ranked_bars(names, values, f"mean |contribution| to {score}", "What moves the predictions", path)


@dataclass
class Direction:
    """Whose score contributions push: a class's log-odds (named in each title), or the predicted value."""

    score: str  # "the log-odds of 'yes'", "the predicted value"
    toward: str = ""  # "'yes'"; empty for regression


@dataclass
class Panel:
    """One feature's values on the validation rows and their contributions toward one Direction."""

    feature: str
    values: np.ndarray
    contributions: np.ndarray
    categorical: bool


def dependence(rows: list[tuple[Direction, list[Panel]]], path: Path) -> Path:
    """A row of panels per direction (the positive class, each class, or the value), a panel per top feature: value against contribution."""
    columns = max(len(panels) for _, panels in rows)
    figure, grid = plt.subplots(len(rows), columns, figsize=(4.2 * columns, 3.3 * len(rows) + 0.5), squeeze=False, sharey=True)
    for axes_row, (direction, panels) in zip(grid, rows):
        for axes, panel in zip(axes_row, panels):
            _dependence_panel(axes, panel)
            axes.set_title(f"{panel.feature}, toward {direction.toward}" if direction.toward else panel.feature, fontsize="medium")
        axes_row[0].set_ylabel(f"contribution to\n{direction.score}")
        for spare in axes_row[len(panels) :]:
            spare.set_visible(False)
    whose = rows[0][0].score if len(rows) == 1 else "the log-odds of each class (a row per class)"
    figure.suptitle(f"How the strongest columns move {whose}")
    return save(figure, path)


def _dependence_panel(axes, panel: Panel) -> None:
    """Numbers on a readable axis; categories side by side, jittered so the dots of one value spread out."""
    column, contribution = panel.values, panel.contributions
    if panel.categorical:
        labels = sorted({str(v) for v in column})[:20]
        positions = {label: i for i, label in enumerate(labels)}
        keep = np.array([str(v) in positions for v in column])
        spots = np.array([positions[str(v)] for v in column[keep]], dtype=float)
        jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(spots))
        axes.scatter(spots + jitter, contribution[keep], s=10, alpha=0.6, color=TRAIN_COLOR)
        axes.set_xticks(range(len(labels)), [label or "(missing)" for label in labels], rotation=30, ha="right")
        readable(axes, "y")
    else:
        axes.scatter(column.astype(float), contribution, s=10, alpha=0.6, color=TRAIN_COLOR)
        readable(axes)
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_xlabel(panel.feature)
    axes.grid(alpha=0.3)


def tradeoff(curve, chosen: float | None, costs: tuple[float, float] | None, positive: str, path: Path) -> Path:
    """Recall, precision and the share of rows flagged at every threshold; with costs, the total cost.
    The chosen threshold (and 0.5) are marked, so the point the model runs at is seen on the curve."""
    thresholds = np.clip(curve.thresholds, 0, 1)
    figure, axes = plt.subplots(figsize=(6.4, 4.8))
    axes.step(thresholds, curve.recall, where="post", color=TRAIN_COLOR, label=f"recall: share of '{positive}' caught")
    flagged = (curve.true_positives + curve.false_positives) > 0  # precision means nothing where no row is flagged
    precision = np.where(flagged, curve.precision, np.nan)
    axes.step(thresholds, precision, where="post", color=VALIDATION_COLOR, label=f"precision: share of flagged that are '{positive}'")
    axes.step(thresholds, curve.flagged_share, where="post", color="grey", linestyle=":", label="share of rows flagged")
    axes.set(xlabel=f"threshold: P('{positive}') at which a row is flagged", ylabel="share", xlim=(0, 1), ylim=(0, 1.02))
    if costs is not None:
        cost_axes = axes.twinx()
        total = costs[0] * curve.false_positives + costs[1] * curve.false_negatives
        cost_axes.step(thresholds, total, where="post", color="#55A868", label="total cost")
        cost_axes.set_ylabel("total cost on the validation rows")
        readable(cost_axes, "y")
    axes.axvline(0.5, color="grey", linestyle="--", linewidth=1, label="0.5")
    if chosen is not None:
        axes.axvline(min(chosen, 1), color="black", linewidth=1.5, label=f"chosen: {chosen:.3g}")
    handles, names = axes.get_legend_handles_labels()
    if costs is not None:
        more = cost_axes.get_legend_handles_labels()
        handles, names = handles + more[0], names + more[1]
    axes.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
    axes.grid(alpha=0.3)
    axes.set_title(f"Trade-off by threshold (validation rows, '{positive}' is positive)")
    return save(figure, path)


def reliability(predicted: np.ndarray, observed: np.ndarray, counts: np.ndarray, positive: str, path: Path) -> Path:
    """Mean predicted probability against the observed share per bin: on the diagonal, the probabilities mean what they say."""
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    axes.plot(predicted, observed, marker="o", color=TRAIN_COLOR, label="validation rows, by bins of equal size")
    for x, y, n in zip(predicted, observed, counts):
        axes.annotate(f"{int(n)}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize="x-small", color="grey")
    axes.set(xlabel=f"predicted P('{positive}')", ylabel=f"observed share of '{positive}'", xlim=(0, 1), ylim=(0, 1))
    axes.set_title("Calibration")
    axes.legend(loc="upper left", fontsize="small")
    axes.grid(alpha=0.3)
    return save(figure, path)
