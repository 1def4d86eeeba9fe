"""Versions of a project's model: a SageMaker model package group, one package (version) per deploy.

A version says what was trained and how well, without a download: the training job, its data
manifests, where its report is, and its final metrics, in the package's CustomerMetadataProperties
(strings of at most 256 characters, 50 at most); its metrics.json is also the package's
ModelMetrics.ModelQuality. A new version waits in PendingManualApproval; `releaseml promote`
approves it when it beats the version an endpoint serves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

from releaseml.aws.session import Aws, errors, is_missing
from releaseml.common import media
from releaseml.common.errors import UserError

PENDING, APPROVED, REJECTED = "PendingManualApproval", "Approved", "Rejected"
CONTENT_TYPES = list(media.TYPES)  # what the container reads and answers in (serving accepts Parquet too, as a courtesy)
METADATA_VALUE_LIMIT = 256  # CustomerMetadataProperties: SageMaker's limit per value
METADATA_ENTRIES_LIMIT = 50
TRAINING_JOB, REPORT, DATA, METRIC = "training_job", "report", "data:", "metric:"  # metadata keys (DATA, METRIC: prefixes)


@dataclass
class Version:
    """One registered version, as `releaseml models` shows it."""

    group: str
    number: int
    arn: str
    status: str  # ModelApprovalStatus
    created: str
    image: str
    model_data: str  # the model.tar.gz the version serves
    training_job: Optional[str] = None
    report: Optional[str] = None  # output.tar.gz, which holds report.html
    data: dict[str, str] = field(default_factory=dict)  # channel -> manifest (or prefix) the job read
    metrics: dict[str, float] = field(default_factory=dict)
    approval: Optional[str] = None  # ApprovalDescription: why it was approved or rejected
    endpoints: list[str] = field(default_factory=list)  # endpoints serving it ("NAME" or "NAME (shadow)")

    def as_dict(self) -> dict:
        return asdict(self)


def group_name(section) -> str:
    """The config's `aws.model_group`, else the repository name: one group per project."""
    return section.model_group or section.repository


def register(aws: Aws, group: str, job: dict, tags: list[dict], metrics_uri: Optional[str] = None) -> Version:
    """A new version from a completed training job's DescribeTrainingJob answer (the group made if missing)."""
    ensure_group(aws, group, tags)
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    request = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": f"Trained by SageMaker training job {job['TrainingJobName']}"[:1024],
        "InferenceSpecification": {
            "Containers": [{"Image": job["AlgorithmSpecification"]["TrainingImage"], "ModelDataUrl": artifact}],
            "SupportedContentTypes": CONTENT_TYPES,
            "SupportedResponseMIMETypes": CONTENT_TYPES,
        },
        "ModelApprovalStatus": PENDING,
        "MetadataProperties": {"GeneratedBy": job["TrainingJobArn"]} if job.get("TrainingJobArn") else {},
        "CustomerMetadataProperties": metadata(job),
        "Tags": tags,
    }
    if metrics_uri:
        request["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": media.JSON, "S3Uri": metrics_uri}}}
    if not request["MetadataProperties"]:
        del request["MetadataProperties"]
    with errors(f"registering the model of {job['TrainingJobName']} in model group {group}"):
        arn = aws.client("sagemaker").create_model_package(**request)["ModelPackageArn"]
    return describe(aws, group, arn)


def metadata(job: dict) -> dict[str, str]:
    """CustomerMetadataProperties for a job: what a version must say without a download. Metrics beyond
    the limit of 50 entries are left out (validation ones kept first); a value over 256 characters is an error."""
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    found = {TRAINING_JOB: job["TrainingJobName"], REPORT: artifact.rsplit("/", 1)[0] + "/output.tar.gz"}
    for channel in job.get("InputDataConfig", []):
        found[DATA + channel["ChannelName"]] = channel["DataSource"]["S3DataSource"]["S3Uri"]
    metrics = sorted(job.get("FinalMetricDataList", []), key=lambda m: (not m["MetricName"].startswith("validation:"), m["MetricName"]))
    for metric in metrics[: METADATA_ENTRIES_LIMIT - len(found)]:
        found[METRIC + metric["MetricName"]] = repr(float(metric["Value"]))
    for key, value in found.items():
        if len(value) > METADATA_VALUE_LIMIT:
            raise UserError(
                f"model metadata {key} is {len(value)} characters, and SageMaker keeps at most {METADATA_VALUE_LIMIT}: "
                f"shorten aws.prefix or aws.bucket ({value[:80]}...)"
            )
    return found


