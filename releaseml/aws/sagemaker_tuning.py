"""SageMaker hyperparameter tuning jobs: the request, waiting with a table of trials, and the outcome files.

A tuning job runs the same image on the same uploaded data as `deploy`'s training job; SageMaker
chooses each trial's values for the `tune.ranges` keys (Bayesian search), passes them to the
container as hyperparameters under the same flattened names as every other config key, reads the
objective from the log with the metric definitions `train` already matches, and stops trials that
fall behind (TrainingJobEarlyStoppingType Auto, from the objective's values while a trial trains).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from releaseml.aws import sagemaker_training, waiting
from releaseml.aws.session import Aws, errors, is_missing
from releaseml.common import progress
from releaseml.common.errors import UserError
from releaseml.config import hyperparameters
from releaseml.config.config_file import TUNABLE, TuneSection

FINAL_STATES = {"Completed", "Failed", "Stopped"}
NAME_LIMIT = 32  # HyperParameterTuningJobName's maximum length
SCALING = {"linear": "Linear", "log": "Logarithmic"}  # tune.ranges' `scale` -> ScalingType
MAX_VALUES = 30  # SageMaker offers at most 30 values for one categorical hyperparameter
# What the training job definition shares with CreateTrainingJob's request (the rest is per trial).
_DEFINITION_KEYS = (
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "Environment",
)


@dataclass
class Trial:
    """One training job of the tuning job, as ListTrainingJobsForHyperParameterTuningJob shows it."""

    job_name: str
    status: str
    values: dict[str, Any]  # the tuned keys, as the container read them
    objective: Optional[float] = None
    failure_reason: Optional[str] = None


@dataclass
class TuningJobOutcome:
    """What a tuning job found: every trial, and the best one's training job (which batch-predict and endpoint use)."""

    tuning_job_name: str
    status: str
    region: str
    objective: str
    direction: str  # Maximize or Minimize
    job_name: Optional[str] = None  # the best training job: the key `--from tuning_output.txt` reads
    best_objective: Optional[float] = None
    best_values: dict[str, Any] = field(default_factory=dict)
    trials: list[Trial] = field(default_factory=list)
    failure_reason: Optional[str] = None
    console_url: Optional[str] = None
    report: Optional[str] = None  # the best training job's report, downloaded

    def said(self, out: Path) -> list[str]:
        """What `releaseml tune` prints at the end."""
        lines = [f"Tuning job {self.tuning_job_name}: {self.status}"]
        if self.job_name:
            values = ", ".join(f"{key}={_value(value)}" for key, value in self.best_values.items())
            lines += [
                f"Best training job: {self.job_name}, {self.objective} {_shown(self.best_objective)} ({values})",
                f"Use it: `releaseml endpoint --from {out}` or `releaseml batch-predict --data DIR --from {out}`",
            ]
        if self.report:
            lines.append(f"Report: {self.report}")
        lines.append(f"Outcome written to {out} and {out.with_suffix('.json')}")
        if self.status == "InProgress":
            lines.append(f"The tuning job goes on; `releaseml tune --attach {self.tuning_job_name}` follows it to the end.")
        return lines

    def write(self, text_path: Path) -> Path:
        """Write `text_path` and the JSON beside it (same name, .json); returns the JSON path."""
        lines = [
            f"Tuning job: {self.tuning_job_name}",
            f"Status: {self.status}",
            *([f"Failure reason: {self.failure_reason}"] if self.failure_reason else []),
            f"Region: {self.region}",
            f"Objective: {self.objective} ({self.direction.lower()})",
            # The line job_from_outcome_file reads: batch-predict and endpoint take the best job from here.
            f"Training job: {self.job_name or '-'}",
            f"Best {self.objective}: {_shown(self.best_objective)}",
            *[f"  {key} = {_value(value)}" for key, value in self.best_values.items()],
            f"Report: {self.report or '-'}",
            f"Console: {self.console_url or '-'}",
            "",
            "Trials (best first):",
            *table(self.trials, self.objective),
        ]
        return sagemaker_training.write_outcome(text_path, lines, self)


def check(tune: TuneSection) -> None:
    """What SageMaker's tuning refuses and the config's own checks allow: said before anything is made.

    (Its other limit, 30 keys in one search, is above the number of keys that can be tuned.)"""
    for key, span in tune.ranges.items():
        if isinstance(span, list) and len(span) > MAX_VALUES:
            raise UserError(f"tune.ranges.{key} lists {len(span)} values; SageMaker takes at most {MAX_VALUES} for one key")


