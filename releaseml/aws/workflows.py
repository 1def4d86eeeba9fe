"""The AWS tasks end to end: deploy (train on SageMaker), batch-predict, endpoints. tasks.py calls these."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional

from releaseml.aws import (
    alarms,
    async_inference,
    endpoints,
    model_registry,
    models,
    monitor_schedule,
    public_api,
    registry,
    sagemaker_training,
    sagemaker_tuning,
    scaling,
    settings,
    sizing,
    storage,
    transform,
    waiting,
)
from releaseml.aws import capture as capture_module
from releaseml.aws.session import Aws, errors, unique_name
from releaseml.common import media, progress
from releaseml.common.errors import StillRunning, UserError
from releaseml.common.layout import TRAINING_CHANNELS
from releaseml.config import config_file as config_module
from releaseml.config.config_file import AwsSection, Config
from releaseml.data import data_paths, dataset
from releaseml.data import schema as schema_module
from releaseml.training import time_validation

REPORTS_DIR = Path("reports")  # deploy unpacks each job's report into reports/JOB/


@dataclass
class Project:
    """The config, the effective AWS settings, and a session: what every AWS task starts from."""

    config: Config
    section: AwsSection
    aws: Aws
    config_path: Path = Path(config_module.DEFAULT_CONFIG_FILE)

    @property
    def bucket(self) -> str:
        return settings.bucket(self.section, self.aws)

    @property
    def role(self) -> str:
        return settings.role_arn(self.section, self.aws)

    @property
    def tags(self) -> list[dict]:
        return settings.tags(self.section)

    def key(self, *parts: str) -> str:
        return "/".join([self.section.prefix.strip("/"), *parts])


def context(config_path: Path, flags: Mapping[str, Any] | None = None) -> Project:
    config = config_module.load(config_path)
    section = settings.resolve(config.aws, flags)
    return Project(config, section, Aws(section.region), config_path)


def deploy(
    ctx: Project,
    data: Optional[Path],
    image: str,
    out: Optional[Path],
    wait: bool = True,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    reports: Optional[Path] = REPORTS_DIR,
    force: bool = False,
) -> sagemaker_training.TrainingJobOutcome:
    """Push the image, upload the data, start a training job, and (unless told not to) wait for it and fetch its report.

    A data set clearly too large for the training instance's memory stops it first (`force` goes on).

    `data` None: the config's `data:` (relative to the config file).
    """
    channels, _ = _checked_data(ctx, data, force)
    name = unique_name(ctx.section.repository)
    job = _training_request(ctx, channels, image, name)
    with errors(f"creating training job {name}"):
        ctx.aws.client("sagemaker").create_training_job(**job)
    progress.echo(f"Training job {name} created: {ctx.aws.console_url('jobs', name)}")
    if not wait:
        outcome = sagemaker_training.outcome_of(ctx.aws, sagemaker_training.describe(ctx.aws, name), [])
        if out is not None:
            outcome.write(out)
        return outcome
    return sagemaker_training.attach(ctx.aws, name, out, timeout, poll_seconds, reports)


def tune(
    ctx: Project,
    data: Optional[Path],
    image: str,
    out: Optional[Path],
    wait: bool = True,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    reports: Optional[Path] = REPORTS_DIR,
    force: bool = False,
) -> sagemaker_tuning.TuningJobOutcome:
    """The config's `tune:` search as a SageMaker tuning job: the image and data as `deploy` sends them,
    SageMaker training the trials in parallel; wait, show the trials, and name the best training job."""
    from releaseml.local import tuning

    if ctx.config.tune is None:
        raise UserError(tuning.missing_section_message(ctx.config_path))
    sagemaker_tuning.check(ctx.config.tune)
    channels, task = _checked_data(ctx, data, force)
    objective, direction = tuning.objective_of(ctx.config, task)
    name = unique_name(ctx.section.repository, sagemaker_tuning.NAME_LIMIT)
    training = _training_request(ctx, channels, image, name)
    job = sagemaker_tuning.request(name, ctx.config.tune, objective, direction.capitalize(), training, ctx.config.seed)
    with errors(f"creating tuning job {name}"):
        ctx.aws.client("sagemaker").create_hyper_parameter_tuning_job(**job)
    progress.echo(
        f"Tuning job {name} created: {ctx.config.tune.trials} trials by {objective} ({direction}), "
        f"{job['HyperParameterTuningJobConfig']['ResourceLimits']['MaxParallelTrainingJobs']} at once: "
        f"{ctx.aws.console_url('hyper-tuning-jobs', name)}"
    )
    if not wait:
        outcome = sagemaker_tuning.outcome_of(ctx.aws, sagemaker_tuning.describe(ctx.aws, name), [])
        if out is not None:
            outcome.write(out)
        return outcome
    return sagemaker_tuning.attach(ctx.aws, name, out, timeout, poll_seconds, reports)


def _checked_data(ctx: Project, data: Optional[Path], force: bool) -> tuple[dict[str, dict[str, Path]], str]:
    """The channels' files, read and checked here (columns, time, size against the instance), and the
    model's task as the data shows it: what can be checked is checked before anything is made or paid for."""
    if data is None and ctx.config.data and ctx.config.data.training:
        data = Path(ctx.config.data.training).expanduser()
        data = data if data.is_absolute() else ctx.config_path.parent / data
    if data is None:
        raise UserError("no training data: pass --data DIR or set `data:` in the config")
    channels = channel_files(data)
    rows, columns, task = _check_training_data(ctx.config, channels)
    if not force and (why := sizing.too_small(rows, columns, ctx.section.training_instance_type)):
        raise UserError(why)
    return channels, task


