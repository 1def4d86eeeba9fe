"""The releaseml.yaml config: load, validate, explain mistakes.

The smallest valid config is one line, `target: <column>`; every other key has
a default that suits someone who knows no machine learning.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from releaseml.common import defaults
from releaseml.common.errors import UserError
from releaseml.config import catboost_params

DEFAULT_CONFIG_FILE = defaults.CONFIG_FILE

# CatBoost parameters releaseml sets itself from other keys, and where to say them instead.
RESERVED_CATBOOST_PARAMS = {
    "cat_features": "list categorical columns under the top-level `categorical:` key",
    "train_dir": "releaseml writes CatBoost's working files itself",
    "random_seed": "set the top-level `seed:` key",
    "random_state": "set the top-level `seed:` key",
}


SERVERLESS_MEMORY_SIZES_MB = (1024, 2048, 3072, 4096, 5120, 6144)  # SageMaker's ServerlessConfig.MemorySizeInMB


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataPaths(_Strict):
    """Where the data lives on this machine, per SageMaker channel."""

    training: Optional[str] = Field(None, description="A CSV file or a directory of CSV files.")
    validation: Optional[str] = Field(None, description="Optional; replaces the random validation split.")


class AwsSection(_Strict):
    """Where and how jobs run on Amazon SageMaker; each key can also come from a flag or RELEASEML_AWS_<KEY>."""

    region: Optional[str] = Field(None, description="AWS region (default: the AWS session's: AWS_DEFAULT_REGION, the profile, AWS_REGION).")
    role: Optional[str] = Field(None, description="IAM role SageMaker assumes: an ARN, or a role name in this account.")
    bucket: Optional[str] = Field(None, description="S3 bucket (default: SageMaker's default bucket, sagemaker-<region>-<account>).")
    prefix: str = Field("releaseml", min_length=1, description="Key prefix in the bucket for data, models and predictions.")
    repository: str = Field("releaseml", min_length=2, description="ECR repository for the image.")
    training_instance_type: str = Field("ml.m5.large", pattern=r"^ml\.", description="Instance type of training jobs.")
    training_instance_count: int = Field(1, ge=1, le=100)
    transform_instance_type: str = Field("ml.m5.large", pattern=r"^ml\.", description="Instance type of batch transforms.")
    transform_instance_count: int = Field(1, ge=1, le=100)
    transform_max_payload_mb: int = Field(20, ge=1, le=100, description="Largest mini-batch a batch transform sends (SplitType Line).")
    endpoint_instance_type: str = Field("ml.m5.large", pattern=r"^ml\.", description="Instance type of real-time endpoints.")
    endpoint_instance_count: int = Field(1, ge=1, le=100)
    endpoint_kind: Literal["instance", "serverless", "async"] = Field(
        "instance", description="instance: billed while up; serverless: billed per call; async: S3 in, S3 out."
    )
    serverless_memory_mb: int = Field(2048, description="Memory of a serverless endpoint: 1024, 2048, ... 6144.")
    serverless_max_concurrency: int = Field(5, ge=1, le=200, description="Calls a serverless endpoint serves at once.")
    min_instances: Optional[int] = Field(None, ge=0, le=100, description="Autoscaling: fewest instances (with max_instances).")
    max_instances: Optional[int] = Field(None, ge=1, le=100, description="Autoscaling: most instances; unset, no autoscaling.")
    invocations_per_instance: int = Field(
        1000, ge=1, description="Autoscaling target: calls per instance per minute (SageMakerVariantInvocationsPerInstance)."
    )
    api_role: Optional[str] = Field(None, description="IAM role API Gateway assumes to call the endpoint (ARN or name).")
    api_rate_limit: float = Field(10.0, gt=0, le=10000, description="Public API: steady requests per second per key.")
    api_burst_limit: int = Field(20, ge=1, le=5000, description="Public API: requests per key at once above the rate.")
    api_daily_quota: Optional[int] = Field(None, ge=1, description="Public API: requests per key per day (unset: no quota).")
    input_mode: Literal["File", "FastFile"] = Field(
        "File", description="File: channels are copied to the instance before training; FastFile: streamed from S3 as files are read."
    )
    spot: bool = Field(
        False, description="Managed spot training: spare capacity, billed less; an interrupted job resumes from checkpoints."
    )
    max_wait_seconds: Optional[int] = Field(
        None, ge=1, le=28 * 86400, description="Spot: how long to wait for capacity and run, in all (default twice max_runtime_seconds)."
    )
    checkpoint_seconds: int = Field(60, ge=1, le=3600, description="Spot: seconds between the checkpoints an interrupted job resumes from.")
    volume_size_gb: int = Field(30, ge=1, le=16384, description="Disk of each training (and scheduled monitoring) instance.")
    max_runtime_seconds: int = Field(86400, ge=1, le=28 * 86400, description="A training job is stopped after this long.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags on every job, model and endpoint.")
    model_group: Optional[str] = Field(
        None,
        pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
        description="SageMaker model package group every deploy registers its model in, one version each (default: repository).",
    )
    capture_prefix: Optional[str] = Field(
        None,
        pattern=r"^s3://[^/]+",
        description="Where endpoints with --capture write requests and answers (default s3://BUCKET/PREFIX/capture).",
    )
    alarm_5xx_percent: float = Field(
        1.0, gt=0, le=100, description="Promote: the alarm that rolls an update back when more than this share of calls fails (5xx)."
    )
    alarm_latency_ms: float = Field(
        1000.0, gt=0, description="Promote: the alarm that rolls an update back when the model's average latency is above this."
    )
    traffic_shift: Literal["all_at_once", "canary", "linear"] = Field(
        "all_at_once", description="Promote: how traffic moves to the new model (blue/green); canary and linear need 2 instances or more."
    )
    canary_percent: int = Field(
        10, ge=1, le=50, description="Promote: the share of capacity the first (canary) or every (linear) step gets."
    )
    baking_seconds: int = Field(
        300, ge=0, le=3600, description="Promote: how long each traffic step is watched by the alarms before the next (or the end)."
    )
    schedule_role: Optional[str] = Field(
        None, description="Monitor --schedule: IAM role EventBridge Scheduler assumes to start the monitoring job (ARN or name)."
    )
    monitor_instance_type: str = Field("ml.m5.large", pattern=r"^ml\.", description="Monitor --schedule: the Processing job's instance.")
    drift_alarm_topic: Optional[str] = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:sns:",
        description="Monitor --schedule: SNS topic the drift alarm notifies (unset: the alarm only changes state).",
    )

    @field_validator("serverless_memory_mb")
    @classmethod
    def _serverless_memory_size(cls, value: int) -> int:
        if value not in SERVERLESS_MEMORY_SIZES_MB:
            raise ValueError(f"SageMaker offers serverless memory of {', '.join(map(str, SERVERLESS_MEMORY_SIZES_MB))} MB only")
        return value

    @model_validator(mode="after")
    def _scaling_consistent(self) -> "AwsSection":
        low, high = self.min_instances, self.max_instances
        if low is not None and high is None:
            raise ValueError("min_instances needs max_instances too (autoscaling runs between the two)")
        if high is not None and (low if low is not None else 1) > high:
            raise ValueError(f"min_instances ({low}) is more than max_instances ({high})")
        if low == 0 and self.endpoint_kind != "async":
            raise ValueError("min_instances 0 is for async endpoints; a real-time endpoint needs at least 1 instance")
        if self.max_wait_seconds is not None and self.max_wait_seconds < self.max_runtime_seconds:
            raise ValueError(
                f"max_wait_seconds ({self.max_wait_seconds}) is less than max_runtime_seconds ({self.max_runtime_seconds}): "
                "the wait includes the run, so it must be at least as long"
            )
        if self.max_wait_seconds is not None and not self.spot:
            raise ValueError("max_wait_seconds is for spot training: add spot: true (or --spot), or drop it")
        if high is not None and self.endpoint_kind == "serverless":
            raise ValueError("a serverless endpoint scales by itself: drop min_instances/max_instances, or set endpoint_kind: instance")
        return self


# What `tune.ranges` may search, by flattened key: its kind and the values CatBoost accepts.
# (kind, low, high) for numbers (None: no bound; a float bound is exclusive only for learning_rate/rsm/subsample at 0),
# or ("choice", values) for names.
TUNABLE = {
    "catboost.depth": ("int", 1, 16),
    "catboost.learning_rate": ("float", 0.0, 1.0),
    "catboost.l2_leaf_reg": ("float", 0.0, None),
    "catboost.iterations": ("int", 1, 100_000),
    "catboost.border_count": ("int", 1, 65_535),
    "catboost.bagging_temperature": ("float", 0.0, None),
    "catboost.random_strength": ("float", 0.0, None),
    "catboost.rsm": ("float", 0.0, 1.0),
    "catboost.subsample": ("float", 0.0, 1.0),
    "catboost.min_data_in_leaf": ("int", 1, None),
    "catboost.max_leaves": ("int", 2, 64),
    "catboost.one_hot_max_size": ("int", 0, 255),
    "catboost.leaf_estimation_iterations": ("int", 1, 100),
    "catboost.grow_policy": ("choice", ["SymmetricTree", "Depthwise", "Lossguide"]),
    "catboost.bootstrap_type": ("choice", ["Bayesian", "Bernoulli", "MVS", "No"]),
}


class Range(_Strict):
    """A span of numbers to search: `{min: 4, max: 10}`, `{min: 0.01, max: 0.3, scale: log}`."""

    min: float
    max: float
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if self.min > self.max:
            raise ValueError(f"min {self.min:g} is more than max {self.max:g}")
        if self.scale == "log" and self.min <= 0:
            raise ValueError(f"a log scale needs min above 0 (got {self.min:g}); use scale: linear, or a positive min")
        return self


class Costs(_Strict):
    """What each kind of mistake costs, in any unit (money, hours): only their ratio matters."""

    false_positive: float = Field(..., gt=0, allow_inf_nan=False, description="Cost of flagging a row that is not positive.")
    false_negative: float = Field(..., gt=0, allow_inf_nan=False, description="Cost of missing a row that is positive.")


class DecisionSection(_Strict):
    """How a binary model turns a probability into a label: by costs, or a recall or precision floor."""

    costs: Optional[Costs] = None
    min_recall: Optional[float] = Field(None, gt=0, le=1, description="Catch at least this share of the positive rows.")
    min_precision: Optional[float] = Field(None, gt=0, le=1, description="Of the rows flagged, at least this share are positive.")

    @model_validator(mode="after")
    def _one_rule(self) -> "DecisionSection":
        given = [name for name in ("costs", "min_recall", "min_precision") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of costs: {false_positive: 1, false_negative: 10}, min_recall: 0.8 or min_precision: 0.9"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class TuneSection(_Strict):
    """What `releaseml tune` searches: how many models, how many at once, by which score, over which keys."""

    trials: int = Field(20, ge=1, le=1000, description="How many models to train (the first with the config as it is).")
    parallel: int = Field(1, ge=1, le=64, description="How many train at once (locally: processes, at most the CPU count).")
    objective: Optional[str] = Field(
        None, description="split:metric to optimise, e.g. validation:r2 (default: the task's loss, validation:logloss or validation:rmse)."
    )
    ranges: dict[str, Any] = Field(..., min_length=1, description="Flattened config key: {min, max, scale} or a list of values.")

    @field_validator("objective")
    @classmethod
    def _known_objective(cls, value: Optional[str]) -> Optional[str]:
        from releaseml.config.tasks import TASK_METRICS

        if value is None:
            return value
        known = sorted({name for names in TASK_METRICS.values() for name in names})
        split, _, name = value.partition(":")
        if split != "validation" or name not in known:
            raise ValueError(f"{value!r} is not a validation metric: use validation:<metric>, the metric one of {', '.join(known)}")
        return value

    @field_validator("ranges")
    @classmethod
    def _tunable_ranges(cls, ranges: dict[str, Any]) -> dict[str, Any]:
        return {key: _tunable(key, value) for key, value in ranges.items()}


def _tunable(key: str, value: Any) -> Any:
    """A range or a list of values that the key can take, or a ValueError saying what it takes."""
    if key not in TUNABLE:
        close = difflib.get_close_matches(key, list(TUNABLE), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{key!r} cannot be tuned.{hint} Keys that can: {', '.join(TUNABLE)}")
    kind, *bounds = TUNABLE[key]
    if kind == "choice":
        values = value if isinstance(value, list) else None
        if not values or any(v not in bounds[0] for v in values):
            raise ValueError(f"{key} takes a list of some of {', '.join(bounds[0])}; got {value!r}")
        return values
    if isinstance(value, list):
        if not value or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
            raise ValueError(f"{key} takes numbers: a list of them, or {{min, max}}; got {value!r}")
        if kind == "int" and any(float(v) != int(v) for v in value):
            raise ValueError(f"{key} takes whole numbers; got {value!r}")
        _within(key, kind, bounds, min(value), max(value))
        return value
    if not isinstance(value, dict):
        raise ValueError(f"{key} takes {{min: .., max: ..}} (optionally scale: log) or a list of values; got {value!r}")
    span = Range.model_validate(value)
    if kind == "int" and (span.min != int(span.min) or span.max != int(span.max)):
        raise ValueError(f"{key} takes whole numbers; got min {span.min:g}, max {span.max:g}")
    _within(key, kind, bounds, span.min, span.max)
    return span


def _within(key: str, kind: str, bounds: list, low: float, high: float) -> None:
    floor, ceiling = bounds
    exclusive = kind == "float" and floor == 0.0 and key.rsplit(".", 1)[-1] in ("learning_rate", "rsm", "subsample")
    if (floor is not None and (low < floor or (exclusive and low <= floor))) or (ceiling is not None and high > ceiling):
        shown = f"{'above' if exclusive else 'at least'} {floor:g}" + (f" and at most {ceiling:g}" if ceiling is not None else "")
        raise ValueError(f"{key} takes values {shown}; got {low:g} to {high:g}")


class Config(_Strict):
    target: str = Field(..., min_length=1, description="The column to predict.")
    task: Literal["auto", "regression", "binary", "multiclass"] = "auto"
    features: Optional[list[str]] = Field(None, description="Only these columns are features (default: all but target and drop).")
    drop: list[str] = Field(default_factory=list, description="Columns that are not features (ids, leaks).")
    categorical: list[str] = Field(default_factory=list, description="Numeric-looking columns to treat as categories.")
    validation_fraction: float = Field(0.2, gt=0, lt=1, description="Share of rows held out when no validation data is given.")
    folds: Optional[int] = Field(
        None,
        ge=2,
        le=100,
        description="Cross-validation: validate on each of this many folds in turn (5 is usual), instead of one hold-out.",
    )
    time: Optional[str] = Field(
        None,
        min_length=1,
        description="A column of dates or numbers: the latest rows by it are held out for validation, not a random share.",
    )
    decision: Optional[DecisionSection] = Field(None, description="Binary targets: choose the threshold by costs or a floor.")
    intervals: Optional[float] = Field(
        None, gt=0, lt=1, description="Regression: prediction intervals meant to hold the true value this share of the time (0.9)."
    )
    positive_class: Optional[Union[str, int, float, bool]] = Field(
        None,
        description="Binary targets: the class the decision is about (f1, precision, recall); default yes/true/1, else the rarer.",
    )
    seed: int = Field(42, ge=0, lt=2**32, description="Random seed for the split and for CatBoost.")
    catboost: dict[str, Any] = Field(default_factory=dict, description="CatBoost parameters, for those who know them.")
    data: Optional[DataPaths] = None
    tune: Optional[TuneSection] = None
    aws: AwsSection = Field(default_factory=AwsSection)

    @model_validator(mode="after")
    def _decisions_fit_the_task(self) -> "Config":
        """What can be told before any data is read: a `task:` that rules out `decision:` or `intervals:`."""
        if self.decision is not None and self.task in ("regression", "multiclass"):
            raise ValueError(f"decision: chooses a threshold for a binary target; this config says task: {self.task}")
        if self.intervals is not None and self.task in ("binary", "multiclass"):
            raise ValueError(f"intervals: are for a regression target (a number); this config says task: {self.task}")
        return self

    @field_validator("data", mode="before")
    @classmethod
    def _data_may_be_one_path(cls, value: Any) -> Any:
        return {"training": value} if isinstance(value, str) else value

    @field_validator("catboost")
    @classmethod
    def _no_reserved_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        for name in params:
            if name in RESERVED_CATBOOST_PARAMS:
                raise ValueError(f"`{name}` is set by releaseml: {RESERVED_CATBOOST_PARAMS[name]}")
        return params

    @field_validator("features", "drop", "categorical", mode="before")
    @classmethod
    def _one_column_is_a_list_of_one(cls, names: Any) -> Any:
        return [names] if isinstance(names, str) else names  # `drop: customer_id` means [customer_id]

    @field_validator("features", "drop", "categorical")
    @classmethod
    def _each_column_once(cls, names: Optional[list[str]]) -> Optional[list[str]]:
        repeated = [name for name in dict.fromkeys(names or []) if (names or []).count(name) > 1]
        if repeated:
            raise ValueError(f"column(s) {repeated} listed more than once; list each column once")
        return names

    @model_validator(mode="after")
    def _columns_consistent(self) -> "Config":
        if self.target in self.drop:
            raise ValueError(f"the target column {self.target!r} is also listed under `drop`")
        if self.features is not None and self.target in self.features:
            raise ValueError(f"the target column {self.target!r} is also listed under `features`")
        if self.folds is not None and self.time is not None:
            raise ValueError(
                "`folds` and `time` do not go together: folds validate on rows from every period, `time` on the latest; keep one"
            )
        if self.time == self.target:
            raise ValueError(f"the target column {self.target!r} cannot be the `time` column too: name the column of dates or numbers")
        return self


def load(path: str | Path = DEFAULT_CONFIG_FILE) -> Config:
    """Read and validate a YAML config file."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as stream:
            raw = _read_yaml(stream, str(path))
    except FileNotFoundError:
        raise UserError(
            f"config file {str(path)!r} not found: `releaseml init --data FILE --target COLUMN` makes one (or pass --config PATH)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read config file {str(path)!r}: {exc}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"config file {str(path)!r} is not valid YAML: {exc}{_yaml_hint(path, exc)}") from None
    return validate(raw, source=str(path))


def _yaml_hint(path: Path, exc: yaml.YAMLError) -> str:
    """The usual cause, said plainly: a key uncommented with the space after its `#` left in, or a tab."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return ""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    near = lines[max(mark.line - 1, 0) : mark.line + 1]
    if any("\t" in line[: len(line) - len(line.lstrip())] for line in near):
        return f"\nLine {mark.line + 1} or the one before is indented with a tab: YAML takes spaces only."
    shifted = [n for n in range(max(mark.line - 1, 0), min(mark.line + 1, len(lines))) if re.match(r"^ [A-Za-z_]+:", lines[n])]
    if shifted:
        return (
            f"\nLine {shifted[0] + 1} starts with a space: a top-level key (`{lines[shifted[0]].strip().split(':')[0]}:`) starts at "
            "the beginning of its line; when uncommenting, delete the space after the `#` too."
        )
    return ""


# A config is a few dozen values; anchors and aliases that expand to more are a mistake or an attack.
MAX_YAML_VALUES = 10_000


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (first on line {seen[key].line + 1}); keep one", key_node.start_mark
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _read_yaml(stream, source: str) -> Any:
    loader = _ConfigLoader(stream)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse a document whose aliases expand beyond MAX_YAML_VALUES, naming where, before building it."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) not in sizes:
            sizes[id(node)] = 0  # a recursive alias counts once while it is being measured
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
            total = 1 + (sum(size(child) for child in children) if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) else 0)
            sizes[id(node)] = min(total, 10 * MAX_YAML_VALUES)
        return sizes[id(node)]

    if size(root) <= MAX_YAML_VALUES:
        return
    node = root
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):  # walk down to the smallest part that is too large
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
        larger = [child for child in children if size(child) > MAX_YAML_VALUES]
        if not larger:
            break
        node = larger[0]
    raise UserError(
        f"{source}, line {node.start_mark.line + 1}: the anchors and aliases (&name, *name) here expand to more than "
        f"{MAX_YAML_VALUES} values; a config needs far fewer. Write the values out instead."
    )


def validate(raw: Any, source: str = "config") -> Config:
    """Build a Config from plain data, or raise UserError listing every mistake."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a mapping of keys (like `target: price`), got {type(raw).__name__}")
    section = raw.get("catboost")
    catboost_lines = catboost_params.problems(section) if isinstance(section, dict) else []
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise problems(source, exc, extra=catboost_lines) from None
    if catboost_lines:
        raise _listed(source, catboost_lines)
    return config