def parameter_ranges(ranges: dict[str, Any]) -> dict[str, list[dict]]:
    """ParameterRanges from tune.ranges: integer and continuous spans with their scale; lists as categories."""
    found: dict[str, list[dict]] = {"IntegerParameterRanges": [], "ContinuousParameterRanges": [], "CategoricalParameterRanges": []}
    for key, span in ranges.items():
        if isinstance(span, list):  # each value as the container decodes it back (hyperparameters.decode)
            found["CategoricalParameterRanges"].append({"Name": key, "Values": [hyperparameters.encode(v) for v in span]})
        elif TUNABLE[key][0] == "int":
            found["IntegerParameterRanges"].append(
                {"Name": key, "MinValue": str(int(span.min)), "MaxValue": str(int(span.max)), "ScalingType": SCALING[span.scale]}
            )
        else:
            found["ContinuousParameterRanges"].append(
                {"Name": key, "MinValue": repr(span.min), "MaxValue": repr(span.max), "ScalingType": SCALING[span.scale]}
            )
    return {kind: items for kind, items in found.items() if items}


def request(name: str, tune: TuneSection, objective: str, direction: str, training: dict, seed: int) -> dict:
    """CreateHyperParameterTuningJob's arguments from a CreateTrainingJob request (`sagemaker_training.request`).

    The tuned keys leave the static hyperparameters; the config's values for them are not sent.
    """
    static = {key: value for key, value in training["HyperParameters"].items() if key not in tune.ranges}
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": direction, "MetricName": objective},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": tune.trials, "MaxParallelTrainingJobs": min(tune.parallel, tune.trials)},
            "ParameterRanges": parameter_ranges(tune.ranges),
            "TrainingJobEarlyStoppingType": "Auto",
            "RandomSeed": seed,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": static,
            **{key: training[key] for key in _DEFINITION_KEYS if key in training},
        },
        "Tags": training.get("Tags", []),
    }


def describe(aws: Aws, name: str) -> dict:
    sagemaker = aws.client("sagemaker")
    with errors(f"looking up tuning job {name}"):
        try:
            return sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        except sagemaker.exceptions.ClientError as exc:
            if not is_missing(exc):
                raise
            raise UserError(
                f"no tuning job {name!r} in {aws.region}: check the name (the SageMaker console's Hyperparameter tuning jobs page "
                "lists them) and the region"
            ) from None


def trials(aws: Aws, name: str) -> list[Trial]:
    """Every training job the tuning job started, best objective first (then running, then failed)."""
    sagemaker = aws.client("sagemaker")
    found: list[Trial] = []
    arguments: dict[str, Any] = {"HyperParameterTuningJobName": name, "MaxResults": 100}
    with errors(f"listing the trials of tuning job {name}"):
        while True:
            page = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(**arguments)
            found += [_trial(summary) for summary in page.get("TrainingJobSummaries", [])]
            if not page.get("NextToken"):
                break
            arguments["NextToken"] = page["NextToken"]
    return found


def ranked(found: list[Trial], direction: str) -> list[Trial]:
    sign = -1 if direction == "Maximize" else 1
    return sorted(found, key=lambda t: (t.objective is None, sign * (t.objective or 0.0), t.job_name))


