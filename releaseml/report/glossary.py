"""The report's words for readers who know their data but not machine learning: a glossary at the
end of the page, and links to it from the prose (captions, the headline, the limits, metric names)."""

from __future__ import annotations

import re
from html import escape

# term: (anchor, what it means in one or two plain sentences). Anchors are the page's `id`s.
TERMS = {
    "logloss": (
        "term-logloss",
        "How far the predicted probabilities are from what happened, averaged over rows: confident right answers cost almost nothing, "
        "confident wrong ones cost a lot. Lower is better; compare it with the logloss of always predicting each class's share of rows.",
    ),
    "AUC": (
        "term-auc",
        "Area under the ROC curve: the chance that a random row of the class gets a higher probability than a random row of the others. "
        "1 is a perfect ranking, 0.5 is guessing; it does not depend on a threshold.",
    ),
    "PSI": (
        "term-psi",
        "Population stability index: how far a column's spread over bins has moved between the training data and newer data. "
        "Below 0.1 is stable, 0.1 to 0.25 a moderate shift, above 0.25 a large one.",
    ),
    "SHAP": (
        "term-shap",
        "A way of splitting one prediction into a push from each column (its SHAP value, or contribution): the pushes and a baseline "
        "add up to the model's score for that row. Averaged over rows, they show which columns matter.",
    ),
    "log-odds": (
        "term-log-odds",
        "The scale a classifier adds its pushes on: log(p / (1 - p)) for a probability p, so 0 is 50%, +2 about 88% and -2 about 12%. "
        "With several classes each class has such a score, and the probabilities come from comparing them.",
    ),
    "f1": (
        "term-f1",
        "One number that balances precision and recall (their harmonic mean): high only when both are. "
        "f1_weighted and f1_macro average it over the classes.",
    ),
    "precision": (
        "term-precision",
        "Of the rows the model puts in a class, the share that really belong to it: low precision means many false alarms.",
    ),
    "recall": (
        "term-recall",
        "Of the rows that really belong to a class, the share the model finds: low recall means many are missed.",
    ),
    "threshold": (
        "term-threshold",
        "The probability above which the model answers a class: 0.5 unless you choose another. "
        "A lower threshold catches more rows of the class, at the cost of more false alarms.",
    ),
    "rmse": (
        "term-rmse",
        "Root mean squared error: the typical size of an error in the target's units, with large errors counting more than small ones.",
    ),
    "mae": ("term-mae", "Mean absolute error: the average size of an error in the target's units."),
    "r2": (
        "term-r2",
        "The share of the target's variation the model explains: 1 is perfect, 0 is no better than always predicting the average, "
        "below 0 is worse than that.",
    ),
}

# The spellings that link to each term (case-insensitive, whole words only).
_SPELLINGS = {"f1_weighted": "f1", "f1_macro": "f1", **{term.lower(): term for term in TERMS}}
_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(re.escape(s) for s in sorted(_SPELLINGS, key=len, reverse=True)) + r")(?![\w-])", re.I)


def term_of(word: str) -> str | None:
    """The glossary term a word (a metric name, say) stands for, if any."""
    return _SPELLINGS.get(word.lower())


def link(word: str) -> str:
    """The word, escaped, as a link to its glossary entry (just escaped when it has none)."""
    term = term_of(word)
    return f"<a href='#{TERMS[term][0]}'>{escape(word)}</a>" if term else escape(word)


def linked(text: str) -> str:
    """Plain text as HTML: `quoted` config as code, and the first mention of each glossary term a link to its entry."""
    seen: set[str] = set()

    def replace(match: re.Match) -> str:
        term = term_of(match.group(0))
        if term in seen:
            return match.group(0)
        seen.add(term)
        return f"<a href='#{TERMS[term][0]}'>{match.group(0)}</a>"

    pieces = escape(text).split("`")
    if len(pieces) % 2 == 0:  # an unmatched backtick: no code spans
        pieces = ["`".join(pieces)]
    return "".join(f"<code>{piece}</code>" if i % 2 else _PATTERN.sub(replace, piece) for i, piece in enumerate(pieces))


def section() -> str:
    """The glossary itself, for the end of the page."""
    entries = "".join(f"<dt id='{anchor}'>{escape(term)}</dt><dd>{escape(meaning)}</dd>" for term, (anchor, meaning) in TERMS.items())
    return f"<h2 id='glossary'>Glossary</h2><dl class='glossary'>{entries}</dl>"
