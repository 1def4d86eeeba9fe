"""Every environment variable is declared once (releaseml/environment.py), read through that
declaration, and listed in the README from it."""

import ast
import re
from pathlib import Path

import pytest

from releaseml.common import environment
from releaseml.common.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def test_the_readme_table_is_the_declarations():
    readme = (REPO / "README.md").read_text()
    assert environment.markdown_table() in readme


def test_no_module_reads_a_variable_by_name_outside_the_declarations():
    """`os.environ.get("X")` or `os.environ["X"]` anywhere else would be a second, undeclared place."""
    offenders = []
    for path in (REPO / "releaseml").rglob("*.py"):
        if path.name == "environment.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            text = ast.unparse(node) if isinstance(node, (ast.Call, ast.Subscript)) else ""
            if re.match(r"os\.(environ\.get|getenv)\(|os\.environ\[", text):
                offenders.append(f"{path.relative_to(REPO)}: {text[:80]}")
    assert not offenders, offenders


def test_every_declared_name_is_documented_and_unique():
    names = [variable.name for variable in environment.ALL]
    assert len(names) == len(set(names)) and all(variable.doc for variable in environment.ALL)


@pytest.mark.parametrize(
    "variable,value,message",
    [
        (environment.THREADS, "four", "RELEASEML_THREADS='four' must be a whole number"),
        (environment.THREADS, "0", "RELEASEML_THREADS='0' must be at least 1"),
        (environment.PORT, "70000", "SAGEMAKER_BIND_TO_PORT '70000': a port is a number from 1 to 65535"),
        (environment.AWS_POLL_SECONDS, "soon", "RELEASEML_AWS_POLL_SECONDS='soon' must be a number"),
    ],
)
def test_a_bad_value_names_its_variable(variable, value, message):
    with pytest.raises(UserError, match=re.escape(message)):
        variable.get({variable.name: value})


def test_unset_and_blank_mean_the_default():
    assert environment.THREADS.get({}) == 4 and environment.THREADS.get({"RELEASEML_THREADS": " "}) == 4
    assert environment.CONCURRENT_TRANSFORMS.get({}) >= 1 and environment.QUIET.get({"RELEASEML_QUIET": "1"}) is True