def _training_request(ctx: Project, channels: dict[str, dict[str, Path]], image: str, name: str) -> dict:
    """Push the image and upload the channels for a job called `name`: CreateTrainingJob's request."""
    registry.local_image_of(image)
    role, bucket = ctx.role, ctx.bucket
    settings.check_role(ctx.aws, role)
    storage.check_bucket(ctx.aws, bucket)
    image_uri = registry.push(ctx.aws, image, ctx.section.repository, ctx.tags)
    progress.echo(f"Image: {image_uri}")
    storage.ensure_bucket(ctx.aws, bucket)
    channel_uris = {channel: upload_channel(ctx, bucket, name, channel, files) for channel, files in channels.items()}
    formats = {channel: data_paths.content_type(list(files.values())) for channel, files in channels.items()}
    checkpoints = storage.uri(bucket, ctx.key("checkpoints", name) + "/")
    return sagemaker_training.request(
        name, ctx.config, ctx.section, image_uri, role, channel_uris, storage.uri(bucket, ctx.key("models")), ctx.tags, formats, checkpoints
    )


def upload_channel(ctx: Project, bucket: str, job_name: str, channel: str, files: dict[str, Path]) -> str:
    """Upload a channel's files under keys named by their content, and list exactly them in a manifest for this job.

    Files already uploaded by an earlier deploy are not sent again; no deploy overwrites or removes the
    data of another, so jobs started at the same time from the same bucket each train on their own data.
    """
    names, report = storage.upload_by_content(ctx.aws, files, bucket, ctx.key("data", "files"))
    if ctx.section.input_mode == "FastFile":  # streamed from a prefix: the job's own copy (made inside S3)
        prefix = storage.copy_to_prefix(ctx.aws, bucket, ctx.key("data", "files"), names, ctx.key("data", "jobs", job_name, channel))
        progress.echo(f"Data, channel {channel}: {len(files)} file(s), {report.summary()}; streamed (FastFile) from {prefix}")
        return prefix
    manifest = storage.write_manifest(
        ctx.aws, bucket, ctx.key("data", "manifests", job_name, f"{channel}.manifest"), ctx.key("data", "files"), names
    )
    progress.echo(f"Data, channel {channel}: {len(files)} file(s), {report.summary()}; manifest {manifest}")
    return manifest


def channel_files(data: Path) -> dict[str, dict[str, Path]]:
    """The channels to upload from --data, by the rule train-local uses too (`data_paths.data_channels`)."""
    found = data_paths.data_channels(data)
    if found.note():
        progress.echo(found.note())
    return found.channels


def _check_training_data(config: Config, channels: dict[str, dict[str, Path]]) -> tuple[int, int, str]:
    """Read the training files here first: a wrong column name costs seconds, not a SageMaker job.

    Returns the training table's rows and columns (for `sizing`) and the model's task."""
    training = next(files for name, files in channels.items() if name in TRAINING_CHANNELS)
    rows = columns = 0
    for path in training.values():
        frame = dataset.read_channel(path, config.categorical)
        task = schema_module.infer(frame, config).task
        if config.time:
            time_validation.times_of(frame, config.time)  # dates or numbers: else the job would fail on it
        rows, columns = rows + len(frame), max(columns, len(frame.columns))
    return rows, columns, task


