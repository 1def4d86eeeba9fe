"""A typed frame reaches CatBoost as FeaturesData (`Bundle._features_data`), not as the frame itself.

The two must give the same predictions bit for bit, on every kind of value the typing rule makes:
numbers of any size (past float32's range, subnormal, infinite, missing) and text of any kind.
The reference is CatBoost's own conversion of the frame (`CatBoost.predict(frame)`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import train_model
from releaseml.data.schema import REGRESSION
from releaseml.model import bundle

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.sampled_from([0.0, -0.0, 3.4e38, 3.5e38, -1e300, 1e-45, 1e-320, np.nan]),
)
TEXT = st.one_of(st.text(max_size=30), st.sampled_from(["", "Biscoe", "Dream", "male", "female", "1", "1.0", "True", " x "]))


def _frames(model: bundle.Bundle, rows: st.SearchStrategy[int]):
    kinds = model.schema.kinds

    @st.composite
    def frame(draw):
        count = draw(rows)
        columns = {}
        for name in model.schema.features:
            if kinds[name] == "numeric":
                columns[name] = np.array(draw(st.lists(NUMBERS, min_size=count, max_size=count)), dtype=np.float64)
            else:
                columns[name] = pd.Series(draw(st.lists(TEXT, min_size=count, max_size=count)), dtype=object)
        return pd.DataFrame(columns)

    return frame()


def _catboost_on_the_frame(model: bundle.Bundle, frame: pd.DataFrame) -> np.ndarray:
    kind = "RawFormulaVal" if model.schema.task == REGRESSION else "Probability"
    return model.model.predict(frame, prediction_type=kind, thread_count=1)


def _predicted(model: bundle.Bundle, frame: pd.DataFrame) -> np.ndarray:
    prediction = model.predict(frame)
    return prediction.values if model.schema.task == REGRESSION else prediction.probabilities


@pytest.fixture(scope="module")
def categories_only(tmp_path_factory, penguins):
    """A model with no number features at all (FeaturesData without a number matrix)."""
    frame = penguins[["island", "sex", "species"]]
    paths = train_model(tmp_path_factory.mktemp("categories"), {"target": "species", "catboost": {"iterations": 20}}, frame)
    return bundle.load(paths.model_dir)


@pytest.fixture(scope="module")
def numbers_only(tmp_path_factory, penguins):
    frame = penguins[["bill_length_mm", "flipper_length_mm", "body_mass_g"]]
    paths = train_model(tmp_path_factory.mktemp("numbers"), {"target": "body_mass_g", "catboost": {"iterations": 20}}, frame)
    return bundle.load(paths.model_dir)


def _check_against_catboost(model: bundle.Bundle, examples: int) -> None:
    @settings(max_examples=examples)
    @given(_frames(model, st.integers(1, 300)))
    def check(frame):
        with np.errstate(over="ignore"):
            expected = _catboost_on_the_frame(model, frame)
        np.testing.assert_array_equal(_predicted(model, frame), expected)

    check()


@pytest.mark.parametrize("fixture", ["species_model", "mass_model"])
def test_features_data_predicts_as_catboost_does_on_the_frame(fixture, request):
    _check_against_catboost(bundle.load(request.getfixturevalue(fixture).model_dir), examples=150)


def test_models_without_numbers_or_without_categories(categories_only, numbers_only):
    for model in (categories_only, numbers_only):
        _check_against_catboost(model, examples=60)


def test_the_frames_column_order_does_not_matter(species_model, penguins):
    """Features are matched to the model by name: a frame in another order predicts the same."""
    from releaseml.data.schema import model_frame

    model = bundle.load(species_model.model_dir)
    frame = model_frame(penguins, model.schema)
    np.testing.assert_array_equal(model.predict(frame[frame.columns[::-1]]).probabilities, model.predict(frame).probabilities)
