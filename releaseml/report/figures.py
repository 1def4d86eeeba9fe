"""The report's figures, drawn with matplotlib (Agg: no screen needed) and saved as PNG files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # column names and labels are data, never markup ($, ^, _)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

from releaseml.training import evaluation  # noqa: E402

DPI = 110
TRAIN_COLOR, VALIDATION_COLOR = "#4C72B0", "#DD8452"


def save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def learning_curves(history: dict[str, dict[str, list[float]]], metric: str, best_iteration: int | None, path: Path) -> Path:
    """The loss per iteration on training and validation rows; the dashed line is the tree count kept."""
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for split, color, label in (("learn", TRAIN_COLOR, "training rows"), ("validation", VALIDATION_COLOR, "validation rows")):
        values = history.get(split, {}).get(metric)
        if values:
            axes.plot(np.arange(1, len(values) + 1), values, color=color, label=label)
    if best_iteration is not None:
        axes.axvline(best_iteration + 1, color="grey", linestyle="--", label=f"kept: {best_iteration + 1} trees")
    axes.set(xlabel="iteration (trees)", ylabel=metric, title=f"Learning curves ({metric}, lower is better)")
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
    axes.grid(axis="x", alpha=0.3)
    return save(figure, path)


def confusion_matrix(counts: np.ndarray, classes: list[str], path: Path) -> Path:
    size = max(3.6, 0.8 * len(classes) + 2)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(counts, cmap="Blues")
    axes.set(
        xticks=range(len(classes)),
        yticks=range(len(classes)),
        xticklabels=classes,
        yticklabels=classes,
        xlabel="predicted class",
        ylabel="true class",
        title="Confusion matrix (validation rows)",
    )
    plt.setp(axes.get_xticklabels(), rotation=30, ha="right")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, column), count in np.ndenumerate(counts):
        axes.text(column, row, str(count), ha="center", va="center", color="white" if count > threshold else "black")
    figure.colorbar(image, ax=axes, fraction=0.046)
    return save(figure, path)


def roc_curves(scored: evaluation.Scored, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    for name, positive, scores in evaluation.one_vs_rest(scored):
        fpr, tpr, area = evaluation.roc_curve(positive, scores)
        axes.plot(fpr, tpr, label=f"{name} (AUC {area:.3f})")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="guessing")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve (validation rows)", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(alpha=0.3)
    return save(figure, path)


def pr_curves(scored: evaluation.Scored, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    for name, positive, scores in evaluation.one_vs_rest(scored):
        recall, precision, average = evaluation.pr_curve(positive, scores)
        axes.step(recall, precision, where="post", label=f"{name} (AP {average:.3f})")
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall (validation rows)", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower left", fontsize="small")
    axes.grid(alpha=0.3)
    return save(figure, path)


def predicted_vs_actual(scored: evaluation.Scored, target: str, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    axes.scatter(scored.truth, scored.predicted, s=12, alpha=0.6, color=TRAIN_COLOR)
    low, high = float(min(scored.truth.min(), scored.predicted.min())), float(max(scored.truth.max(), scored.predicted.max()))
    axes.plot([low, high], [low, high], color="grey", linestyle="--", label="perfect")
    axes.set(xlabel=f"actual {target}", ylabel=f"predicted {target}", title="Predicted vs actual (validation rows)")
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
        axes.grid(alpha=0.3)
    return save(figure, path)


def target_distribution(values, task: str, target: str, path: Path) -> Path:
    """Class balance (bars) or the spread of the value to predict (histogram)."""
    figure, axes = plt.subplots(figsize=(6.4, 3.2))
    if task == "regression":
        axes.hist(values.dropna().astype(float), bins=30, color=TRAIN_COLOR)
        axes.set(xlabel=target, ylabel="rows", title=f"Distribution of {target}")
    else:
        counts = values.astype(str).value_counts()
        title = f"Class balance of {target}"
        if len(counts) > evaluation.MAX_CLASSES_SHOWN:
            title += f" ({evaluation.MAX_CLASSES_SHOWN} most frequent of {len(counts)} classes)"
            counts = counts.iloc[: evaluation.MAX_CLASSES_SHOWN]
        axes.bar(counts.index, counts.to_numpy(), color=TRAIN_COLOR)
        axes.set(xlabel=target, ylabel="rows", title=title)
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


def mean_contributions(names: list[str], values: np.ndarray, path: Path) -> Path:
    """Mean |SHAP contribution| per feature: how far each column moves a prediction, on average."""
    return _ranked_bars(names, values, "mean |contribution| to the score (validation rows)", "What moves the predictions", path)


def dependence(panels: list[tuple[str, np.ndarray, np.ndarray, bool]], path: Path) -> Path:
    """Per top feature: its value against its contribution (a dot per validation row; categories side by side)."""
    figure, axes_row = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for axes, (name, column, contribution, categorical) in zip(axes_row[0], panels):
        if categorical:
            labels = sorted({str(v) for v in column})[:20]
            positions = {label: i for i, label in enumerate(labels)}
            keep = np.array([str(v) in positions for v in column])
            spots = np.array([positions[str(v)] for v in column[keep]], dtype=float)
            jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(spots))
            axes.scatter(spots + jitter, contribution[keep], s=10, alpha=0.6, color=TRAIN_COLOR)
            axes.set_xticks(range(len(labels)), [label or "(missing)" for label in labels], rotation=30, ha="right")
        else:
            axes.scatter(column.astype(float), contribution, s=10, alpha=0.6, color=TRAIN_COLOR)
        axes.axhline(0, color="grey", linewidth=0.8)
        axes.set(xlabel=name, ylabel="contribution", title=name)
        axes.grid(alpha=0.3)
    return save(figure, path)