if TYPE_CHECKING:
    from releaseml.checking.data_check import CheckResult

MODELS_DIR = Path(".releaseml") / "models"  # training jobs' models, downloaded once to check data against
BATCH_INPUTS_DIR = Path(".releaseml") / "batch-inputs"  # Parquet inputs converted to CSV lines, per job


def check_data(ctx: Project, data: Path, job_name: str) -> CheckResult:
    """Check scoring data here against a training job's model (downloaded once into .releaseml/models/JOB/)."""
    from releaseml.checking import data_check

    return data_check.check(data, sagemaker_training.download_model(ctx.aws, job_name, MODELS_DIR / job_name))


def batch_predict(
    ctx: Project,
    data: Path,
    job_name: str,
    out_dir: Path,
    join: bool = False,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    explain: Optional[int] = None,
    check: bool = True,
    strict: bool = False,
) -> transform.TransformOutcome:
    """Batch-predict the files of `data` with the model of a training job; download the results into `out_dir`.

    The data is checked here first (`check`): errors stop it before a job is paid for; with `strict`,
    large drift does too.
    """
    files, content_type = transform.input_files(data)
    if check:
        checked = check_data(ctx, data, job_name)
        progress.echo(checked.sentence())
        for warning in checked.warnings:
            progress.echo(f"  warning: {warning}")
        if checked.errors:
            raise UserError(
                "the data has errors; no job was started:\n"
                + "\n".join(f"  {e}" for e in checked.errors)
                + "\n(`releaseml check-data` writes the full check)"
            )
        if strict and checked.large_drift:
            raise UserError(
                f"large drift in {', '.join(checked.large_drift)} and --strict: no job was started (`releaseml check-data` shows it)"
            )
    if content_type == media.CSV:
        transform.refuse_header_rows(files, _column_names(ctx))
    if content_type == media.PARQUET:
        from releaseml.model import bundle

        model = bundle.load(sagemaker_training.download_model(ctx.aws, job_name, MODELS_DIR / job_name))
        converted = BATCH_INPUTS_DIR / job_name
        shutil.rmtree(converted, ignore_errors=True)
        files, content_type = transform.parquet_as_lines(files, model.schema.features, converted), media.CSV
        progress.echo(f"Parquet converted to CSV lines of the model's features in {converted}")
    instances = ctx.section.transform_instance_count
    if instances > 1:
        parts = BATCH_INPUTS_DIR / f"{job_name}-parts"
        shutil.rmtree(parts, ignore_errors=True)
        split = transform.split_for_instances(files, instances, parts)
        if len(split) > len(files):
            progress.echo(f"{len(files)} file(s) cut into {len(split)} parts at line boundaries, so {instances} instances all get work")
        files = split
    model_name = models.ensure_model(ctx.aws, job_name, ctx.role, ctx.tags)
    bucket = ctx.bucket
    storage.ensure_bucket(ctx.aws, bucket)
    name = unique_name(f"{ctx.section.repository}-batch")
    input_key = ctx.key("batch", name, "input")
    storage.upload(ctx.aws, files, bucket, input_key)
    output_uri = storage.uri(bucket, ctx.key("batch", name, "output"))
    job = transform.request(
        name, model_name, ctx.section, storage.uri(bucket, input_key + "/"), output_uri, content_type, join, ctx.tags, explain
    )
    with errors(f"creating batch transform {name}"):
        ctx.aws.client("sagemaker").create_transform_job(**job)
    progress.echo(f"Batch transform {name} created: {ctx.aws.console_url('transform-jobs', name)}")
    return transform.attach(ctx.aws, name, out_dir, timeout, poll_seconds)


def _column_names(ctx: Project) -> set[str]:
    """Column names this config knows of, and those of the local training data's header when it is here."""
    config = ctx.config
    names = {config.target, *(config.features or []), *config.drop, *config.categorical}
    training = config.data.training if config.data else None
    if training:
        path = Path(training) if Path(training).is_absolute() else ctx.config_path.parent / training
        try:
            names |= {str(column) for column in dataset.read_channel(path).columns}
        except UserError:
            pass  # the header check is a courtesy; the data need not be on this machine
    return names


