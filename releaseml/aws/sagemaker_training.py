"""SageMaker training jobs: the request, waiting with the log, and the outcome files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from releaseml.aws import logs, waiting
from releaseml.aws.session import Aws, errors, is_missing
from releaseml.common import environment, media, progress
from releaseml.common.errors import UserError
from releaseml.common.layout import CHECKPOINTS_DIR
from releaseml.config import hyperparameters
from releaseml.config.config_file import AwsSection, Config
from releaseml.training import metrics

FINAL_STATES = {"Completed", "Failed", "Stopped"}
CHECKPOINT_LOCAL_PATH = f"/opt/ml/{CHECKPOINTS_DIR}"  # where the container finds them (layout.MLPaths.checkpoints)
MAX_WAIT_LIMIT_SECONDS = 28 * 86400


@dataclass
class TrainingJobOutcome:
    """What a finished (or still running) job left: written as text for people and as JSON for scripts."""

    job_name: str
    status: str
    region: str
    failure_reason: Optional[str] = None
    metrics: dict[str, float] = field(default_factory=dict)
    model_artifacts: Optional[str] = None
    output_artifacts: Optional[str] = None
    image: Optional[str] = None
    console_url: Optional[str] = None
    report: Optional[str] = None
    training_seconds: Optional[int] = None  # TrainingTimeInSeconds
    billable_seconds: Optional[int] = None  # BillableTimeInSeconds: less than the above on spot capacity
    log: list[str] = field(default_factory=list)

    @property
    def spot_savings(self) -> Optional[str]:
        """SageMaker's own formula: (1 - billable / training time)."""
        if not self.training_seconds or self.billable_seconds is None:
            return None
        saved = 1 - self.billable_seconds / self.training_seconds
        return f"billed for {self.billable_seconds} s of {self.training_seconds} s trained ({saved:.0%} saved)"

    def write(self, text_path: Path) -> Path:
        """Write `text_path` and the JSON beside it (same name, .json); returns the JSON path."""
        lines = [
            f"Training job: {self.job_name}",
            f"Status: {self.status}",
            *([f"Failure reason: {self.failure_reason}"] if self.failure_reason else []),
            f"Region: {self.region}",
            f"Image: {self.image or '-'}",
            f"Model artifact: {self.model_artifacts or '-'}",
            f"Outputs (report, metrics.json): {self.output_artifacts or '-'}",
            f"Report: {self.report or '-'}",
            f"Console: {self.console_url or '-'}",
            *([f"Spot: {self.spot_savings}"] if self.spot_savings else []),
            "",
            "Final metrics:",
            *([f"  {name} = {value:.6g}" for name, value in sorted(self.metrics.items())] or ["  (none)"]),
            "",
            "Log:",
            *self.log,
        ]
        return write_outcome(text_path, lines, self)


def write_outcome(text_path: Path, lines: list[str], outcome) -> Path:
    """An outcome file for people (`lines`) and the JSON beside it for scripts (the dataclass `outcome`,
    whole); `job_from_outcome_file` reads either. Returns the JSON path."""
    text_path.parent.mkdir(parents=True, exist_ok=True)
    json_path = text_path.with_suffix(".json")
    text_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    json_path.write_text(json.dumps(asdict(outcome), indent=2, default=str) + "\n", encoding="utf-8")
    return json_path


