"""Training data is read strictly, by the same rules as serving, and a data path means one thing.

Each test makes a mistake in a file, a header or a data directory as a user would, runs what the
user runs (the container's `train`, `releaseml train-local`, the deploy's channel listing) and reads
the message.
"""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import make_ml_root, run_task
from releaseml.aws import workflows
from releaseml.common.errors import UserError
from releaseml.config import config_file as config
from releaseml.data import csvrows, data_paths, dataset

REPO = Path(__file__).resolve().parents[1]


def failure_of(tmp_path, run_train, cfg, text):
    paths = make_ml_root(tmp_path, cfg, text)
    assert run_train(paths) == 1
    return paths.failure.read_text()


def test_a_trailing_comma_on_the_first_data_row_is_an_error_naming_file_and_line(tmp_path, run_train):
    """pandas once took the first column as the row index: every column shifted and training exited 0."""
    text = "age,fare,survived\n22,7.25,0,\n38,71.3,1\n26,7.9,1\n35,53.1,1\n"
    reason = failure_of(tmp_path, run_train, {"target": "survived"}, text)
    assert "data.csv, line 2: the row has 4 value(s) but the header names 3 columns" in reason
    assert "trailing comma" in reason


def test_a_short_row_names_the_columns_that_have_no_value(tmp_path, run_train):
    text = "age,fare,town,survived\n22,7.25,a,0\n38,71.3\n"
    reason = failure_of(tmp_path, run_train, {"target": "survived"}, text)
    assert "line 3: the row has 2 value(s) but the header names 4 columns, so ['town', 'survived'] have no value" in reason
    assert "keep the commas" in reason


@pytest.mark.parametrize("header,target", [("sex,age,sex,survived", "survived"), ("sex,age,survived,survived", "survived")])
def test_a_column_named_twice_is_an_error_naming_it(tmp_path, run_train, header, target):
    """pandas once renamed it (`survived.1`): a repeated target became a feature, a leak with precision 1.0."""
    repeated = "survived" if header.count("survived") == 2 else "sex"
    text = header + "\n" + "\n".join(["m,1,m,0", "f,2,f,1", "m,3,m,1", "f,4,f,0"] * 10) + "\n"  # enough rows to train on
    reason = failure_of(tmp_path, run_train, {"target": target}, text)
    assert f"the header names column(s) ['{repeated}'] more than once" in reason


def test_true_false_columns_are_categories_spelled_true_and_false(tmp_path):
    file = tmp_path / "d.csv"
    file.write_text("flag,n,y\ntrue,1,a\nFALSE,NA,b\n,  2 ,c\n")
    frame = dataset.typed_frame(dataset.read_raw(file), set())
    assert frame["flag"].tolist() == ["True", "False", None]
    assert frame["n"].tolist()[0::2] == [1.0, 2.0] and frame["n"].isna().tolist() == [False, True, False]


def test_a_column_of_numbers_in_its_first_rows_and_text_later_is_text_as_a_whole(tmp_path, monkeypatch):
    """Columns whose first piece is all numbers are read by the C parser as numbers; text further down
    makes the whole file be read again as text, so the column is typed as if read all at once."""
    monkeypatch.setattr(csvrows, "PIECE_BYTES", 64)  # the first piece: a few rows
    rows = [f"{i},{i * 0.5},0{i},{i % 2}" for i in range(200)] + ["A7,1.5,0200,1", " 9 ,NA,0201,0"]
    file = tmp_path / "d.csv"
    file.write_text("code,x,zip,y\n" + "\n".join(rows) + "\n")
    frame = dataset.read_channel(file, ["zip"])
    assert frame["code"].tolist()[:3] == ["0", "1", "2"] and frame["code"].tolist()[-2:] == ["A7", "9"]
    assert frame["x"].dtype == "float64" and frame["x"].iloc[3] == 1.5 and pd.isna(frame["x"].iloc[201])
    assert frame["zip"].tolist()[:2] == ["00", "01"]  # declared text: never a number
    whole_text = dataset.typed_frame(pd.read_csv(file, dtype=str, keep_default_na=False), {"zip"})
    pd.testing.assert_frame_equal(frame, whole_text.astype({"code": object}))