@dataclass
class EndpointOutcome:
    """What `releaseml endpoint` made: the endpoint, its autoscaling, and its public API (with the new key)."""

    name: str
    kind: str
    status: str
    scaling: Optional[dict] = None
    public: Optional[public_api.PublicApi] = None
    reason: Optional[str] = None  # why it failed, when it did
    capture: Optional[dict] = None  # the DataCaptureConfig, when it captures
    version: Optional[int] = None  # the registered version it serves, when deployed by --version
    monitor: Optional[monitor_schedule.Followed] = None  # its monitor schedule, pointed at the model it now serves

    def as_dict(self) -> dict:
        found = {"endpoint": self.name, "kind": self.kind, "status": self.status}
        if self.reason:
            found["failure_reason"] = self.reason
        if self.version is not None:
            found["version"] = self.version
        if self.capture:
            found["data_capture"] = self.capture
        if self.scaling:
            found["autoscaling"] = self.scaling
        if self.public:
            found["public_api"] = self.public.as_dict()
        if self.monitor:
            found["monitor_schedule"] = vars(self.monitor)
        return found


def create_endpoint(
    ctx: Project,
    job_name: str,
    name: Optional[str],
    public: bool = False,
    wait: bool = True,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    version: Optional[int] = None,
    capture: Optional[int] = None,
) -> EndpointOutcome:
    """Create (or update in place) the endpoint of a training job's model, with its autoscaling and, if asked, a public API.

    Everything that can be refused is checked before anything is made: the API role, the kind.
    `version`: serve that registered version (its image and model.tar.gz) instead of `job_name`'s model.
    `capture`: the percentage of requests to capture (0: none); None keeps what the endpoint captured.
    """
    name = name or ctx.section.repository
    section = ctx.section
    api_role = _public_api_role(ctx) if public else None
    if public and section.endpoint_kind == "async":
        raise UserError("a public API answers at once, so it fronts real-time endpoints only: drop --public, or --async")
    if capture:
        capture_module.config(section, ctx.bucket, capture)  # a wrong percentage or kind is refused before anything is made
    if version is not None:
        registered = model_registry.version(ctx.aws, model_registry.group_name(section), version)
        model_name = models.ensure_version_model(ctx.aws, registered, ctx.role, ctx.tags)
    else:
        model_name = models.ensure_model(ctx.aws, job_name, ctx.role, ctx.tags)
    async_paths = async_inference.paths(ctx.bucket, ctx.section.prefix, name) if section.endpoint_kind == "async" else None
    if async_paths:
        storage.ensure_bucket(ctx.aws, ctx.bucket)
    existing = endpoints.find(ctx.aws, name)
    if existing:  # before anything changes: an endpoint cannot change kind in place
        endpoints.check_same_kind(ctx.aws, name, existing["EndpointConfigName"], section.endpoint_kind)
    captured = capture_module.kept(
        endpoints.describe_config(ctx.aws, existing["EndpointConfigName"]) if existing else None, capture, section, ctx.bucket
    )
    if captured and captured["DestinationS3Uri"].startswith(f"s3://{ctx.bucket}/"):
        storage.ensure_bucket(ctx.aws, ctx.bucket)
    # SageMaker will not update an endpoint whose instance count autoscaling owns: let go first, set again after.
    had_scaling = bool(scaling.remove(ctx.aws, name))
    try:
        extra = {"DataCaptureConfig": captured} if captured else None
        description = endpoints.deploy(ctx.aws, name, model_name, section, ctx.tags, async_paths, wait, timeout, poll_seconds, extra)
    except StillRunning as exc:
        if had_scaling or section.max_instances is not None:
            raise StillRunning(f"{exc} Autoscaling is set once it serves: run `releaseml endpoint` again then.") from None
        raise
    outcome = EndpointOutcome(name, section.endpoint_kind, description["EndpointStatus"], capture=captured, version=version)
    if wait:
        outcome.scaling = scaling.apply(ctx.aws, name, section)
        outcome.monitor = monitor_schedule.follow(ctx.aws, name)  # it serves: the schedule checks against what it serves
    if api_role:
        outcome.public = public_api.publish(ctx.aws, name, section, api_role, settings.tag_map(section))
    return outcome