def request(
    name: str,
    config: Config,
    section: AwsSection,
    image_uri: str,
    role: str,
    channels: dict[str, str],
    output_uri: str,
    tags: list[dict],
    content_types: dict[str, str] | None = None,
    checkpoint_uri: str | None = None,
) -> dict:
    """CreateTrainingJob's arguments: the config flattened into hyperparameters, metric regexes that match `train`'s lines.

    `channels` maps each channel to the S3 manifest that lists its files (FastFile: the prefix of
    the job's copies); `content_types` each
    channel's format (CSV unless said).
    """
    task = None if config.task == "auto" else config.task
    return {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters.for_training(config),
        "AlgorithmSpecification": {
            "TrainingImage": image_uri,
            "TrainingInputMode": section.input_mode,
            "MetricDefinitions": metrics.metric_definitions(task),
        },
        "RoleArn": role,
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {
                        # File: a manifest lists the job's files; FastFile streams a prefix of the job's own copies.
                        "S3DataType": "ManifestFile" if section.input_mode == "File" else "S3Prefix",
                        "S3Uri": manifest,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": (content_types or {}).get(channel, media.CSV),
                "CompressionType": "None",
            }
            for channel, manifest in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": output_uri},
        "ResourceConfig": {
            "InstanceType": section.training_instance_type,
            "InstanceCount": section.training_instance_count,
            "VolumeSizeInGB": section.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": section.max_runtime_seconds, **_spot_wait(section)},
        **_spot(section, checkpoint_uri),
        "Tags": tags,
    }


def _spot_wait(section: AwsSection) -> dict:
    if not section.spot:
        return {}
    return {"MaxWaitTimeInSeconds": section.max_wait_seconds or min(2 * section.max_runtime_seconds, MAX_WAIT_LIMIT_SECONDS)}


def _spot(section: AwsSection, checkpoint_uri: str | None) -> dict:
    """Managed spot training, with the container's checkpoints kept in S3 so an interrupted job resumes."""
    if not section.spot:
        return {}
    return {
        "EnableManagedSpotTraining": True,
        "CheckpointConfig": {"S3Uri": checkpoint_uri, "LocalPath": CHECKPOINT_LOCAL_PATH},
        "Environment": {environment.CHECKPOINT_SECONDS.name: str(section.checkpoint_seconds)},
    }


def describe(aws: Aws, name: str) -> dict:
    sagemaker = aws.client("sagemaker")
    with errors(f"looking up training job {name}"):
        try:
            return sagemaker.describe_training_job(TrainingJobName=name)
        except sagemaker.exceptions.ClientError as exc:  # SageMaker says ValidationException "Could not find"
            if not is_missing(exc):
                raise
            if _is_tuning_job(aws, name):
                raise UserError(
                    f"{name} is a tuning job, not a training job: `releaseml tune --attach {name}` follows it and names its best training job"
                ) from None
            raise UserError(
                f"no training job {name!r} in {aws.region}: check the name (the SageMaker console's Training jobs page lists them) and the region"
            ) from None


def _is_tuning_job(aws: Aws, name: str) -> bool:
    """Whether a name that is not a training job's is a tuning job's (people pass one where the other goes)."""
    sagemaker = aws.client("sagemaker")
    if len(name) > 32:  # longer than any tuning job name may be
        return False
    try:
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    except sagemaker.exceptions.ClientError:
        return False
    return True


def attach(
    aws: Aws,
    name: str,
    out: Optional[Path],
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    reports: Optional[Path] = None,
) -> TrainingJobOutcome:
    """Wait for a training job while printing its log; download its report into `reports/JOB/`; write the outcome files; raise if it failed."""
    follower = logs.LogFollower(aws, logs.TRAINING_GROUP, name, progress.echo)
    reattach = f"Re-attach with `releaseml logs {name}`; stop it in the SageMaker console or with `aws sagemaker stop-training-job --training-job-name {name}`."
    try:
        description = waiting.wait(
            lambda: describe(aws, name),
            "TrainingJobStatus",
            FINAL_STATES,
            f"Training job {name}",
            reattach,
            detail_key="SecondaryStatus",
            timeout=timeout,
            poll_seconds=poll_seconds,
            on_poll=follower.poll,
        )
    except waiting.StillRunning:
        if out is not None:
            outcome_of(aws, describe(aws, name), follower.lines).write(out)
        raise
    outcome = outcome_of(aws, description, follower.lines)
    if reports is not None and outcome.status == "Completed" and outcome.output_artifacts:
        outcome.report = download_report(aws, outcome.output_artifacts, reports / name)
    if out is not None:
        outcome.write(out)
    if outcome.status != "Completed":
        raise UserError(
            f"training job {name} {outcome.status.lower()}: {outcome.failure_reason or 'no reason given'}"
            + (f" (details in {out})" if out else "")
        )
    return outcome


def download_report(aws: Aws, output_artifacts: str, directory: Path) -> Optional[str]:
    """Unpack the job's output.tar.gz (report.html, figures/, metrics.json) into `directory`; the report's path."""
    from releaseml.report import REPORT_FILE

    _unpack(aws, output_artifacts, directory)
    report = directory / REPORT_FILE
    return str(report) if report.exists() else None


def require_completed(description: dict) -> dict:
    """The job's description; a UserError when it has no model to predict with (not Completed)."""
    if description["TrainingJobStatus"] != "Completed":
        name = description["TrainingJobName"]
        raise UserError(
            f"training job {name} is {description['TrainingJobStatus']}; predictions need a completed one (`releaseml logs {name}` shows why)"
        )
    return description


def download_model(aws: Aws, name: str, directory: Path) -> Path:
    """The job's model (model.tar.gz: model.cbm, schema.json, profile.json) unpacked into `directory`, once."""
    from releaseml.common.layout import SCHEMA_FILE

    if (directory / SCHEMA_FILE).is_file():
        return directory
    description = require_completed(describe(aws, name))
    _unpack(aws, description["ModelArtifacts"]["S3ModelArtifacts"], directory)
    return directory


def _unpack(aws: Aws, archive_uri: str, directory: Path) -> None:
    import tarfile
    import tempfile

    from releaseml.aws import storage

    with tempfile.TemporaryDirectory() as scratch:
        archive = storage.download_file(aws, archive_uri, Path(scratch) / "archive.tar.gz")
        directory.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(directory, filter="data")


def outcome_of(aws: Aws, description: dict, log: list[str]) -> TrainingJobOutcome:
    """The outcome from DescribeTrainingJob; metrics as SageMaker parsed them, else from the log lines."""
    final = {item["MetricName"]: item["Value"] for item in description.get("FinalMetricDataList", [])}
    if not final:
        final = {
            f"{split}:{name}": value for split, values in metrics.parse_lines("\n".join(log)).items() for name, value in values.items()
        }
    name = description["TrainingJobName"]
    model = description.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    return TrainingJobOutcome(
        job_name=name,
        status=description["TrainingJobStatus"],
        region=aws.region,
        failure_reason=description.get("FailureReason") or None,
        metrics=final,
        model_artifacts=model,
        output_artifacts=model.rsplit("/", 1)[0] + "/output.tar.gz" if model else None,
        image=description.get("AlgorithmSpecification", {}).get("TrainingImage"),
        console_url=aws.console_url("jobs", name),
        training_seconds=description.get("TrainingTimeInSeconds"),
        billable_seconds=description.get("BillableTimeInSeconds"),
        log=log,
    )


def job_from_outcome_file(path: Path) -> str:
    """The job name in an outcome file written by `deploy`, or the best one in `tune`'s (the .json beside it, or the text)."""
    json_path = path.with_suffix(".json")
    if json_path.exists():
        try:
            outcome = json.loads(json_path.read_text(encoding="utf-8"))
            name = outcome["job_name"]
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{json_path} is not an outcome file written by `releaseml deploy` or `releaseml tune`") from None
        if name is None and outcome.get("tuning_job_name"):
            tuning = outcome["tuning_job_name"]
            raise UserError(f"tuning job {tuning} has no best training job yet: `releaseml tune --attach {tuning}` follows it")
        return name
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("Training job: ") and line.removeprefix("Training job: ").strip() != "-":
                return line.removeprefix("Training job: ").strip()
    raise UserError(f"no training outcome at {path}: run `releaseml deploy` (or `releaseml tune`) first, or pass --job NAME")