def problems(source: str, exc: ValidationError, under: tuple[str, ...] = (), extra: list[str] = ()) -> UserError:
    """One UserError listing every mistake pydantic found, each with its key path (below `under`)."""
    return _listed(source, [*(_explain({**error, "loc": (*under, *error["loc"])}) for error in exc.errors()), *extra])


def _listed(source: str, lines: list[str]) -> UserError:
    return UserError(f"{source} has {len(lines)} problem(s):\n" + "\n".join(f"  - {line}" for line in lines))


def _explain(error: dict[str, Any]) -> str:
    """One line for one mistake: the key path, what was given, what is allowed."""
    loc = tuple(str(part) for part in error["loc"])
    where = ".".join(loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = difflib.get_close_matches(loc[-1], allowed, n=1)
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        return f"{where}: unknown key.{suggestion} Allowed here: {', '.join(allowed)}."
    if kind == "missing":
        field = _field_for(loc)
        about = f" ({field.description})" if field is not None and field.description else ""
        return f"{where}: required but missing{about}."
    message = error["msg"].removeprefix("Value error, ")
    if _model_at(loc) is not None:  # a rule across a section's keys: they are in the message, the section is noise
        return f"{where}: {message}."
    return f"{where}: got {error['input']!r}; {message}."


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Config
    for part in loc:
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        nested = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = nested[0] if nested else None
    return model


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    model = _model_at(loc)
    return list(model.model_fields) if model is not None else []


def _field_for(loc: tuple[str, ...]):
    model = _model_at(loc[:-1])
    return model.model_fields.get(loc[-1]) if model is not None and loc else None