def endpoint_status(ctx: Project, name: str) -> EndpointOutcome:
    """The endpoint as it stands: kind, status (and why it failed), autoscaling range, public URL."""
    description = endpoints.describe(ctx.aws, name)
    config = endpoints.describe_config(ctx.aws, description["EndpointConfigName"])
    outcome = EndpointOutcome(
        name,
        endpoints.kind_of(config),
        description["EndpointStatus"],
        reason=description.get("FailureReason"),
        capture=config.get("DataCaptureConfig"),
    )
    target = scaling.describe(ctx.aws, name)
    if target:
        outcome.scaling = {"min_instances": target["MinCapacity"], "max_instances": target["MaxCapacity"]}
    outcome.public = public_api.find(ctx.aws, name)
    return outcome


def publish(ctx: Project, name: Optional[str]) -> public_api.PublicApi:
    """A public API for an existing real-time endpoint (or its limits brought up to the config's)."""
    name = name or ctx.section.repository
    api_role = _public_api_role(ctx)
    if endpoints.kind(ctx.aws, name) == "async":
        raise UserError(f"endpoint {name!r} is asynchronous; a public API fronts real-time endpoints only")
    return public_api.publish(ctx.aws, name, ctx.section, api_role, settings.tag_map(ctx.section))


def _public_api_role(ctx: Project) -> str:
    role = settings.api_role_arn(ctx.section, ctx.aws)
    settings.check_role(ctx.aws, role, settings.API_GATEWAY_SERVICE, "aws.api_role")
    return role


def public_api_of(ctx: Project, name: Optional[str]) -> public_api.PublicApi:
    name = name or ctx.section.repository
    found = public_api.find(ctx.aws, name)
    if found is None:
        raise UserError(f"endpoint {name!r} has no public API: `releaseml api --name {name}` makes one")
    return found


def rotate_key(ctx: Project, name: Optional[str]) -> public_api.PublicApi:
    return public_api.rotate_key(ctx.aws, public_api_of(ctx, name), settings.tag_map(ctx.section))


def delete_public_api(ctx: Project, name: Optional[str]) -> list[str]:
    found = public_api_of(ctx, name)
    return public_api.delete(ctx.aws, found.endpoint)


def delete_endpoint(ctx: Project, name: Optional[str]) -> list[str]:
    """Delete the endpoint and everything that hangs on it: its monitor (schedule first, so it starts no more jobs),
    public API, keys, usage plan, autoscaling, alarms, config.

    Returns what was deleted, in order. The model goes too unless another endpoint serves it
    (batch predictions and new endpoints make it again from the training job).
    """
    name = name or ctx.section.repository
    description = endpoints.describe(ctx.aws, name)  # a plain message when there is no such endpoint
    served = {v["ModelName"] for _, v in endpoints.variants(endpoints.describe_config(ctx.aws, description["EndpointConfigName"]))}
    deleted = monitor_schedule.remove(ctx.aws, name)
    deleted += public_api.delete(ctx.aws, name)
    deleted += scaling.remove(ctx.aws, name)
    deleted += alarms.delete(ctx.aws, name)
    config_name = endpoints.delete(ctx.aws, name)
    deleted += [f"endpoint config {config_name}", f"endpoint {name}"]
    return deleted + [f"model {model}" for model in sorted(served) if models.delete_if_unused(ctx.aws, model, name)]


def predict_async(
    ctx: Project,
    name: str,
    payload: Path,
    content_type: Optional[str],
    accept: Optional[str],
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    explain: Optional[int] = None,
) -> str:
    return async_inference.invoke(
        ctx.aws, name, payload, ctx.bucket, ctx.section.prefix, content_type, accept, timeout, poll_seconds, explain
    )


# -- versions and promotion ---------------------------------------------------------------------------


