"""What a training run counts about its data (the profile, the report's data section and known
limits) is counted once and the quick way; on generated columns it equals the plain way it replaced.

The plain ways are pandas' own (`astype(str).value_counts()`, `nunique`, `searchsorted`); the quick
ways count a Categorical by its codes, count text as it is, count each edge's "at most", and read
a column's limits from its counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releaseml.data import profile, values
from releaseml.data.schema import Schema
from releaseml.report import figures, findings
from releaseml.training import evaluation
from releaseml.training.evaluation import Scored

# Few distinct texts, so that counts tie often (ties keep the order the values first came in).
text = st.sampled_from(["a", "b", "c", "d", "", "B", "a ", "1", "1.0", "True"])


@settings(max_examples=300)
@given(cells=st.lists(text, max_size=60))
def test_a_categorical_is_profiled_as_its_text(cells):
    """Training gives the profile the categories as Categoricals (as CatBoost gets them); the profile is
    the one the same cells as text give, ties and missing ("") included."""
    as_text = pd.Series(np.array(cells, dtype=object), dtype=object)
    as_categories = pd.Series(pd.Categorical(cells))
    assert profile._feature(as_categories, values.CATEGORICAL) == profile._feature(as_text, values.CATEGORICAL)


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
number = st.one_of(finite, st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0]))


@settings(max_examples=300)
@given(numbers=st.lists(number, max_size=60), edges=st.lists(st.one_of(finite, st.sampled_from([math.inf, math.nan])), max_size=9))
def test_numbers_are_binned_as_a_binary_search_bins_them(numbers, edges):
    numbers, edges = np.array(numbers, dtype=float), np.unique(np.array(edges, dtype=float))  # sorted, as the profile keeps them
    plain = np.bincount(np.searchsorted(edges, numbers, side="left"), minlength=len(edges) + 1) / max(len(numbers), 1)
    np.testing.assert_array_equal(profile.bin_shares(numbers, edges), plain)


cell = st.one_of(text, st.none(), st.just(math.nan), st.sampled_from([0.0, -0.0, 1, True]))


@settings(max_examples=300)
@given(cells=st.lists(cell, max_size=60))
def test_a_text_column_is_counted_as_it_is_and_as_text_alike(cells):
    """The report's data section counts a column of text as it is (most are); counted as text it gives the
    same most frequent values, in the same order, and the same number of distinct values."""
    column = pd.Series(cells, dtype=object)
    present = column.dropna()
    counts, distinct = findings._text_counts(column)
    pd.testing.assert_series_equal(counts, present.astype(str).value_counts(), check_index_type=False)
    assert distinct == present.nunique() and len(column) - counts.sum() == column.isna().sum()


def plain_column_limits(frame: pd.DataFrame, name: str, kind: str) -> list[str]:
    """A column's known limits counted from the column itself (the plain way, as it was)."""
    column = frame[name]
    if column.nunique(dropna=False) <= 1:
        only = "missing" if column.isna().all() else str(column.dropna().iloc[0])
        return [
            f"{name} has one value in every row ({only}): it cannot help the model. List it under `drop:`, or find out why it never changes."
        ]
    found = []
    missing = column.isna().mean()
    if missing > findings.MOSTLY_MISSING:
        found.append(f"{name} is missing in {missing:.0%} of rows; the model can use it, but it says little where it is missing.")
    if kind == values.CATEGORICAL:
        distinct = column.nunique()
        if distinct > 50 and distinct > 0.5 * len(frame):
            found.append(
                f"{name} has {distinct:,} different values in {len(frame):,} rows: it looks like an identifier. Identifiers do not generalise; list it under `drop:`."
            )
    return found


many = st.one_of(text, st.integers(0, 500).map(str), st.none())


@settings(max_examples=200)
@given(rows=st.lists(st.tuples(many, st.one_of(st.none(), finite), st.sampled_from(["x", None])), min_size=1, max_size=120))
def test_known_limits_read_from_the_data_section_are_the_ones_counted_again(rows):
    """A column's limits (one value, mostly missing, an identifier) come from the data section's counts."""
    frame = pd.DataFrame(rows, columns=["t", "n", "y"]).astype({"t": object, "n": float, "y": object})
    schema = Schema(target="y", task="regression", features=["t", "n"], kinds={"t": values.CATEGORICAL, "n": values.NUMERIC})
    described = {column.name: column for column in findings.columns(frame, schema)}
    for name in schema.features:
        found = findings._column_limits(frame, name, schema.kinds[name], described[name])
        assert found == plain_column_limits(frame, name, schema.kinds[name]), (name, frame[name].tolist())


@settings(max_examples=200)
@given(cells=st.lists(st.one_of(text, cell), min_size=1, max_size=60))
def test_classes_are_counted_as_text_is(cells):
    """The class-balance figure and the class limits count a target of text as it is: the counts and order of
    writing it as text first (and a column of anything else is written as text first)."""
    column = pd.Series(cells, dtype=object)
    pd.testing.assert_series_equal(findings.counts_as_text(column), column.astype(str).value_counts(), check_index_type=False)


label = st.sampled_from(["no", "yes", 1, 2, 0.5, "True"])


@settings(max_examples=200)
@given(rows=st.lists(st.tuples(label, label), min_size=1, max_size=80))
def test_the_confusion_matrix_counts_every_row_once(rows):
    classes = list(dict.fromkeys(value for row in rows for value in row))
    scored = Scored(
        truth=np.array([t for t, _ in rows], dtype=object), predicted=np.array([p for _, p in rows], dtype=object), classes=classes
    )
    plain = np.zeros((len(classes), len(classes)), dtype=int)
    for truth, predicted in rows:  # row by row, by the labels' text
        plain[[str(c) for c in classes].index(str(truth)), [str(c) for c in classes].index(str(predicted))] += 1
    np.testing.assert_array_equal(evaluation.confusion(scored), plain)


def test_a_figure_is_drawn_once(tmp_path, monkeypatch):
    """`figures.save` lays a figure out and draws it once: `tight_layout` left a layout engine behind, for which
    `savefig` first drew the whole figure once more (the file is the same either way)."""
    from matplotlib.figure import Figure

    draws = []
    drawn = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda figure, renderer: draws.append(1) or drawn(figure, renderer))
    figures.feature_importance(["a", "b"], np.array([60.0, 40.0]), tmp_path / "f.png")
    assert len(draws) == 1 and (tmp_path / "f.png").stat().st_size > 0


def test_columns_worked_on_side_by_side_come_back_in_order_and_errors_are_raised():
    """The profile and the data section summarise columns on a thread per core (`threads.each`): the
    results in the columns' order, whatever order they finish in; a column's error is raised as it is."""
    import time

    from releaseml.common import threads

    def slow_first(number: int) -> int:
        time.sleep(0.02 if number == 0 else 0.0)
        if number == 7:
            raise ValueError("column 7")
        return number * number

    assert threads.each(slow_first, range(7)) == [n * n for n in range(7)]
    with pytest.raises(ValueError, match="column 7"):
        threads.each(slow_first, range(9))
