import pytest

from releaseml.common.errors import UserError
from releaseml.config import config_file as config


def problems(raw) -> str:
    with pytest.raises(UserError) as caught:
        config.validate(raw, source="releaseml.yaml")
    return str(caught.value)


def test_smallest_config_is_one_line_and_gets_defaults():
    c = config.validate({"target": "price"})
    assert c.task == "auto" and c.validation_fraction == 0.2 and c.seed == 42 and c.drop == [] and c.catboost == {}


def test_unknown_key_suggests_the_right_one():
    message = problems({"target": "y", "validaton_fraction": 0.3})
    assert "validaton_fraction: unknown key. Did you mean 'validation_fraction'?" in message
    assert "Allowed here:" in message and "catboost" in message


def test_unknown_nested_key_names_its_path():
    message = problems({"target": "y", "data": {"trainig": "x.csv"}})
    assert "data.trainig: unknown key. Did you mean 'training'?" in message


def test_missing_target_says_what_it_is():
    assert "target: required but missing (The column to predict.)" in problems({"task": "binary"})


def test_every_mistake_is_listed_with_what_was_given_and_what_is_allowed():
    message = problems({"target": "y", "task": "clustering", "validation_fraction": 1.5, "seed": "abc"})
    assert "has 3 problem(s)" in message
    assert "task: got 'clustering'; Input should be 'auto', 'regression', 'binary' or 'multiclass'" in message
    assert "validation_fraction: got 1.5; Input should be less than 1" in message
    assert "seed: got 'abc'" in message


def test_reserved_catboost_parameter_points_to_the_right_key():
    message = problems({"target": "y", "catboost": {"random_seed": 3}})
    assert "catboost: got {'random_seed': 3}; `random_seed` is set by releaseml: set the top-level `seed:` key" in message


def test_target_cannot_also_be_dropped():
    assert "the target column 'y' is also listed under `drop`" in problems({"target": "y", "drop": ["y"]})


def test_config_must_be_a_mapping():
    assert "expected a mapping of keys" in problems(["target", "y"])


def test_data_may_be_a_single_path():
    assert config.validate({"target": "y", "data": "d.csv"}).data.training == "d.csv"


def test_missing_file_says_how_to_create_one(tmp_path):
    with pytest.raises(UserError, match="not found: `releaseml init --data FILE --target COLUMN` makes one"):
        config.load(tmp_path / "releaseml.yaml")


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = tmp_path / "releaseml.yaml"
    path.write_text("target: y\ncatboost: {depth: 6\n")
    with pytest.raises(UserError, match=r"(?s)is not valid YAML.*releaseml.yaml\", line 2"):
        config.load(path)


def test_catboost_parameter_names_are_catboosts_own():
    """The list the config is checked against is the installed CatBoost's estimators' keyword arguments."""
    import inspect

    import catboost

    from releaseml.config import catboost_params

    names = set()
    for estimator in (catboost.CatBoostClassifier, catboost.CatBoostRegressor):
        names |= set(inspect.signature(estimator.__init__).parameters) - {"self"}
    assert catboost_params.NAMES == names
    assert set(catboost_params.KINDS) <= names


@pytest.mark.parametrize(
    "section, message",
    [
        ({"depht": 6}, "catboost.depht: not a CatBoost parameter. Did you mean 'depth'?"),
        ({"iterations": "lots"}, "catboost.iterations: got 'lots'; it takes a whole number of at least 1"),
        ({"iterations": True}, "catboost.iterations: got True; it takes a whole number"),
        ({"depth": 17}, "catboost.depth: got 17; it takes a whole number from 1 to 16"),
        ({"learning_rate": 0}, "catboost.learning_rate: got 0; it takes a number above 0"),
        ({"learning_rate": "fast"}, "catboost.learning_rate: got 'fast'; it takes a number above 0"),
        ({"rsm": 1.5}, "catboost.rsm: got 1.5; it takes a number above 0 and at most 1"),
        ({"grow_policy": "Deep"}, "catboost.grow_policy: got 'Deep'; it takes one of SymmetricTree, Depthwise, Lossguide"),
        ({"use_best_model": "yes"}, "catboost.use_best_model: got 'yes'; it takes true or false"),
        ({"verbose": -1}, "catboost.verbose: got -1; it takes true, false, or how often to log"),
    ],
)
def test_catboost_mistakes_are_named_before_any_data_is_read(section, message):
    with pytest.raises(UserError) as caught:
        config.validate({"target": "y", "catboost": section})
    assert message in str(caught.value)


def test_good_catboost_values_pass():
    section = {"depth": 6, "iterations": 500, "learning_rate": 0.05, "grow_policy": "Lossguide", "max_leaves": 31, "verbose": False}
    assert config.validate({"target": "y", "catboost": section}).catboost == section


def test_one_column_may_be_given_without_a_list():
    assert config.validate({"target": "y", "drop": "customer_id"}).drop == ["customer_id"]