def register_version(ctx: Project, job_name: str, reports: Optional[Path] = REPORTS_DIR, once: bool = False) -> model_registry.Version:
    """Register a completed training job's model as a new version of the project's model group.

    The job's metrics.json (from the report `deploy` downloaded) goes beside its model in S3 as the
    version's ModelMetrics. `once`: not again when a version of this job is there already (`logs`).
    """
    group = model_registry.group_name(ctx.section)
    if once:
        for existing in model_registry.versions(ctx.aws, group):
            if existing.training_job == job_name:
                return existing
    job = sagemaker_training.require_completed(sagemaker_training.describe(ctx.aws, job_name))
    metrics_file = reports / job_name / "metrics.json" if reports is not None else None
    metrics_uri = None
    if metrics_file is not None and metrics_file.is_file():
        prefix = ctx.key("models", job_name)
        storage.upload(ctx.aws, {"metrics.json": metrics_file}, ctx.bucket, prefix)
        metrics_uri = storage.uri(ctx.bucket, f"{prefix}/metrics.json")
    registered = model_registry.register(ctx.aws, group, job, ctx.tags, metrics_uri)
    progress.echo(f"Registered as version {registered.number} of model group {group} ({registered.status})")
    return registered


def list_versions(ctx: Project) -> tuple[str, list[model_registry.Version]]:
    """The project's model group and its versions, oldest first, with the endpoints serving each."""
    group = model_registry.group_name(ctx.section)
    return group, model_registry.with_endpoints(ctx.aws, model_registry.versions(ctx.aws, group))


PROMOTIONS_DIR = Path(".releaseml") / "promotions"  # the rows a promotion compared on, per challenger


@dataclass
class PromotionOutcome:
    """What `releaseml promote` did: who was compared, how, and what the endpoint serves now."""

    endpoint: str
    group: str
    challenger: int
    champion: int
    status: str  # promoted, or shadow
    comparison: Optional[dict] = None  # None with --force or --shadow
    alarms: list[str] = field(default_factory=list)
    endpoint_config: Optional[str] = None
    deployment: Optional[dict] = None  # the DeploymentConfig sent with UpdateEndpoint
    monitor: Optional[monitor_schedule.Followed] = None  # the endpoint's monitor schedule, pointed at the new model


def promote(
    ctx: Project,
    endpoint: str,
    number: Optional[int] = None,
    data: Optional[Path] = None,
    force: bool = False,
    shadow: bool = False,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
) -> PromotionOutcome:
    """Replace the version endpoint `endpoint` serves (the champion) with `number` (the challenger; default the newest)
    when it is better beyond noise (`promotion`), blue/green with alarms that roll it back; verified after, and then
    the endpoint's monitor schedule (if any) checks against the new model.

    `shadow`: no gate and no approval; the challenger is added as a shadow variant beside the champion:
    it gets a copy of every request, and its answers go nowhere but its metrics (and data capture).
    """
    from datetime import datetime, timezone

    group = model_registry.group_name(ctx.section)
    found = model_registry.versions(ctx.aws, group)
    challenger = model_registry.version(ctx.aws, group, number, found)
    current, champion = _champion(ctx, endpoint, group, found, challenger)
    challenger_model = models.ensure_version_model(ctx.aws, challenger, ctx.role, ctx.tags)
    carried = {key: current[key] for key in ("AsyncInferenceConfig", "DataCaptureConfig") if current.get(key)}
    request: dict = {"EndpointConfigName": unique_name(endpoint), "Tags": ctx.tags, **carried}
    if shadow:
        if ctx.section.endpoint_kind == "serverless":
            raise UserError("SageMaker runs shadow variants on instances: a serverless endpoint cannot have one")
        request["ProductionVariants"] = current["ProductionVariants"]
        request["ShadowProductionVariants"] = [
            {**endpoints.production_variant(ctx.section, challenger_model), "VariantName": endpoints.SHADOW_VARIANT}
        ]
        update = endpoints.update_guarded(ctx.aws, endpoint, request, None, timeout, poll_seconds)
        return PromotionOutcome(endpoint, group, challenger.number, champion.number, "shadow", endpoint_config=update.config_name)
    comparison = None
    if not force:
        comparison = _compare(ctx, challenger, champion, data)
        said = comparison.sentence(f"version {challenger.number}", f"version {champion.number}")
        if not comparison.better:
            raise UserError(
                f"version {challenger.number} is not better than version {champion.number}, which serves {endpoint}, {said}: "
                f"the interval must lie below 0. The endpoint is unchanged (--force promotes it anyway)"
            )
        progress.echo(f"Version {challenger.number} is better than version {champion.number} {said}.")
    why = f"promoted to endpoint {endpoint} over version {champion.number}" + (
        f": {comparison.sentence('it', 'that')}" if comparison else " (--force: no comparison)"
    )
    model_registry.set_status(ctx.aws, challenger, model_registry.APPROVED, why)
    alarm_names = alarms.ensure(ctx.aws, endpoint, ctx.section, ctx.tags)
    request["ProductionVariants"] = [endpoints.production_variant(ctx.section, challenger_model)]
    deployment = endpoints.deployment_config(ctx.section, alarm_names) if ctx.section.endpoint_kind != "serverless" else None
    had_scaling = bool(scaling.remove(ctx.aws, endpoint))  # SageMaker will not update an endpoint autoscaling holds
    started = datetime.now(timezone.utc)
    update = endpoints.update_guarded(ctx.aws, endpoint, request, deployment, timeout, poll_seconds)
    if had_scaling or ctx.section.max_instances is not None:
        scaling.apply(ctx.aws, endpoint, ctx.section)
    if update.rolled_back:
        fired = alarms.firing(ctx.aws, alarm_names, started)
        named = ", ".join(fired) if fired else f"one of {', '.join(alarm_names)} (none is in ALARM any more)"
        model_registry.set_status(ctx.aws, challenger, model_registry.REJECTED, f"rolled back on endpoint {endpoint}: alarm {named}")
        raise UserError(
            f"SageMaker rolled the update of endpoint {endpoint} back: alarm {named} went into ALARM while version "
            f"{challenger.number} took traffic. The endpoint still serves version {champion.number} ({update.description['EndpointConfigName']}); "
            f"version {challenger.number} is now Rejected (`releaseml models` shows it)"
        )
    return PromotionOutcome(
        endpoint, group, challenger.number, champion.number, "promoted", comparison.as_dict() if comparison else None,
        alarm_names, update.config_name, deployment, monitor_schedule.follow(ctx.aws, endpoint),
    )  # fmt: skip