def ensure_group(aws: Aws, group: str, tags: list[dict]) -> None:
    sagemaker = aws.client("sagemaker")
    if _group_exists(aws, group):
        return
    with errors(f"creating model package group {group}"):
        sagemaker.create_model_package_group(
            ModelPackageGroupName=group, ModelPackageGroupDescription="Models trained by releaseml, one version per deploy", Tags=tags
        )


def _group_exists(aws: Aws, group: str) -> bool:
    sagemaker = aws.client("sagemaker")
    with errors(f"looking up model package group {group}"):
        try:
            sagemaker.describe_model_package_group(ModelPackageGroupName=group)
            return True
        except sagemaker.exceptions.ClientError as exc:
            if is_missing(exc) or "does not exist" in exc.response.get("Error", {}).get("Message", ""):
                return False
            raise


def versions(aws: Aws, group: str) -> list[Version]:
    """Every version of the group, oldest first (none when the group does not exist yet)."""
    if not _group_exists(aws, group):
        return []
    sagemaker = aws.client("sagemaker")
    with errors(f"listing the versions of model group {group}"):
        pages = sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group, ModelPackageType="Versioned")
        arns = [summary["ModelPackageArn"] for page in pages for summary in page["ModelPackageSummaryList"]]
    return sorted((describe(aws, group, arn) for arn in arns), key=lambda version: version.number)


def describe(aws: Aws, group: str, arn: str) -> Version:
    with errors(f"looking up model package {arn}"):
        package = aws.client("sagemaker").describe_model_package(ModelPackageName=arn)
    container = package["InferenceSpecification"]["Containers"][0]
    properties = package.get("CustomerMetadataProperties") or {}
    return Version(
        group=group,
        number=int(package["ModelPackageVersion"]),
        arn=package["ModelPackageArn"],
        status=package.get("ModelApprovalStatus", PENDING),
        created=str(package.get("CreationTime", "")),
        image=container["Image"],
        model_data=container["ModelDataUrl"],
        training_job=properties.get(TRAINING_JOB),
        report=properties.get(REPORT),
        data={key[len(DATA) :]: value for key, value in properties.items() if key.startswith(DATA)},
        metrics={key[len(METRIC) :]: float(value) for key, value in properties.items() if key.startswith(METRIC)},
        approval=package.get("ApprovalDescription"),
    )


def version(aws: Aws, group: str, number: Optional[int] = None, found: Optional[list[Version]] = None) -> Version:
    """Version `number` of the group (None: the newest); a UserError listing the versions there are.

    `found`: the group's versions when the caller has listed them already."""
    found = versions(aws, group) if found is None else found
    if not found:
        raise UserError(f"model group {group} has no versions in {aws.region}: every `releaseml deploy` registers one")
    if number is None:
        return found[-1]
    for each in found:
        if each.number == number:
            return each
    listed = ", ".join(f"{v.number} ({v.status})" for v in found)
    raise UserError(f"model group {group} has no version {number}; its versions are {listed} (`releaseml models` shows them)")


def set_status(aws: Aws, version: Version, status: str, why: str) -> None:
    """ModelApprovalStatus (Approved, Rejected) with the reason, as SageMaker keeps it (ApprovalDescription)."""
    with errors(f"setting version {version.number} of {version.group} to {status}"):
        aws.client("sagemaker").update_model_package(
            ModelPackageArn=version.arn, ModelApprovalStatus=status, ApprovalDescription=why[:1024]
        )


def with_endpoints(aws: Aws, found: list[Version]) -> list[Version]:
    """The versions with the endpoints that serve each (matched by model.tar.gz, however the model was made)."""
    from releaseml.aws import endpoints

    served = endpoints.served_model_data(aws)
    for each in found:
        each.endpoints = served.get(each.model_data, [])
    return found
