"""The config as SageMaker hyperparameters: a flat map of strings, and back.

SageMaker passes hyperparameters to the container as one JSON object whose
values are all strings, and only top-level keys survive. So nested keys are
joined with dots (`catboost.depth`), plain scalars become their usual text
(`"6"`, `"0.05"`, `"true"`, `"price"`), and anything else (lists, nulls, and
strings that would read back as something else, such as `"6"`) is JSON-encoded.
`unflatten(flatten(c)) == c` holds for every JSON-like config, and keys stay
individually tunable by SageMaker's hyperparameter tuning.
"""

from __future__ import annotations

import json
import math
from typing import Any

from releaseml.common.errors import UserError

SEPARATOR = "."
# CreateTrainingJob's limits on HyperParameters (botocore's SageMaker service model).
MAX_COUNT = 100
MAX_KEY_LENGTH = 256
MAX_VALUE_LENGTH = 2500
# Keys SageMaker itself adds (tuning jobs add `_tuning_objective_metric`, the SDK `sagemaker_*`).
_SAGEMAKER_KEY_PREFIXES = ("_", "sagemaker_")


TUNING_OBJECTIVE = "_tuning_objective_metric"  # what a tuning job adds: the MetricDefinition it optimises


def tuning_objective(flat: dict[str, str]) -> str | None:
    """The objective of the tuning job this training job is a trial of (None: not a trial)."""
    value = flat.get(TUNING_OBJECTIVE)
    return value if isinstance(value, str) and value else None


# Config sections that describe this machine, the AWS account or the search for a model, not the
# model itself: never sent to training (a tuning job sends each trial's values as its own keys).
WORKSTATION_SECTIONS = {"data", "aws", "tune"}


def for_training(config) -> dict[str, str]:
    """The hyperparameters of a training job: the config's model keys as given, flattened."""
    return flatten(config.model_dump(mode="json", exclude_unset=True, exclude=WORKSTATION_SECTIONS))


def flatten(tree: dict[str, Any]) -> dict[str, str]:
    """Flatten a nested config into SageMaker hyperparameters, checking SageMaker's limits."""
    flat: dict[str, str] = {}
    _flatten_into(flat, "", tree)
    check_limits(flat)
    return flat


def unflatten(flat: dict[str, str]) -> dict[str, Any]:
    """Rebuild the nested config from hyperparameters; keys SageMaker added are left out."""
    tree: dict[str, Any] = {}
    for key in sorted(flat):
        if key.startswith(_SAGEMAKER_KEY_PREFIXES):
            continue
        value = flat[key]
        if not isinstance(value, str):
            raise UserError(f"hyperparameter {key!r}: expected a string value, got {value!r}")
        node = tree
        parts = key.split(SEPARATOR)
        for depth, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UserError(f"hyperparameter {key!r} conflicts with {SEPARATOR.join(parts[: depth + 1])!r}")
        if parts[-1] in node:
            raise UserError(f"hyperparameter {key!r} conflicts with other keys under it")
        node[parts[-1]] = decode(value)
    return tree


def encode(value: Any) -> str:
    """One leaf value as a hyperparameter string that `decode` turns back into it exactly."""
    if isinstance(value, str):
        return json.dumps(value) if _is_json(value) else value
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"cannot pass {value!r} as a hyperparameter; use a finite number")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode(text: str) -> Any:
    """A hyperparameter string back to its value: JSON when it parses as JSON, else the text itself."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return text


def check_limits(flat: dict[str, str]) -> None:
    """Raise a clear error where SageMaker would reject the hyperparameters."""
    if len(flat) > MAX_COUNT:
        raise UserError(
            f"the config flattens to {len(flat)} hyperparameters; SageMaker accepts at most {MAX_COUNT}. "
            "Remove unneeded keys (defaults need not be written)."
        )
    for key, value in flat.items():
        if len(key) > MAX_KEY_LENGTH:
            raise UserError(f"hyperparameter key {key[:60]!r}... is {len(key)} characters; SageMaker's limit is {MAX_KEY_LENGTH}")
        if len(value) > MAX_VALUE_LENGTH:
            raise UserError(
                f"hyperparameter {key!r} is {len(value)} characters long; SageMaker's limit is {MAX_VALUE_LENGTH}. "
                "Shorten that value (a long column list can often be replaced by `drop:`)."
            )


def _flatten_into(flat: dict[str, str], prefix: str, tree: dict[str, Any]) -> None:
    for key, value in tree.items():
        if not isinstance(key, str):
            raise UserError(f"config key {prefix}{key!r} must be a string")
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(_is_plain_key(k) for k in value):
            _flatten_into(flat, path + SEPARATOR, value)
        else:
            flat[path] = encode(value)


def _is_plain_key(key: Any) -> bool:
    """A key that can be joined with dots and split back unambiguously."""
    return isinstance(key, str) and key != "" and SEPARATOR not in key and not key.startswith(_SAGEMAKER_KEY_PREFIXES)


def _is_json(text: str) -> bool:
    try:
        json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return False
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