def _champion(ctx: Project, endpoint: str, group: str, found: list, challenger) -> tuple[dict, model_registry.Version]:
    """The endpoint's config and the version its production variant serves; a UserError when there is none to compare with."""
    first = f"`releaseml endpoint --name {endpoint} --version {challenger.number}`"
    existing = endpoints.find(ctx.aws, endpoint)
    if existing is None:
        raise UserError(
            f"no endpoint {endpoint!r} in {ctx.aws.region}, so no champion to compare version {challenger.number} with: "
            f"deploy a version to it first ({first}; the first needs no gate), or check --endpoint and the region"
        )
    endpoints.check_same_kind(ctx.aws, endpoint, existing["EndpointConfigName"], ctx.section.endpoint_kind)
    current = endpoints.describe_config(ctx.aws, existing["EndpointConfigName"])
    model_name = current["ProductionVariants"][0]["ModelName"]
    served = endpoints.model_data_of(ctx.aws, model_name)
    champion = next((each for each in found if each.model_data == served), None)
    if champion is None:
        raise UserError(
            f"endpoint {endpoint} serves model {model_name} ({served or 'gone'}), which is no version of model group {group}, "
            f"so there is no champion to compare with: deploy a version to it first ({first}; `releaseml models` lists them)"
        )
    if champion.number == challenger.number:
        raise UserError(
            f"version {challenger.number} already serves endpoint {endpoint}: nothing to promote (`releaseml models` lists the versions)"
        )
    return current, champion


def _compare(ctx: Project, challenger, champion, data: Optional[Path]):
    """Both versions' models (downloaded once) on the same rows: `data`, else the challenger's validation rows."""
    from releaseml.aws import promotion

    def directory(version) -> Path:
        return MODELS_DIR / (version.training_job or f"{version.group}-v{version.number}")

    ours = promotion.load_model(ctx.aws, challenger.model_data, directory(challenger))
    theirs = promotion.load_model(ctx.aws, champion.model_data, directory(champion))
    if data is not None:
        frame, source = promotion.read_rows(data, [ours, theirs])
    elif challenger.training_job:
        work = PROMOTIONS_DIR / challenger.training_job
        shutil.rmtree(work, ignore_errors=True)
        frame, source = promotion.validation_rows(ctx.aws, challenger.training_job, f"version {challenger.number}", work)
    else:
        raise UserError(f"version {challenger.number} names no training job, so its validation rows are unknown: pass --data FILE")
    return promotion.compare(ours, theirs, frame, source)
