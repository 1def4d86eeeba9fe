import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releaseml.common.errors import UserError
from releaseml.config import config_file as config
from releaseml.config import hyperparameters
from releaseml.config.hyperparameters import flatten, unflatten

# JSON-like leaves, including strings that look like numbers, booleans, null or JSON.
tricky_text = st.sampled_from(["6", "0.1", "true", "null", "[1]", '"quoted"', "{}", "", " ", "a.b", "1e5", "NaN", "-"])
leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text() | tricky_text
json_like = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8
)
plain_key = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(lambda k: not k.startswith("_"))


@settings(max_examples=500)
@given(st.dictionaries(plain_key, json_like, max_size=6))
def test_round_trip_of_any_json_like_tree(tree):
    flat = flatten(tree)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in flat.items())
    assert json.loads(json.dumps(flat)) == flat  # survives hyperparameters.json
    assert unflatten(flat) == tree


columns = st.text(min_size=1, max_size=12)
valid_configs = st.fixed_dictionaries(
    {"target": columns},
    optional={
        "task": st.sampled_from(["auto", "regression", "binary", "multiclass"]),
        "features": st.none() | st.lists(columns, max_size=4),
        "drop": st.lists(columns, max_size=4),
        "categorical": st.lists(columns, max_size=4),
        "validation_fraction": st.floats(min_value=0.01, max_value=0.99),
        "seed": st.integers(min_value=0, max_value=2**32 - 1),
        "catboost": st.dictionaries(
            st.sampled_from(["depth", "iterations", "learning_rate", "l2_leaf_reg", "class_weights", "verbose"]), json_like, max_size=4
        ),
        "data": st.text(min_size=1)
        | st.fixed_dictionaries({}, optional={"training": st.none() | st.text(), "validation": st.none() | st.text()}),
    },
)


@settings(max_examples=300)
@given(valid_configs)
def test_round_trip_of_every_valid_config(raw):
    try:
        original = config.validate(raw)
    except UserError:
        return  # e.g. the target also listed under drop: not a valid config
    dumped = original.model_dump(mode="json", exclude_unset=True)
    rebuilt = config.validate(unflatten(flatten(dumped)))
    assert rebuilt == original
    assert unflatten(flatten(dumped)) == dumped


def test_values_read_naturally_and_stay_tunable():
    flat = flatten(
        {
            "target": "species",
            "seed": 7,
            "catboost": {"depth": 6, "learning_rate": 0.05, "verbose": False},
            "drop": ["id"],
            "features": None,
        }
    )
    assert flat == {
        "target": "species",
        "seed": "7",
        "catboost.depth": "6",
        "catboost.learning_rate": "0.05",
        "catboost.verbose": "false",
        "drop": '["id"]',
        "features": "null",
    }
    # a tuning job sends plain numbers as text: they come back as numbers
    assert unflatten({"catboost.depth": "8", "catboost.learning_rate": "0.1"}) == {"catboost": {"depth": 8, "learning_rate": 0.1}}


def test_strings_that_look_like_other_values_are_quoted():
    assert flatten({"target": "2020"}) == {"target": '"2020"'}
    assert unflatten({"target": '"2020"'}) == {"target": "2020"}


def test_keys_with_dots_travel_as_one_json_value():
    tree = {"catboost": {"class_weights": {"a.b": 1, "c": 2}}}
    assert flatten(tree) == {"catboost.class_weights": '{"a.b":1,"c":2}'}
    assert unflatten(flatten(tree)) == tree


def test_keys_sagemaker_adds_are_ignored():
    assert unflatten({"target": "y", "_tuning_objective_metric": "validation:auc", "sagemaker_region": '"eu-west-1"'}) == {"target": "y"}


def test_conflicting_keys_are_an_error():
    with pytest.raises(UserError, match="conflicts"):
        unflatten({"catboost": "6", "catboost.depth": "6"})


def test_sagemaker_limits_are_enforced_with_a_clear_message():
    with pytest.raises(UserError, match="at most 100"):
        flatten({"catboost": {f"p{i}": i for i in range(hyperparameters.MAX_COUNT + 1)}})
    with pytest.raises(UserError, match="SageMaker's limit is 2500"):
        flatten({"drop": ["x" * 50] * 60})
    with pytest.raises(UserError, match="SageMaker's limit is 256"):
        flatten({"catboost": {"k" * 300: 1}})
    assert len(flatten({"drop": ["x" * 10] * 100})["drop"]) <= hyperparameters.MAX_VALUE_LENGTH