def table(found: list[Trial], objective: str) -> list[str]:
    """The trials as aligned lines: job, status, objective, then each tuned key."""
    if not found:
        return ["  (no trials yet)"]
    keys = list(dict.fromkeys(key for trial in found for key in trial.values))
    rows = [["training job", "status", objective, *keys]]
    rows += [[t.job_name, t.status, _shown(t.objective), *(_value(t.values.get(key, "")) for key in keys)] for t in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def attach(
    aws: Aws,
    name: str,
    out: Optional[Path],
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    reports: Optional[Path] = None,
) -> TuningJobOutcome:
    """Wait for a tuning job, showing its trials (best first) whenever they change; fetch the best job's report; write the outcome."""
    watcher = _TrialWatcher(aws, name)
    reattach = (
        f"Re-attach with `releaseml tune --attach {name}`; stop it in the SageMaker console or with "
        f"`aws sagemaker stop-hyper-parameter-tuning-job --hyper-parameter-tuning-job-name {name}`."
    )
    try:
        description = waiting.wait(
            lambda: watcher.describe(),
            "HyperParameterTuningJobStatus",
            FINAL_STATES,
            f"Tuning job {name}",
            reattach,
            detail_key="Trials",
            timeout=timeout,
            poll_seconds=poll_seconds,
            on_poll=watcher.show,
        )
    except waiting.StillRunning:
        if out is not None:
            outcome_of(aws, describe(aws, name), trials(aws, name)).write(out)
        raise
    outcome = outcome_of(aws, description, trials(aws, name))
    if reports is not None and outcome.job_name:
        best = sagemaker_training.outcome_of(aws, sagemaker_training.describe(aws, outcome.job_name), [])
        if best.status == "Completed" and best.output_artifacts:
            outcome.report = sagemaker_training.download_report(aws, best.output_artifacts, reports / outcome.job_name)
    if out is not None:
        outcome.write(out)
    if outcome.job_name is None:
        failed = next((t for t in outcome.trials if t.failure_reason), None)
        why = outcome.failure_reason or (
            f"trial {failed.job_name} failed: {failed.failure_reason}" if failed else "no trial reported the objective"
        )
        raise UserError(
            f"tuning job {name} {outcome.status.lower()} without a best training job; {why}"
            + (f" (every trial in {out}; `releaseml logs TRAINING_JOB` shows a trial's log)" if out else "")
        )
    return outcome


def outcome_of(aws: Aws, description: dict, found: list[Trial]) -> TuningJobOutcome:
    config = description["HyperParameterTuningJobConfig"]
    objective = config.get("HyperParameterTuningJobObjective", {})
    best = description.get("BestTrainingJob") or {}
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    name = description["HyperParameterTuningJobName"]
    return TuningJobOutcome(
        tuning_job_name=name,
        status=description["HyperParameterTuningJobStatus"],
        region=aws.region,
        objective=objective.get("MetricName", "-"),
        direction=objective.get("Type", "-"),
        job_name=best.get("TrainingJobName"),
        best_objective=metric.get("Value"),
        best_values=_decoded(best.get("TunedHyperParameters", {})),
        trials=ranked(found, objective.get("Type", "Minimize")),
        failure_reason=description.get("FailureReason") or None,
        console_url=aws.console_url("hyper-tuning-jobs", name),
    )


class _TrialWatcher:
    """Describes the tuning job for the wait (with a one-line count of trials), and prints the table on change."""

    def __init__(self, aws: Aws, name: str):
        self.aws, self.name, self.shown = aws, name, None
        self.objective, self.direction = "objective", "Minimize"

    def describe(self) -> dict:
        description = describe(self.aws, self.name)
        objective = description["HyperParameterTuningJobConfig"].get("HyperParameterTuningJobObjective", {})
        self.objective, self.direction = objective.get("MetricName", self.objective), objective.get("Type", self.direction)
        counters = description.get("TrainingJobStatusCounters", {})
        limit = description["HyperParameterTuningJobConfig"]["ResourceLimits"].get("MaxNumberOfTrainingJobs")
        done = sum(counters.get(key, 0) for key in ("Completed", "NonRetryableError", "Stopped"))
        best = (description.get("BestTrainingJob") or {}).get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value")
        description["Trials"] = f"{done} of {limit} trials done, {counters.get('InProgress', 0)} training" + (
            f", best {_shown(best)}" if best is not None else ""
        )
        return description

    def show(self) -> None:
        found = trials(self.aws, self.name)
        lines = table(ranked(found, self.direction), self.objective)
        if found and lines != self.shown:
            self.shown = lines
            progress.echo("Trials (best first):\n" + "\n".join(lines))


def _trial(summary: dict) -> Trial:
    metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return Trial(
        job_name=summary["TrainingJobName"],
        status=summary["TrainingJobStatus"],
        values=_decoded(summary.get("TunedHyperParameters", {})),
        objective=metric.get("Value"),
        failure_reason=summary.get("FailureReason") or None,
    )


def _decoded(values: dict[str, str]) -> dict[str, Any]:
    return {key: hyperparameters.decode(text) for key, text in sorted(values.items())}


def _value(value: Any) -> str:
    """A tuned value for people: floats to 4 significant digits (the outcome's JSON keeps them whole)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _shown(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.6g}"