@pytest.mark.parametrize(
    "yaml_text,message",
    [
        ("target: a\ntask: auto\ntarget: b\n", "the key 'target' is given twice (first on line 1); keep one"),
        ("target: a\nfeatures: [x, y, x]\n", "features: got ['x', 'y', 'x']; column(s) ['x'] listed more than once"),
        ("target: a\ndrop: [id, id]\n", "drop: got ['id', 'id']; column(s) ['id'] listed more than once"),
        ("target: a\ncatboost: {depth: 4, depth: 6}\n", "the key 'depth' is given twice"),
    ],
)
def test_a_key_or_a_column_given_twice_in_the_config_is_named(tmp_path, yaml_text, message):
    path = tmp_path / "releaseml.yaml"
    path.write_text(yaml_text)
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        config.load(path)


def test_a_yaml_alias_bomb_is_refused_before_it_grows(tmp_path):
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh"):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")  # 9^9 values once expanded
    path = tmp_path / "releaseml.yaml"
    path.write_text("target: x\n" + "\n".join(levels) + "\n")
    with pytest.raises(UserError, match=r"releaseml.yaml, line 6: the anchors and aliases .* expand to more than 10000 values"):
        config.load(path)


def test_aliases_of_a_reasonable_size_still_work(tmp_path):
    path = tmp_path / "releaseml.yaml"
    path.write_text("target: x\naws:\n  tags: &tags {team: data}\ncatboost: {depth: 4}\n")
    assert config.load(path).aws.tags == {"team": "data"}


# ---- one rule for a data directory ----------------------------------------------------------


def project(tmp_path, penguins) -> Path:
    (tmp_path / "releaseml.yaml").write_text("target: species\ncatboost: {iterations: 5}\n")
    data = tmp_path / "data"
    (data / "training").mkdir(parents=True)
    (data / "validation").mkdir()
    shuffled = penguins.sample(frac=1, random_state=0)
    shuffled.iloc[:250].to_csv(data / "training" / "part-1.csv", index=False)
    shuffled.iloc[250:].to_csv(data / "validation" / "part-1.csv", index=False)
    (data / "training" / "README.txt").write_text("Exported from the warehouse on Monday.\n")
    return data


def test_train_local_and_deploy_read_a_data_directory_by_one_rule(tmp_path, penguins):
    """train-local once read README.txt as data and merged training/ and validation/ into one training set."""
    data = project(tmp_path, penguins)
    channels = data_paths.data_channels(data)
    assert {name: sorted(files) for name, files in channels.channels.items()} == {"training": ["part-1.csv"], "validation": ["part-1.csv"]}
    assert channels.left_out == [data / "training" / "README.txt"]
    assert workflows.channel_files(data) == channels.channels  # deploy

    result = run_task("train-local", "--data", "data", "--ml-root", "ml", "--engine", "process", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Not data (only .csv and .parquet files are read): " in result.stderr and "README.txt" in result.stderr
    staged = tmp_path / "ml" / "input" / "data"
    assert sorted(p.name for p in (staged / "training").iterdir() if not p.name.startswith(".")) == ["part-1.csv"]
    assert sorted(p.name for p in (staged / "validation").iterdir() if not p.name.startswith(".")) == ["part-1.csv"]
    assert "the 94 rows of the validation channel" in result.stderr
    assert json.loads((tmp_path / "ml/input/config/inputdataconfig.json").read_text()).keys() == {"training", "validation"}


def test_a_flat_data_directory_is_its_csv_files_and_not_its_subdirectories(tmp_path, penguins):
    data = tmp_path / "data"
    (data / "predict").mkdir(parents=True)
    penguins.to_csv(data / "penguins.csv", index=False)
    penguins.to_csv(data / "predict" / "new.csv", index=False)
    (data / "notes.md").write_text("# notes\n")
    found = data_paths.data_channels(data)
    assert found.channels == {"training": {"penguins.csv": data / "penguins.csv"}} and found.left_out == [data / "notes.md"]


@pytest.mark.parametrize(
    "layout,message",
    [
        ({"validation/a.csv": "x"}, "has a validation/ directory but no training/ one"),
        ({"training/a.csv": "x", "train/b.csv": "x"}, "has both training/ and train/"),
        ({"training/notes.txt": "x"}, "holds no .csv or .parquet files"),
        ({"notes.txt": "x"}, "holds no .csv or .parquet files"),
    ],
)
def test_data_directories_that_say_nothing_clear_are_refused(tmp_path, layout, message):
    for name, text in layout.items():
        (tmp_path / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / name).write_text(text)
    with pytest.raises(UserError, match=message):
        data_paths.data_channels(tmp_path / "data")
    shutil.rmtree(tmp_path / "data")
