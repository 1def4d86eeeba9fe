"""A test fixture that plays the part of SageMaker the emulator cannot: running the containers.

moto's server answers every SageMaker, ECR, S3 and CloudWatch Logs call over HTTP, but it runs no
container (a job is "Completed" at once and writes nothing) and has no registry behind its ECR.
This player sits in front of moto for the SageMaker, sagemaker-runtime and ECR APIs only: it
forwards each call to moto, records what was sent, and then does what SageMaker documents:

- training job: pulls AlgorithmSpecification.TrainingImage from the registry, lays out /opt/ml
  (input/config/hyperparameters.json, inputdataconfig.json, resourceconfig.json, input/data/<channel>/
  from the channel's S3 prefix, or from the objects its manifest lists, at their paths relative to the
  manifest's prefix), runs `docker run IMAGE train`, writes the container's output to the
  CloudWatch log stream <job>/algo-1-<time> in /aws/sagemaker/TrainingJobs, uploads /opt/ml/model as
  <S3OutputPath>/<job>/output/model.tar.gz and /opt/ml/output/data as output.tar.gz, reads
  /opt/ml/output/failure as the FailureReason, applies the job's MetricDefinitions regexes to the
  log for FinalMetricDataList, and stops the container after StoppingCondition.MaxRuntimeInSeconds
  (status Stopped, secondary status MaxRuntimeExceeded); the job's Environment is the container's;
  a managed spot job (EnableManagedSpotTraining with a CheckpointConfig) is interrupted once, part-way,
  as a spot reclaim is (SIGTERM, then the checkpoint directory synced to S3), and restarted on a fresh
  /opt/ml with its checkpoints restored; TrainingTimeInSeconds is the containers' running time and
  BillableTimeInSeconds SPOT_BILLED_SHARE of it for spot jobs (all of it otherwise);
- batch transform: unpacks the model's ModelDataUrl into /opt/ml/model, runs `docker run IMAGE serve`,
  waits for GET /ping, splits every input object into records on newlines (SplitType Line), packs
  them into mini-batches of at most MaxPayloadInMB (BatchStrategy MultiRecord), POSTs each to
  /invocations with ContentType and Accept, assembles the answers with a newline after each
  (AssembleWith Line), joins input and output records when DataProcessing.JoinSource is Input,
  and uploads <S3OutputPath>/<input name>.out; the job's Environment (over the model's) is the
  container's environment; with TransformResources.InstanceCount N, whole input objects are handed
  out across N containers (instances), round robin, as SageMaker distributes objects, never lines;
- endpoint: runs `serve` for the endpoint config's model, reports Creating, then InService once /ping
  answers; UpdateEndpoint (which moto lacks) turns it Updating while the old container still serves,
  then switches to the new config's container; InvokeEndpoint (sagemaker-runtime) is passed to /invocations
  with Content-Type, Accept and CustomAttributes (as the X-Amzn-SageMaker-Custom-Attributes header), and a
  4xx from the model comes back as SageMaker's ModelError.
- serverless endpoint (a variant with ServerlessConfig): CreateEndpointConfig refuses a MemorySizeInMB
  that is not 1024-6144 in 1024 steps or a MaxConcurrency outside 1-200 (moto accepts any), and the
  container runs with that memory as its limit;
- async endpoint (AsyncInferenceConfig): InvokeEndpointAsync answers 202 with an InferenceId and the
  OutputLocation `<S3OutputPath>/<id>.out` / FailureLocation `<S3FailurePath>/<id>-error.out`, then
  reads InputLocation from S3, posts it to /invocations, and writes the answer (or the model's error)
  there;
- hyperparameter tuning job: trains MaxNumberOfTrainingJobs trials, at most MaxParallelTrainingJobs
  at once, each a training job named `<tuning job>-<NNN>-<8 hex>` played as above, with the
  StaticHyperParameters, `_tuning_objective_metric` and one value per ParameterRange (Integer and
  Continuous drawn on the range's ScalingType, Logarithmic on a log scale; Categorical one of the
  Values), drawn from a generator seeded by RandomSeed. This is not SageMaker's Bayesian search
  (nothing is learnt from earlier trials) and it stops no trial early: what it plays is the contract
  around the search: the values reach the container as hyperparameters, the objective is read from
  each trial's log with the objective's MetricDefinition (the last match), and BestTrainingJob is the
  trial with the best objective in its Type's direction. ListTrainingJobsForHyperParameterTuningJob
  (which moto lacks) is answered here; DescribeHyperParameterTuningJob gets the status, the
  counters and the best job. Like SageMaker, it refuses an objective that no MetricDefinition names
  and a tuned key that is also static;
- endpoint updates with a DeploymentConfig (moto lacks UpdateEndpoint): the BlueGreenUpdatePolicy is checked by
  the API reference's ranges, then played: the new config's containers start beside the old ones (which serve
  meanwhile), traffic moves in the TrafficRoutingConfiguration's steps (ALL_AT_ONCE; CANARY; LINEAR), InvokeEndpoint
  routing each request to the new fleet with its share, and each step bakes for WaitIntervalInSeconds while the
  AutoRollbackConfiguration's alarms are read from moto's CloudWatch (tests set them with SetAlarmState): one in
  ALARM rolls back (old config in service, new containers stopped); else the old fleet goes after
  TerminationWaitInSeconds. DescribeEndpoint says LastDeploymentConfig and, meanwhile, PendingDeploymentSummary;
- shadow variants (ShadowProductionVariants, which moto drops from the endpoint config: kept from the request):
  a second container gets a copy of every InvokeEndpoint request, after the answer; its answer goes nowhere;
- data capture (DataCaptureConfig, kept likewise): for InitialSamplingPercentage of the requests InvokeEndpoint
  serves (drawn per request from a seeded generator), one JSON line in SageMaker's documented format
  (captureData.endpointInput/endpointOutput with observedContentType, mode, data, encoding CSV|JSON|BASE64 by
  CaptureContentTypeHeader; eventMetadata with eventId, inferenceTime and inferenceId when given; eventVersion "0")
  is written to DestinationS3Uri/ENDPOINT/VARIANT/yyyy/mm/dd/hh/MM-SS-mmm-<id>.jsonl, a file per request (SageMaker
  gathers a few minutes' requests per file); answers with an error are not captured here;
- model registry: moto 5 keeps model package groups and versioned packages, but UpdateModelPackage replaces
  CustomerMetadataProperties and ApprovalDescription with what the request holds (none, when it only approves);
  SageMaker changes only what the request names, so the request is filled in with the package's current values
  before moto gets it. CreateModelPackage and UpdateModelPackage refuse CustomerMetadataProperties beyond the
  API reference's limits (50 entries, keys of 128 characters, values of 256), which moto does not check;
- processing job (moto 5 stores CreateProcessingJob, drops its ProcessingResources and Environment, and says
  Completed at once): CreateProcessingJob refuses a ProcessingJobName outside SageMaker's pattern
  ([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}) and an Environment beyond the API reference's limits; then each
  ProcessingInput's S3Input (S3Prefix, File mode) is downloaded to its LocalPath (keys kept relative to the
  prefix up to its last "/", so a prefix that is a whole key, such as a model.tar.gz, lands as LocalPath/NAME),
  the image is pulled and run as "How Amazon SageMaker Processing Runs Your Processing Container Image" says
  (`docker run [--entrypoint ContainerEntrypoint] IMAGE [ContainerArguments]`, with the job's Environment, no
  network) with /opt/ml mounted (processing/input, processing/output, output/message), its output streamed to
  the CloudWatch log stream JOB/algo-1-<time> in /aws/sagemaker/ProcessingJobs, and stopped after
  StoppingCondition.MaxRuntimeInSeconds (Stopped). On exit 0 each ProcessingOutput's LocalPath is uploaded under
  its S3Uri (S3UploadMode EndOfJob) and the job is Completed, else Failed with FailureReason
  "AlgorithmError: <the message>"; either way DescribeProcessingJob's ExitMessage is the first 1 KB of
  /opt/ml/output/message ("Save and Access Metadata Information About Your Processing Job"), and it also
  answers the ProcessingResources and Environment moto drops;
- CloudWatch Logs (its API passes through to moto): PutMetricFilter "creates or updates" a filter, where moto 5
  appends a second one of the same name, so the player deletes the old one first. moto stores metric filters
  and applies none: every line the player writes to a log group is matched against the metric filters the
  group has when the stream starts (DescribeMetricFilters), and a match becomes metric data in moto's CloudWatch (PutMetricData) as the metric filter documentation
  says: metricValue a number or a `$.field` of the JSON event, dimensions from `$.field`s (no datum when a
  field is missing), the unit, the event's timestamp. JSON filter patterns of comparisons joined by `&&`
  are played (`{ $.a = "x" && $.b = * }`, with =, !=, <, <=, >, >=); any other pattern matches nothing here;
- EventBridge Scheduler (moto stores schedules and fires none): `fire_schedule(name, scheduled_time)` does what
  Scheduler does when a schedule is due: it reads the schedule, assumes its Target.RoleArn (which must exist,
  trust scheduler.amazonaws.com and allow the target's action, and iam:PassRole for a request that passes a
  role, and sagemaker:AddTags for one with Tags), fills in the context attributes of "Adding context
  attributes in EventBridge Scheduler" (<aws.scheduler.schedule-arn>, <aws.scheduler.scheduled-time>,
  <aws.scheduler.execution-id>: 16 lowercase letters and digits, <aws.scheduler.attempt-number>: 1) in
  Target.Input, and sends the call a universal target's ARN names (arn:aws:scheduler:::aws-sdk:SERVICE:action)
  with that Input as its parameters; SageMaker's calls go through this player;
- ECR: repository URIs and the login endpoint point at a real registry on a loopback port;
- API Gateway's control plane passes through to moto (recorded); moto drops CreateRestApi's
  binaryMediaTypes, so they are set on the stored API right after. Its data plane is played by
  `ApiGatewayPlayer` (api_gateway_player.py).

Job status comes from the player while it plays a job (moto would say Completed at once).
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import random
import re
import secrets
import shutil
import tarfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import requests

from helpers import free_port
from releaseml.common.errors import UserError
from releaseml.serving.client import wait_until_ready

MB = 1024 * 1024
# Spot jobs: BillableTimeInSeconds as this share of TrainingTimeInSeconds (the spot discount is
# this fixture's choice; SageMaker's documented saving is 1 - Billable / Training).
SPOT_BILLED_SHARE = 0.3
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"


@dataclass
class Job:
    status: str = "InProgress"
    secondary: str = "Starting"
    failure_reason: str | None = None
    metrics: list[dict] = field(default_factory=list)
    batches: list[tuple[str, int, int]] = field(default_factory=list)  # (input object, records, bytes) per mini-batch
    instances: dict[str, int] = field(default_factory=dict)  # batch transform: input object -> the instance that ran it
    runs: list[str] = field(default_factory=list)  # training: each container run's log (a spot job's interrupted run first)
    training_seconds: int | None = None
    billable_seconds: int | None = None
    exit_message: str | None = None  # processing: the first 1 KB of /opt/ml/output/message
    released: threading.Event = field(default_factory=threading.Event)


@dataclass
class TuningJob:
    request: dict
    status: str = "InProgress"
    trials: list[str] = field(default_factory=list)  # training job names, in launch order
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # trial -> tuned hyperparameters


class SageMakerPlayer:
    def __init__(self, emulator_url: str, registry: str, docker, work_dir: Path, region: str):
        self.emulator_url, self.registry, self.docker, self.work_dir, self.region = emulator_url, registry, docker, work_dir, region
        self.sent: list[tuple[str, dict]] = []  # (operation, request) for every SageMaker call
        self.jobs: dict[str, Job] = {}
        self.trial_requests: dict[str, dict] = {}  # CreateTrainingJob requests of tuning trials (sent by the player itself)
        self.tuning_jobs: dict[str, TuningJob] = {}
        self.endpoints: dict[str, dict] = {}  # name -> {"url", "container", "status"}
        self.hold_jobs = False  # when set, jobs wait in InProgress until release()
        self.runtime_calls: list[dict] = []
        self.shadow_calls: list[dict] = []  # the copies of requests sent to shadow variants
        self.deployments: dict[str, list[dict]] = {}  # endpoint -> each blue/green update: its steps and how it ended
        self.processing_requests: dict[str, dict] = {}  # CreateProcessingJob requests, by job name
        self.fired: list[dict] = []  # each schedule fired: its name, the call sent and the answer
        self._sampling = random.Random(0)  # data capture's InitialSamplingPercentage, drawn per request
        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def client(self, service: str):
        """A client of the emulator itself (S3 may be a LocalStack named by AWS_ENDPOINT_URL_S3)."""
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") if service == "s3" else None
        return boto3.client(service, endpoint_url=endpoint or self.emulator_url, region_name=self.region)

    def requests_for(self, operation: str) -> list[dict]:
        return [body for name, body in self.sent if name == operation]

    def training_request(self, name: str) -> dict:
        """The CreateTrainingJob request of a job: sent by releaseml, or by the player for a tuning trial."""
        if name in self.trial_requests:
            return self.trial_requests[name]
        return next(r for r in self.requests_for("CreateTrainingJob") if r["TrainingJobName"] == name)

    def release(self) -> None:
        for job in self.jobs.values():
            job.released.set()

    def reset(self) -> None:
        self.release()
        for endpoint in self.endpoints.values():
            _retire(endpoint.pop("green", {}).get("fleet", {}))
            _retire(endpoint)
        self.sent.clear(), self.jobs.clear(), self.endpoints.clear(), self.runtime_calls.clear()
        self.shadow_calls.clear(), self.deployments.clear(), self.processing_requests.clear(), self.fired.clear()
        self.trial_requests.clear(), self.tuning_jobs.clear()
        self.hold_jobs = False

    def close(self) -> None:
        self.reset()
        self._server.shutdown()

    # -- HTTP: forward to the emulator, then play SageMaker's part --------------------------------

    def _handler(self):
        player = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                invocation = re.fullmatch(r"/endpoints/([^/]+)/(invocations|async-invocations)", self.path)
                if invocation and invocation[2] == "invocations":
                    status, headers, answer = player._invoke_endpoint(invocation[1], self.headers, body)
                elif invocation:
                    status, headers, answer = player._invoke_endpoint_async(invocation[1], self.headers)
                else:
                    status, headers, answer = player._forward(self.command, self.path, self.headers, body)
                reply(self, status, headers, answer)

            do_GET = do_PUT = do_PATCH = do_DELETE = do_POST  # API Gateway's REST control plane

            def log_message(self, *args):
                pass

        return Handler

    def _forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        target = headers.get("X-Amz-Target", "")
        operation = target.split(".")[-1]
        request = json.loads(body) if body else {}
        if target.startswith("SageMaker."):
            self.sent.append((operation, request))
        if operation == "UpdateEndpoint":  # moto 5 does not implement it: played here, by the API reference
            return self._update_endpoint(request)
        if operation == "CreateEndpointConfig" and (refused := _refuse_serverless_config(request)):
            return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ValidationException"}, refused
        if operation == "CreateHyperParameterTuningJob" and (refused := _refuse_tuning_job(request)):
            return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ValidationException"}, refused
        if operation == "ListTrainingJobsForHyperParameterTuningJob":  # moto 5 lacks it
            return self._list_trials(request)
        if target.startswith("Logs_") and operation == "PutMetricFilter":  # creates or updates; moto 5 appends a second
            self._drop_metric_filter(request["logGroupName"], request["filterName"])
        if operation == "CreateProcessingJob" and (refused := _refuse_processing_job(request)):
            return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ValidationException"}, refused
        if operation in ("CreateModelPackage", "UpdateModelPackage") and (refused := _refuse_metadata(request)):
            return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ValidationException"}, refused
        if operation == "UpdateModelPackage":  # moto 5 replaces what the update leaves out; SageMaker keeps it
            body = self._kept_package_fields(request)
        if not target:
            self.sent.append((f"apigateway {method} {path.split('?')[0]}", request))
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        response = requests.request(method, self.emulator_url + path, data=body, headers=forwarded, timeout=60)
        answer = response.content
        if response.ok and target.startswith("SageMaker."):
            answer = self._play_sagemaker(operation, request, json.loads(answer or b"{}"))
        elif response.ok and target.startswith("AmazonEC2ContainerRegistry"):
            answer = self._point_ecr_at_registry(json.loads(answer))
        elif response.ok and method == "POST" and path == "/restapis" and request.get("binaryMediaTypes"):
            answer = self._keep_binary_media_types(json.loads(answer), request["binaryMediaTypes"], forwarded)
        keep = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "x-amzn-requestid", "x-amzn-errortype")}
        return response.status_code, keep, answer

    def _kept_package_fields(self, request: dict) -> bytes:
        """UpdateModelPackage changes only what it names: CustomerMetadataProperties are merged (less those in
        CustomerMetadataPropertiesToRemove) and ApprovalDescription stays unless given. moto 5 sets both to what
        the request holds, so the request is sent to it with the package's current values filled in."""
        current = self.client("sagemaker").describe_model_package(ModelPackageName=request["ModelPackageArn"])
        merged = {**(current.get("CustomerMetadataProperties") or {}), **(request.get("CustomerMetadataProperties") or {})}
        for key in request.get("CustomerMetadataPropertiesToRemove", []):
            merged.pop(key, None)
        filled = {**request, "CustomerMetadataProperties": merged}
        if "ApprovalDescription" not in request and current.get("ApprovalDescription"):
            filled["ApprovalDescription"] = current["ApprovalDescription"]
        return json.dumps(filled).encode()

    def _keep_binary_media_types(self, answer: dict, types: list[str], headers: dict) -> bytes:
        """moto 5 ignores binaryMediaTypes in CreateRestApi; AWS keeps them. Set them with moto's own PATCH."""
        for media_type in types:
            operation = {"op": "add", "path": "/binaryMediaTypes", "value": media_type}
            requests.patch(
                f"{self.emulator_url}/restapis/{answer['id']}", json={"patchOperations": [operation]}, headers=headers, timeout=10
            ).raise_for_status()
        answer["binaryMediaTypes"] = types
        return json.dumps(answer).encode()

    def _point_ecr_at_registry(self, answer: dict) -> bytes:
        for repository in answer.get("repositories", []) + ([answer["repository"]] if "repository" in answer else []):
            repository["repositoryUri"] = f"{self.registry}/{repository['repositoryName']}"
        for item in answer.get("authorizationData", []):
            item["proxyEndpoint"] = f"http://{self.registry}"
        return json.dumps(answer).encode()

    def _play_sagemaker(self, operation: str, request: dict, answer: dict) -> bytes:
        if operation == "CreateTrainingJob":
            self._start(request["TrainingJobName"], self._train, request)
        elif operation == "CreateHyperParameterTuningJob":
            tuning = self.tuning_jobs[request["HyperParameterTuningJobName"]] = TuningJob(request)
            threading.Thread(target=self._tune, args=(request["HyperParameterTuningJobName"], tuning), daemon=True).start()
        elif operation == "DescribeHyperParameterTuningJob" and request["HyperParameterTuningJobName"] in self.tuning_jobs:
            for canned in ("BestTrainingJob", "OverallBestTrainingJob", "HyperParameterTuningEndTime"):  # moto's, made up at once
                answer.pop(canned, None)
            answer.update(self._describe_tuning(self.tuning_jobs[request["HyperParameterTuningJobName"]]))
        elif operation == "CreateTransformJob":
            self._start(request["TransformJobName"], self._transform, request)
        elif operation == "CreateProcessingJob":
            self.processing_requests[request["ProcessingJobName"]] = request
            self._start(request["ProcessingJobName"], self._process, request)
        elif operation == "DescribeProcessingJob" and request["ProcessingJobName"] in self.processing_requests:
            for played in ("FailureReason", "ExitMessage"):
                answer.pop(played, None)
            answer.update(self._describe_processing(request["ProcessingJobName"]))
        elif operation == "CreateEndpoint":
            # Known before this call returns, so DescribeEndpoint never shows moto's instant InService.
            self.endpoints[request["EndpointName"]] = {"status": "Creating", "container": _NoContainer(), "url": None}
            threading.Thread(target=self._serve_endpoint, args=(request,), daemon=True).start()
        elif operation == "DeleteEndpoint" and request["EndpointName"] in self.endpoints:
            _retire(self.endpoints.pop(request["EndpointName"]))
        elif operation == "DescribeTrainingJob" and request["TrainingJobName"] in self.jobs:
            job = self.jobs[request["TrainingJobName"]]
            sent = self.training_request(request["TrainingJobName"])
            answer.update(
                TrainingJobStatus=job.status, SecondaryStatus=job.secondary, AlgorithmSpecification=sent["AlgorithmSpecification"]
            )
            answer["FinalMetricDataList"] = job.metrics
            if job.training_seconds is not None:
                answer.update(TrainingTimeInSeconds=job.training_seconds, BillableTimeInSeconds=job.billable_seconds)
            answer.pop("FailureReason", None)
            if job.failure_reason:
                answer["FailureReason"] = job.failure_reason
        elif operation == "DescribeTransformJob" and request["TransformJobName"] in self.jobs:
            job = self.jobs[request["TransformJobName"]]
            answer.update(TransformJobStatus=job.status)
            answer.pop("FailureReason", None)
            if job.failure_reason:
                answer["FailureReason"] = job.failure_reason
        elif operation == "DescribeEndpoint" and request["EndpointName"] in self.endpoints:
            endpoint = self.endpoints[request["EndpointName"]]
            answer["EndpointStatus"] = endpoint["status"]
            answer["EndpointConfigName"] = endpoint.get("config") or answer["EndpointConfigName"]
            if endpoint.get("failure_reason"):
                answer["FailureReason"] = endpoint["failure_reason"]
            answer.update(self._deployment_summary(request["EndpointName"], endpoint))
        elif operation == "DescribeEndpointConfig":
            answer.update(self._kept_config_parts(request["EndpointConfigName"]))
        return json.dumps(answer, default=str).encode()

    def _start(self, name: str, play, request: dict) -> None:
        job = self.jobs[name] = Job()
        if not self.hold_jobs:
            job.released.set()

        def run():
            job.released.wait()
            try:
                play(name, job, request)
            except Exception as exc:  # the player's own failure shows as the job's
                job.status, job.failure_reason = "Failed", f"InternalServerError: test player: {exc!r}"

        threading.Thread(target=run, daemon=True).start()

    # -- training --------------------------------------------------------------------------------

    def _train(self, name: str, job: Job, request: dict) -> None:
        root = self.work_dir / name
        config = root / "input" / "config"
        config.mkdir(parents=True)
        (config / "hyperparameters.json").write_text(json.dumps(request.get("HyperParameters", {})))
        channels = {c["ChannelName"]: c for c in request["InputDataConfig"]}
        (config / "inputdataconfig.json").write_text(
            json.dumps(
                {
                    name_: {
                        "ContentType": c.get("ContentType", ""),
                        "TrainingInputMode": request["AlgorithmSpecification"].get("TrainingInputMode", "File"),
                        "S3DistributionType": "FullyReplicated",
                        "RecordWrapperType": "None",
                    }
                    for name_, c in channels.items()
                }
            )
        )
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"})
        )
        job.secondary = "Downloading"
        for channel_name, channel in channels.items():
            source = channel["DataSource"]["S3DataSource"]
            self._download_channel(source["S3DataType"], source["S3Uri"], root / "input" / "data" / channel_name)
        for directory in ("model", "output/data"):
            (root / directory).mkdir(parents=True, exist_ok=True)
        job.secondary = "Training"
        image = self._pull(request["AlgorithmSpecification"]["TrainingImage"])
        checkpoint = request.get("CheckpointConfig") if request.get("EnableManagedSpotTraining") else None
        started = time.monotonic()
        if checkpoint is not None:
            self._interrupt_spot_run(name, job, request, image, root, checkpoint)
        container = self._run_train(image, root, request)
        log = self._stream_log("/aws/sagemaker/TrainingJobs", f"{name}/algo-1-{int(time.time())}", container)
        limit = request.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400)
        try:
            exit_code = container.wait(timeout=limit)["StatusCode"]
        except requests.exceptions.RequestException:
            container.kill()
            exit_code = None
        log.join(timeout=10)
        text = "\n".join(log.lines)
        job.runs.append(text)
        container.remove(force=True)
        job.training_seconds = max(1, round(time.monotonic() - started))
        job.billable_seconds = round(job.training_seconds * SPOT_BILLED_SHARE) if checkpoint is not None else job.training_seconds
        output = request["OutputDataConfig"]["S3OutputPath"].rstrip("/") + f"/{name}/output"
        job.secondary = "Uploading"
        self._upload_tar(root / "output" / "data", output + "/output.tar.gz")
        if exit_code is None:
            job.status, job.secondary, job.failure_reason = (
                "Stopped",
                "MaxRuntimeExceeded",
                f"Training job reached its MaxRuntimeInSeconds of {limit}",
            )
            return
        if exit_code != 0:
            failure = root / "output" / "failure"
            reason = failure.read_text().strip() if failure.exists() else f"the container exited with code {exit_code}"
            job.status, job.secondary, job.failure_reason = "Failed", "Failed", f"AlgorithmError: {reason}"
            return
        self._upload_tar(root / "model", output + "/model.tar.gz")
        job.metrics = _final_metrics(request["AlgorithmSpecification"].get("MetricDefinitions", []), text)
        job.status = job.secondary = "Completed"

    def _run_train(self, image: str, root: Path, request: dict):
        return self.docker.containers.run(
            image,
            "train",
            detach=True,
            volumes={str(root): {"bind": "/opt/ml", "mode": "rw"}},
            network_mode="none",
            environment=request.get("Environment") or {},
        )

    def _interrupt_spot_run(self, name: str, job: Job, request: dict, image: str, root: Path, checkpoint: dict) -> None:
        """A spot reclaim part-way through: once the container has written a checkpoint, SIGTERM (then
        SIGKILL), the checkpoint directory synced to CheckpointConfig.S3Uri; then a new instance: a
        fresh /opt/ml with the input data, and the checkpoints copied back to LocalPath."""
        local = root / checkpoint.get("LocalPath", "/opt/ml/checkpoints").removeprefix("/opt/ml/")
        local.mkdir(parents=True, exist_ok=True)
        container = self._run_train(image, root, request)
        log = self._stream_log("/aws/sagemaker/TrainingJobs", f"{name}/algo-1-{int(time.time())}-interrupted", container)
        deadline = time.monotonic() + 300
        while not any(local.iterdir()) and time.monotonic() < deadline:
            container.reload()
            if container.status == "exited":
                break
            time.sleep(0.2)
        time.sleep(0.5)  # a little past the first checkpoint, as a reclaim would come at any time
        container.stop(timeout=1)  # python as PID 1 ignores SIGTERM: the SIGKILL a second later ends it
        log.join(timeout=10)
        job.runs.append("\n".join(log.lines))
        container.remove(force=True)
        job.secondary = "Interrupted"
        bucket, prefix = _split(checkpoint["S3Uri"])
        s3 = self.client("s3")
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            s3.put_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{path.relative_to(local)}", Body=path.read_bytes())
        for directory in (local, root / "model", root / "output"):
            shutil.rmtree(directory, ignore_errors=True)
        for directory in (local, root / "model", root / "output" / "data"):
            directory.mkdir(parents=True)
        self._download_channel("S3Prefix", checkpoint["S3Uri"], local)
        job.secondary = "Training"

    # -- hyperparameter tuning --------------------------------------------------------------------

    def _tune(self, name: str, tuning: TuningJob) -> None:
        config = tuning.request["HyperParameterTuningJobConfig"]
        limits = config["ResourceLimits"]
        draw = random.Random(config.get("RandomSeed", 0))
        definition = tuning.request["TrainingJobDefinition"]
        objective = config["HyperParameterTuningJobObjective"]["MetricName"]
        trials = []
        for index in range(1, limits["MaxNumberOfTrainingJobs"] + 1):
            trial = f"{name}-{index:03d}-{secrets.token_hex(4)}"
            tuning.values[trial] = _draw(config.get("ParameterRanges", {}), draw)
            hyperparameters = {**definition.get("StaticHyperParameters", {}), "_tuning_objective_metric": objective, **tuning.values[trial]}
            request = {
                "TrainingJobName": trial,
                "HyperParameters": hyperparameters,
                **{key: value for key, value in definition.items() if key not in ("StaticHyperParameters", "HyperParameterRanges")},
            }
            trials.append(request)
        with ThreadPoolExecutor(max_workers=limits["MaxParallelTrainingJobs"]) as pool:
            for request in trials:
                pool.submit(self._train_trial, tuning, request)
        tuning.status = "Completed"

    def _train_trial(self, tuning: TuningJob, request: dict) -> None:
        name = request["TrainingJobName"]
        self.trial_requests[name] = request
        # Known to moto too (created by the player, so not in `sent`): Describe/List see the job.
        self.client("sagemaker").create_training_job(**request)
        job = self.jobs[name] = Job()
        tuning.trials.append(name)
        try:
            self._train(name, job, request)
        except Exception as exc:
            job.status, job.failure_reason = "Failed", f"InternalServerError: test player: {exc!r}"

    def _objective(self, tuning: TuningJob, trial: str) -> float | None:
        objective = tuning.request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"]
        return next((m["Value"] for m in self.jobs[trial].metrics if m["MetricName"] == objective), None)

    def _best(self, tuning: TuningJob) -> str | None:
        objective = tuning.request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
        scored = [(self._objective(tuning, t), t) for t in tuning.trials if self.jobs[t].status == "Completed"]
        scored = [(value, t) for value, t in scored if value is not None and math.isfinite(value)]
        if not scored:
            return None
        pick = max if objective["Type"] == "Maximize" else min
        return pick(scored, key=lambda pair: pair[0])[1]

    def _summary(self, tuning: TuningJob, trial: str) -> dict:
        job = self.jobs[trial]
        value = self._objective(tuning, trial)
        objective = tuning.request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
        return {
            "TrainingJobName": trial,
            "TrainingJobArn": f"arn:aws:sagemaker:{self.region}:123456789012:training-job/{trial}",
            "TuningJobName": tuning.request["HyperParameterTuningJobName"],
            "CreationTime": time.time(),
            "TrainingJobStatus": job.status,
            "TunedHyperParameters": tuning.values[trial],
            **({"FailureReason": job.failure_reason} if job.failure_reason else {}),
            **({"FinalHyperParameterTuningJobObjectiveMetric": {**objective, "Value": value}} if value is not None else {}),
            "ObjectiveStatus": "Succeeded" if value is not None else ("Pending" if job.status == "InProgress" else "Failed"),
        }

    def _describe_tuning(self, tuning: TuningJob) -> dict:
        statuses = [self.jobs[t].status for t in tuning.trials]
        summaries = [self._summary(tuning, t) for t in tuning.trials]
        best = self._best(tuning)
        return {
            "HyperParameterTuningJobStatus": tuning.status,
            "TrainingJobStatusCounters": {
                "Completed": statuses.count("Completed"),
                "InProgress": statuses.count("InProgress"),
                "RetryableError": 0,
                "NonRetryableError": statuses.count("Failed"),
                "Stopped": statuses.count("Stopped"),
            },
            "ObjectiveStatusCounters": {
                status: sum(s["ObjectiveStatus"] == status for s in summaries) for status in ("Succeeded", "Pending", "Failed")
            },
            **({"BestTrainingJob": next(s for s in summaries if s["TrainingJobName"] == best)} if best else {}),
        }

    def _list_trials(self, request: dict) -> tuple[int, dict, bytes]:
        tuning = self.tuning_jobs.get(request["HyperParameterTuningJobName"])
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        if tuning is None:
            message = f"Could not find hyper parameter tuning job '{request['HyperParameterTuningJobName']}'."
            return (
                400,
                {**headers, "x-amzn-ErrorType": "ResourceNotFound"},
                json.dumps({"__type": "ResourceNotFound", "message": message}).encode(),
            )
        summaries = [self._summary(tuning, t) for t in list(tuning.trials)]
        start = int(request.get("NextToken") or 0)
        page = summaries[start : start + request.get("MaxResults", 10)]
        answer = {"TrainingJobSummaries": page, **({"NextToken": str(start + len(page))} if start + len(page) < len(summaries) else {})}
        return 200, headers, json.dumps(answer, default=str).encode()

    # -- batch transform ---------------------------------------------------------------------------

    def _transform(self, name: str, job: Job, request: dict) -> None:
        """Whole input objects are handed out across TransformResources.InstanceCount instances (each
        its own container), round robin in key order; each instance transforms its objects."""
        source = request["TransformInput"]
        bucket, prefix = _split(source["DataSource"]["S3DataSource"]["S3Uri"])
        keys = list(_keys(self.client("s3"), bucket, prefix))
        count = request["TransformResources"]["InstanceCount"]
        job.instances = {key: position % count for position, key in enumerate(keys)}
        for instance in range(count):
            mine = [key for key in keys if job.instances[key] == instance]
            if not mine:
                continue
            with self._serving(request["ModelName"], name, request.get("Environment")) as url:
                requests.get(f"{url}/execution-parameters", timeout=10)
                for key in mine:
                    if not self._transform_object(url, key, prefix, job, request):
                        return
        job.status = "Completed"

    def _transform_object(self, url: str, key: str, prefix: str, job: Job, request: dict) -> bool:
        source, output = request["TransformInput"], request["TransformOutput"]
        limit = request.get("MaxPayloadInMB", 6) * MB
        bucket, _ = _split(source["DataSource"]["S3DataSource"]["S3Uri"])
        out_bucket, out_prefix = _split(output["S3OutputPath"])
        s3 = self.client("s3")
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        records = data.split(b"\n") if source.get("SplitType") == "Line" else [data]
        records = [r for r in records if r.strip()]
        answers = []
        for batch in _mini_batches(records, limit if request.get("BatchStrategy") == "MultiRecord" else 0):
            body = b"\n".join(batch)
            if len(body) > limit:
                job.status, job.failure_reason = "Failed", f"ClientError: a record of {key} is larger than MaxPayloadInMB"
                return False
            job.batches.append((key, len(batch), len(body)))
            response = requests.post(
                f"{url}/invocations",
                data=body,
                headers={"Content-Type": source["ContentType"], "Accept": output.get("Accept", source["ContentType"])},
                timeout=600,
            )
            if response.status_code != 200:
                job.status, job.failure_reason = (
                    "Failed",
                    f"ClientError: model answered {response.status_code} for a mini-batch of {key}: {response.text[:500]}",
                )
                return False
            answers.append(response.content)
        lines = b"\n".join(answers).split(b"\n")
        if request.get("DataProcessing", {}).get("JoinSource") == "Input":
            if len(lines) != len(records):
                job.status, job.failure_reason = (
                    "Failed",
                    f"ClientError: {len(records)} input records but {len(lines)} output records; cannot join",
                )
                return False
            lines = [record.rstrip(b"\r") + b"," + line for record, line in zip(records, lines)]
        relative = key[len(prefix) :].lstrip("/")
        s3.put_object(
            Bucket=out_bucket,
            Key=f"{out_prefix.rstrip('/')}/{relative}.out".lstrip("/"),
            Body=b"".join(line + b"\n" for line in lines),
        )
        return True

    # -- processing jobs ---------------------------------------------------------------------------

    def _process(self, name: str, job: Job, request: dict) -> None:
        """A Processing job as SageMaker runs one: inputs downloaded, the container run with /opt/ml mounted,
        its output logged, the outputs uploaded at the end, the message file read back as ExitMessage."""
        root = self.work_dir / name
        (root / "output").mkdir(parents=True)
        job.secondary = "Downloading"
        for item in request.get("ProcessingInputs", []):
            if "S3Input" not in item:
                raise NotImplementedError(f"test player: only S3Input inputs are played, not {sorted(item)}")
            self._download_input(item["S3Input"]["S3Uri"], root / _under_ml(item["S3Input"]["LocalPath"]))
        outputs = request.get("ProcessingOutputConfig", {}).get("Outputs", [])
        for item in outputs:
            (root / _under_ml(item["S3Output"]["LocalPath"])).mkdir(parents=True, exist_ok=True)
        job.secondary = "Processing"
        app = request["AppSpecification"]
        container = self.docker.containers.run(
            self._pull(app["ImageUri"]),
            app.get("ContainerArguments"),
            entrypoint=app.get("ContainerEntrypoint"),
            detach=True,
            volumes={str(root): {"bind": "/opt/ml", "mode": "rw"}},
            network_mode="none",
            environment=request.get("Environment") or {},
        )
        log = self._stream_log("/aws/sagemaker/ProcessingJobs", f"{name}/algo-1-{int(time.time())}", container)
        limit = request.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400)
        try:
            exit_code = container.wait(timeout=limit)["StatusCode"]
        except requests.exceptions.RequestException:
            container.kill()
            exit_code = None
        log.join(timeout=10)
        job.runs.append("\n".join(log.lines))
        container.remove(force=True)
        message = root / "output" / "message"
        job.exit_message = message.read_bytes()[:1024].decode("utf-8", errors="replace") if message.is_file() else None
        if exit_code is None:
            job.status, job.secondary = "Stopped", "MaxRuntimeExceeded"
            job.failure_reason = f"Processing job reached its MaxRuntimeInSeconds of {limit}"
            return
        if exit_code != 0:
            reason = job.exit_message.strip() if job.exit_message else f"the container exited with code {exit_code}"
            job.status, job.secondary, job.failure_reason = "Failed", "Failed", f"AlgorithmError: {reason}"
            return
        job.secondary = "Uploading"
        s3 = self.client("s3")
        for item in outputs:
            local, (bucket, prefix) = root / _under_ml(item["S3Output"]["LocalPath"]), _split(item["S3Output"]["S3Uri"])
            for path in sorted(p for p in local.rglob("*") if p.is_file()):
                s3.put_object(Bucket=bucket, Key=f"{prefix.rstrip('/')}/{path.relative_to(local)}", Body=path.read_bytes())
        job.status = job.secondary = "Completed"

    def _download_input(self, s3_uri: str, target: Path) -> None:
        """S3Prefix: every object under the prefix, at its key relative to the prefix up to its last "/"."""
        s3 = self.client("s3")
        bucket, prefix = _split(s3_uri)
        base = prefix[: prefix.rfind("/") + 1]
        target.mkdir(parents=True, exist_ok=True)
        for key in _keys(s3, bucket, prefix):
            path = target / key[len(base) :]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(path))

    def _describe_processing(self, name: str) -> dict:
        """What the player knows of a Processing job, over moto's instant Completed; what moto drops from the request."""
        job, sent = self.jobs[name], self.processing_requests[name]
        found = {"ProcessingJobStatus": job.status, **{k: sent[k] for k in ("ProcessingResources", "Environment") if k in sent}}
        if job.exit_message is not None:
            found["ExitMessage"] = job.exit_message
        if job.failure_reason:
            found["FailureReason"] = job.failure_reason
        return found

    # -- EventBridge Scheduler and CloudWatch Logs metric filters ----------------------------------------

    def fire_schedule(self, name: str, scheduled_time: datetime) -> dict:
        """What EventBridge Scheduler does when schedule `name` is due at `scheduled_time`: the target's call, as
        its role, with the context attributes filled in; the call's answer (a refused role raises ScheduleFailed)."""
        schedule = self.client("scheduler").get_schedule(Name=name)
        target = schedule["Target"]
        found = re.fullmatch(r"arn:aws[a-z-]*:scheduler:::aws-sdk:([a-z0-9-]+):([a-zA-Z0-9]+)", target["Arn"])
        if not found:
            raise NotImplementedError(f"test player: only universal targets are played, not {target['Arn']}")
        service, action = found[1], found[2]
        context = {
            "<aws.scheduler.schedule-arn>": schedule["Arn"],
            "<aws.scheduler.scheduled-time>": scheduled_time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "<aws.scheduler.execution-id>": "".join(random.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=16)),
            "<aws.scheduler.attempt-number>": "1",
        }
        text = target.get("Input", "{}")
        for keyword, value in context.items():
            text = text.replace(keyword, value)
        parameters = json.loads(text)
        self._assume_for(target["RoleArn"], f"{service}:{action[0].upper()}{action[1:]}", parameters)
        from botocore import xform_name

        endpoint = self.url if service == "sagemaker" else os.environ.get("AWS_ENDPOINT_URL_S3") if service == "s3" else None
        client = boto3.client(service, endpoint_url=endpoint or self.emulator_url, region_name=self.region)
        answer = getattr(client, xform_name(action[0].upper() + action[1:]))(**parameters)
        self.fired.append({"schedule": name, "context": context, "parameters": parameters, "answer": answer})
        return answer

    def _assume_for(self, role_arn: str, action: str, parameters: dict) -> None:
        """Scheduler assumes the target's role: it must exist, trust scheduler.amazonaws.com and allow the call."""
        iam = self.client("iam")
        name = role_arn.rsplit("/", 1)[-1]
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            raise ScheduleFailed(f"the schedule's role {role_arn} does not exist") from None
        if "scheduler.amazonaws.com" not in json.dumps(role.get("AssumeRolePolicyDocument")):
            raise ScheduleFailed(f"role {name} does not trust scheduler.amazonaws.com")
        policies = "".join(
            json.dumps(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        )
        needed = (
            [action]
            + (["iam:PassRole"] if "RoleArn" in parameters else [])
            + ([f"{action.split(':')[0]}:AddTags"] if parameters.get("Tags") else [])
        )
        missing = [each for each in needed if each not in policies]
        if missing:
            raise ScheduleFailed(f"role {name} may not {', '.join(missing)}")

    def _drop_metric_filter(self, group: str, name: str) -> None:
        """Before a PutMetricFilter reaches moto: the filter of that name goes, so the new one replaces it."""
        logs = self.client("logs")
        try:
            found = logs.describe_metric_filters(logGroupName=group, filterNamePrefix=name)["metricFilters"]
        except logs.exceptions.ResourceNotFoundException:
            return
        if any(each["filterName"] == name for each in found):
            logs.delete_metric_filter(logGroupName=group, filterName=name)

    def _metric_filters(self, group: str) -> list[dict]:
        """The log group's metric filters when a stream starts."""
        return self.client("logs").describe_metric_filters(logGroupName=group).get("metricFilters", [])

    def _apply_metric_filters(self, filters: list[dict], events: list[dict]) -> None:
        """The metric filters on the lines just written to their log group: each match a datum in CloudWatch."""
        data: dict[str, list[dict]] = {}
        for event in events:
            try:
                fields = json.loads(event["message"])
            except ValueError:
                continue
            if not isinstance(fields, dict):
                continue
            for each in filters:
                if not _json_pattern_matches(each["filterPattern"], fields):
                    continue
                for transformation in each["metricTransformations"]:
                    datum = _metric_datum(transformation, fields, event["timestamp"])
                    if datum is not None:
                        data.setdefault(transformation["metricNamespace"], []).append(datum)
        for namespace, items in data.items():
            self.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=items)

    # -- endpoints -------------------------------------------------------------------------------

    def _update_endpoint(self, request: dict) -> tuple[int, dict, bytes]:
        """UpdateEndpoint: the endpoint must exist and be InService; it turns Updating, and serves the new config when ready."""
        name = request["EndpointName"]
        endpoint = self.endpoints.get(name)
        if endpoint is None or endpoint["status"] != "InService":
            error = {"__type": "ValidationException", "message": f"Cannot update endpoint {name}: it is not InService"}
            return (
                400,
                {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ValidationException"},
                json.dumps(error).encode(),
            )
        if request.get("DeploymentConfig"):
            if refused := _refuse_deployment_config(request["DeploymentConfig"]):
                return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ValidationException"}, refused
            self.deployments.setdefault(name, []).append({"request": request, "started": time.time(), "steps": [], "outcome": None})
            endpoint["status"] = "Updating"
            threading.Thread(target=self._blue_green, args=(request, self.deployments[name][-1]), daemon=True).start()
        else:
            endpoint["status"] = "Updating"
            threading.Thread(target=self._serve_endpoint, args=(request,), daemon=True).start()
        arn = f"arn:aws:sagemaker:{self.region}:123456789012:endpoint/{name.lower()}"
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps({"EndpointArn": arn}).encode()

    def _blue_green(self, request: dict, deployment: dict) -> None:
        """A blue/green update as SageMaker's deployment guardrails document it: the new (green) fleet is provisioned
        beside the old (blue) one, which serves meanwhile; traffic moves to green in the TrafficRoutingConfiguration's
        steps (ALL_AT_ONCE; CANARY: CanarySize, then the rest; LINEAR: LinearStepSize at a time), each followed by a
        baking period of WaitIntervalInSeconds during which the AutoRollbackConfiguration's alarms are watched (read from
        CloudWatch, where tests set them with SetAlarmState). Any alarm in ALARM rolls back: all traffic to blue, green
        terminated, the endpoint InService with the old config. Else, after TerminationWaitInSeconds, blue is terminated
        and the endpoint serves the new config."""
        name = request["EndpointName"]
        blue = self.endpoints[name]
        config = request["DeploymentConfig"]
        policy = config.get("BlueGreenUpdatePolicy") or {}
        routing = policy.get("TrafficRoutingConfiguration") or {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        alarms = [alarm["AlarmName"] for alarm in (config.get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
        try:
            green = self._fleet(name, request["EndpointConfigName"])
        except Exception as exc:  # the new fleet never came up: SageMaker keeps the old one in service
            blue.update(status="InService", failure_reason=f"test player: the new fleet failed: {exc}")
            deployment["outcome"] = "failed"
            return
        for share in _traffic_steps(routing):
            blue["green"] = {"fleet": green, "share": share}
            deployment["steps"].append(share)
            fired = self._watch_alarms(alarms, routing.get("WaitIntervalInSeconds", 0))
            if fired:
                blue.pop("green", None)
                _retire(green)
                blue["status"] = "InService"
                deployment["outcome"] = f"rolled back: {fired}"
                return
        time.sleep(policy.get("TerminationWaitInSeconds", 0))
        self.endpoints[name] = green
        deployment["outcome"] = "completed"
        blue.pop("green", None)
        _retire(blue)

    def _watch_alarms(self, names: list[str], seconds: float) -> str | None:
        """The baking period: the first of the alarms seen in ALARM (None when none went off in `seconds`)."""
        cloudwatch = self.client("cloudwatch")
        deadline = time.monotonic() + seconds
        while True:
            if names:
                states = cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", [])
                fired = next((alarm["AlarmName"] for alarm in states if alarm["StateValue"] == "ALARM"), None)
                if fired:
                    return fired
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    def _serve_endpoint(self, request: dict) -> None:
        name = request["EndpointName"]
        try:
            fleet = self._fleet(name, request["EndpointConfigName"])
        except Exception as exc:  # shows as the endpoint's failure, as SageMaker would
            self.endpoints[name].update(status="Failed", failure_reason=f"test player: {exc}")
            return
        old = self.endpoints[name]
        self.endpoints[name] = fleet
        _retire(old)

    def _fleet(self, name: str, config_name: str) -> dict:
        """The containers of an endpoint config: its production variant, and its shadow variant if it has one."""
        config = self.client("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)
        config.update(self._kept_config_parts(config_name))
        variant = config["ProductionVariants"][0]
        memory = (variant.get("ServerlessConfig") or {}).get("MemorySizeInMB")
        container, url = self._start_serving(variant["ModelName"], name, f"/aws/sagemaker/Endpoints/{name}", memory)
        fleet = {
            "status": "InService",
            "container": container,
            "url": url,
            "config": config_name,
            "variant": variant["VariantName"],
            "async": config.get("AsyncInferenceConfig"),
            "capture": config.get("DataCaptureConfig"),
        }
        for shadow in config.get("ShadowProductionVariants", [])[:1]:
            try:
                shadow_container, shadow_url = self._start_serving(
                    shadow["ModelName"], f"{name}-{shadow['VariantName']}", f"/aws/sagemaker/Endpoints/{name}"
                )
            except Exception:
                container.remove(force=True)
                raise
            fleet["shadow"] = {"container": shadow_container, "url": shadow_url, "variant": shadow["VariantName"]}
        return fleet

    def _kept_config_parts(self, config_name: str) -> dict:
        """What moto 5 drops from CreateEndpointConfig but SageMaker keeps: ShadowProductionVariants (and DataCaptureConfig)."""
        sent = [r for r in self.requests_for("CreateEndpointConfig") if r["EndpointConfigName"] == config_name]
        return {key: sent[-1][key] for key in ("ShadowProductionVariants", "DataCaptureConfig") if sent and sent[-1].get(key)}

    def _deployment_summary(self, name: str, endpoint: dict) -> dict:
        """DescribeEndpoint's LastDeploymentConfig, and PendingDeploymentSummary while a blue/green update runs."""
        found = {}
        if self.deployments.get(name):
            last = self.deployments[name][-1]
            found["LastDeploymentConfig"] = last["request"]["DeploymentConfig"]
            if last["outcome"] is None:
                found["PendingDeploymentSummary"] = {
                    "EndpointConfigName": last["request"]["EndpointConfigName"],
                    "StartTime": last["started"],
                }
        if endpoint.get("capture"):
            capture = endpoint["capture"]
            found["DataCaptureConfig"] = {
                "EnableCapture": capture.get("EnableCapture", True),
                "CaptureStatus": "Started" if capture.get("EnableCapture", True) else "Stopped",
                "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
                "DestinationS3Uri": capture["DestinationS3Uri"],
            }
        return found

    def _invoke_endpoint(self, name: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        self.runtime_calls.append(
            {"endpoint": name, "authorization": headers.get("Authorization", ""), "content_type": headers.get("Content-Type")}
        )
        endpoint = self.endpoints.get(name)
        # An endpoint serves while it is updated (the old fleet until the new one takes over).
        if endpoint is None or endpoint["status"] not in ("InService", "Updating") or not endpoint.get("url"):
            error = {"__type": "ValidationError", "message": f"Endpoint {name} of account 123456789012 not found."}
            return 400, {"Content-Type": "application/json", "x-amzn-ErrorType": "ValidationError"}, json.dumps(error).encode()
        passed = {"Content-Type": headers.get("Content-Type"), "Accept": headers.get("Accept", "*/*")}
        if headers.get(CUSTOM_ATTRIBUTES):  # InvokeEndpoint forwards CustomAttributes to the container
            passed[CUSTOM_ATTRIBUTES] = headers[CUSTOM_ATTRIBUTES]
        self.runtime_calls[-1]["custom_attributes"] = headers.get(CUSTOM_ATTRIBUTES)
        fleet, self.runtime_calls[-1]["fleet"] = endpoint, "blue"
        green = endpoint.get("green")
        if green and self._sampling.random() < green["share"]:  # blue/green: the new fleet's share of the traffic
            fleet, self.runtime_calls[-1]["fleet"] = green["fleet"], "green"
        response = requests.post(f"{fleet['url']}/invocations", data=body, headers=passed, timeout=60)
        if fleet.get("shadow"):
            threading.Thread(target=self._shadow_call, args=(name, fleet, passed, body), daemon=True).start()
        if response.ok:
            self._capture(name, fleet, fleet["variant"], headers, body, response)
        if response.status_code >= 400:
            error = {
                "__type": "ModelError",
                "message": f'Received client error ({response.status_code}) from primary with message "{response.text}"',
                "OriginalStatusCode": response.status_code,
                "OriginalMessage": response.text,
            }
            return 424, {"Content-Type": "application/json", "x-amzn-ErrorType": "ModelError"}, json.dumps(error).encode()
        return (
            200,
            {"Content-Type": response.headers.get("Content-Type", ""), "x-Amzn-Invoked-Production-Variant": "AllTraffic"},
            response.content,
        )

    def _shadow_call(self, name: str, fleet: dict, passed: dict, body: bytes) -> None:
        """A shadow variant gets a copy of the request; its answer goes nowhere but here (and data capture)."""
        shadow = fleet["shadow"]
        response = requests.post(f"{shadow['url']}/invocations", data=body, headers=passed, timeout=60)
        self.shadow_calls.append({"endpoint": name, "variant": shadow["variant"], "status": response.status_code, "body": response.content})
        if response.ok:
            self._capture(name, fleet, shadow["variant"], passed, body, response)

    def _capture(self, name: str, fleet: dict, variant: str, headers, body: bytes, response) -> None:
        """Data capture as SageMaker documents it: InitialSamplingPercentage of the requests, one JSON line each, under
        DestinationS3Uri/ENDPOINT/VARIANT/yyyy/mm/dd/hh/; CSV and JSON content types (CaptureContentTypeHeader) as text, others base64."""
        config = fleet.get("capture")
        if not config or not config.get("EnableCapture", True) or self._sampling.random() * 100 >= config["InitialSamplingPercentage"]:
            return
        header = config.get("CaptureContentTypeHeader") or {}

        def part(content_type: str, data: bytes, mode: str) -> dict:
            bare = (content_type or "").split(";")[0].strip().lower()
            encoding = (
                "CSV" if bare in header.get("CsvContentTypes", []) else "JSON" if bare in header.get("JsonContentTypes", []) else "BASE64"
            )
            text = base64.b64encode(data).decode() if encoding == "BASE64" else data.decode("utf-8")
            return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}

        modes = {option["CaptureMode"] for option in config["CaptureOptions"]}
        captured = {}
        if "Input" in modes:
            captured["endpointInput"] = part(headers.get("Content-Type", ""), body, "INPUT")
        if "Output" in modes:
            captured["endpointOutput"] = part(response.headers.get("Content-Type", ""), response.content, "OUTPUT")
        now = datetime.now(timezone.utc)
        event_id = str(uuid.uuid4())
        metadata = {"eventId": event_id, "inferenceTime": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if headers.get("X-Amzn-SageMaker-Inference-Id"):
            metadata["inferenceId"] = headers["X-Amzn-SageMaker-Inference-Id"]
        line = json.dumps({"captureData": captured, "eventMetadata": metadata, "eventVersion": "0"})
        bucket, prefix = _split(config["DestinationS3Uri"])
        file = f"{now:%M-%S}-{now.microsecond // 1000:03d}-{event_id}.jsonl"
        key = f"{prefix.rstrip('/')}/{name}/{variant}/{now:%Y/%m/%d/%H}/{file}".lstrip("/")
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=(line + "\n").encode())

    def _invoke_endpoint_async(self, name: str, headers) -> tuple[int, dict, bytes]:
        """InvokeEndpointAsync: accepted at once (202); the input is read from S3 and the answer written there."""
        endpoint = self.endpoints.get(name)
        if endpoint is None or endpoint["status"] != "InService" or not endpoint.get("async"):
            error = {
                "__type": "ValidationError",
                "message": f"Endpoint {name} of account 123456789012 is not an async endpoint in service.",
            }
            return 400, {"Content-Type": "application/json", "x-amzn-ErrorType": "ValidationError"}, json.dumps(error).encode()
        inference_id = secrets.token_hex(16)
        outputs = endpoint["async"]["OutputConfig"]
        output = f"{outputs['S3OutputPath'].rstrip('/')}/{inference_id}.out"
        failure = f"{outputs['S3FailurePath'].rstrip('/')}/{inference_id}-error.out"
        call = {
            "endpoint": name,
            "input": headers.get("X-Amzn-SageMaker-InputLocation"),
            "content_type": headers.get("X-Amzn-SageMaker-Content-Type"),
            "accept": headers.get("X-Amzn-SageMaker-Accept"),
            "custom_attributes": headers.get(CUSTOM_ATTRIBUTES),
            "output": output,
            "failure": failure,
        }
        self.runtime_calls.append(call)
        threading.Thread(target=self._answer_async, args=(endpoint["url"], call), daemon=True).start()
        answer_headers = {
            "Content-Type": "application/json",
            "X-Amzn-SageMaker-OutputLocation": output,
            "X-Amzn-SageMaker-FailureLocation": failure,
        }
        return 202, answer_headers, json.dumps({"InferenceId": inference_id}).encode()

    def _answer_async(self, url: str, call: dict) -> None:
        s3 = self.client("s3")
        bucket, key = _split(call["input"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        passed = {"Content-Type": call["content_type"], "Accept": call["accept"] or "*/*"}
        if call["custom_attributes"]:
            passed[CUSTOM_ATTRIBUTES] = call["custom_attributes"]
        response = requests.post(f"{url}/invocations", data=body, headers=passed, timeout=3600)
        where = call["output"] if response.ok else call["failure"]
        content = (
            response.content if response.ok else f"Received client error ({response.status_code}) from model: {response.text}".encode()
        )
        out_bucket, out_key = _split(where)
        s3.put_object(Bucket=out_bucket, Key=out_key, Body=content)

    # -- the container parts -------------------------------------------------------------------------

    def _serving(self, model_name: str, name: str, environment: dict | None = None):
        player = self

        class Serving:
            def __enter__(self):
                self.container, url = player._start_serving(model_name, name, "/aws/sagemaker/TransformJobs", environment=environment)
                return url

            def __exit__(self, *exc):
                self.container.remove(force=True)

        return Serving()

    def _start_serving(self, model_name: str, name: str, log_group: str, memory_mb: int | None = None, environment: dict | None = None):
        """`serve` in a container for the model: its Environment, then the job's (a transform's Environment wins)."""
        model = self.client("sagemaker").describe_model(ModelName=model_name)["PrimaryContainer"]
        root = self.work_dir / f"{name}-{time.time_ns()}"
        (root / "model").mkdir(parents=True)
        bucket, key = _split(model["ModelDataUrl"])
        with tarfile.open(fileobj=io.BytesIO(self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())) as archive:
            archive.extractall(root / "model", filter="data")
        port = free_port()
        container = self.docker.containers.run(
            self._pull(model["Image"]),
            "serve",
            detach=True,
            volumes={str(root): {"bind": "/opt/ml", "mode": "rw"}},
            ports={"8080/tcp": ("127.0.0.1", port)},
            mem_limit=f"{memory_mb}m" if memory_mb else None,
            environment={**(model.get("Environment") or {}), **(environment or {})},
        )
        url = f"http://127.0.0.1:{port}"
        self._stream_log(log_group, f"{name}/i-0-{time.time_ns()}", container)
        try:
            wait_until_ready(url, timeout=60, is_alive=lambda: container.reload() or container.status != "exited")
        except UserError as exc:
            logs = container.logs().decode(errors="replace")
            container.remove(force=True)
            raise RuntimeError(f"serve did not answer /ping ({exc}): {logs[-2000:]}") from None
        return container, url

    def _pull(self, image_uri: str) -> str:
        """Pull from the registry, as SageMaker does: this fails unless the image was really pushed."""
        repository, tag = image_uri.rsplit(":", 1)
        self.docker.images.pull(repository, tag=tag)
        return image_uri

    def _stream_log(self, group: str, stream: str, container) -> "_LogPump":
        logs = self.client("logs")
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        filters = self._metric_filters(group)
        return _LogPump(
            logs, group, stream, container, on_events=(lambda events: self._apply_metric_filters(filters, events)) if filters else None
        )

    def _download_channel(self, data_type: str, s3_uri: str, target: Path) -> None:
        """S3Prefix: every object under the prefix; ManifestFile: the prefix in its first element + each listed suffix."""
        s3 = self.client("s3")
        bucket, prefix = _split(s3_uri)
        if data_type == "ManifestFile":
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix)["Body"].read())
            bucket, prefix = _split(manifest[0]["prefix"])
            keys = [prefix + suffix for suffix in manifest[1:]]
        else:
            keys = _keys(s3, bucket, prefix)
        for key in keys:
            path = target / key[len(prefix) :].lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(path))

    def _upload_tar(self, directory: Path, s3_uri: str) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for path in sorted(directory.rglob("*")):
                archive.add(path, arcname=str(path.relative_to(directory)), recursive=False)
        bucket, key = _split(s3_uri)
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def reply(handler: BaseHTTPRequestHandler, status: int, headers: dict, body: bytes) -> None:
    """Send a whole answer from a player's request handler."""
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _LogPump(threading.Thread):
    """Copies a container's output, line by line, into a CloudWatch log stream."""

    def __init__(self, logs, group: str, stream: str, container, on_events=None):
        super().__init__(daemon=True)
        self.logs, self.group, self.stream, self.container, self.on_events = logs, group, stream, container, on_events
        self.lines: list[str] = []
        self.start()

    def run(self) -> None:
        pending = b""
        for chunk in self.container.logs(stream=True, follow=True):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            self._put([line.decode(errors="replace") for line in complete])
        if pending:
            self._put([pending.decode(errors="replace")])

    def _put(self, lines: list[str]) -> None:
        lines = [line for line in lines if line]
        if lines:
            self.lines.extend(lines)
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": line} for line in lines]
            self.logs.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=events)
            if self.on_events is not None:
                self.on_events(events)


class ScheduleFailed(Exception):
    """EventBridge Scheduler could not make the target's call (its role is missing, untrusting or not allowed)."""


class _NoContainer:
    def remove(self, force=False):
        pass


def _retire(fleet: dict) -> None:
    """Stop an endpoint fleet's containers: its production variant's and its shadow's."""
    for part in (fleet, fleet.get("shadow") or {}):
        if part.get("container") is not None:
            part["container"].remove(force=True)


SERVERLESS_MEMORY_MB = range(1024, 6144 + 1, 1024)  # SageMaker's ServerlessConfig.MemorySizeInMB


def _refuse_serverless_config(request: dict) -> bytes | None:
    """CreateEndpointConfig's validation of ServerlessConfig, as SageMaker's API reference states it."""
    for variant in request.get("ProductionVariants", []):
        serverless = variant.get("ServerlessConfig")
        if serverless and (
            serverless.get("MemorySizeInMB") not in SERVERLESS_MEMORY_MB or not 1 <= serverless.get("MaxConcurrency", 0) <= 200
        ):
            message = f"Invalid ServerlessConfig {serverless}: MemorySizeInMB is 1024-6144 in 1024 steps, MaxConcurrency 1-200"
            return json.dumps({"__type": "ValidationException", "message": message}).encode()
    return None


def _refuse_metadata(request: dict) -> bytes | None:
    """CustomerMetadataProperties' limits in SageMaker's API reference (moto checks none): 1-50 entries,
    keys of 1-128 characters, values of at most 256."""
    properties = request.get("CustomerMetadataProperties")
    if properties is None:
        return None
    message = None
    if not 1 <= len(properties) <= 50:
        message = f"CustomerMetadataProperties holds {len(properties)} entries; 1 to 50 are allowed"
    elif bad := [key for key in properties if not 1 <= len(key) <= 128]:
        message = f"CustomerMetadataProperties keys are 1 to 128 characters: {bad}"
    elif long := [key for key, value in properties.items() if not isinstance(value, str) or len(value) > 256]:
        message = f"CustomerMetadataProperties values are strings of at most 256 characters: {long}"
    return None if message is None else json.dumps({"__type": "ValidationException", "message": message}).encode()


def _refuse_processing_job(request: dict) -> bytes | None:
    """CreateProcessingJob's checks that moto skips: the job name's pattern and the Environment's limits."""
    name, environment = request.get("ProcessingJobName", ""), request.get("Environment") or {}
    message = None
    if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name):
        message = f"ProcessingJobName {name!r} must match [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}"
    elif len(environment) > 100 or any(not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", k) or len(v) > 256 for k, v in environment.items()):
        message = "Environment holds at most 100 variables, named [a-zA-Z_][a-zA-Z0-9_]*, with values of at most 256 characters"
    return None if message is None else json.dumps({"__type": "ValidationException", "message": message}).encode()


def _under_ml(local_path: str) -> str:
    """A container path under /opt/ml, relative to it (the player mounts a folder there)."""
    if not local_path.startswith("/opt/ml/"):
        raise ValueError(f"test player: LocalPath {local_path} is not under /opt/ml")
    return local_path.removeprefix("/opt/ml/")


_JSON_TERM = re.compile(r'\s*\$\.([A-Za-z0-9_.]+)\s*(=|!=|<=|>=|<|>)\s*("(?:[^"\\]|\\.)*"|[^\s&|()]+)\s*')


def _json_pattern_matches(pattern: str, fields: dict) -> bool:
    """Whether a JSON event matches a filter pattern of comparisons joined by && (others: no match, here)."""
    inner = pattern.strip()
    if not (inner.startswith("{") and inner.endswith("}")) or "||" in inner or "(" in inner:
        return False
    for term in inner[1:-1].split("&&"):
        found = _JSON_TERM.fullmatch(term)
        if not found:
            return False
        value = fields
        for part in found[1].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return False
        operator, wanted = found[2], found[3]
        if wanted == "*":
            if operator != "=":
                return False
            continue
        if wanted.startswith('"'):
            equal = str(value) == json.loads(wanted)
            if equal != (operator == "="):
                return False
            continue
        try:
            number, bound = float(value), float(wanted)
        except (TypeError, ValueError):
            return False
        if not {"=": number == bound, "!=": number != bound, "<": number < bound, "<=": number <= bound,
                ">": number > bound, ">=": number >= bound}[operator]:  # fmt: skip
            return False
    return True


def _metric_datum(transformation: dict, fields: dict, timestamp_ms: int) -> dict | None:
    """One datum of a metric filter's transformation for a matched JSON event (None when a field it names is missing)."""

    def field(reference: str):
        return fields.get(reference.removeprefix("$.")) if reference.startswith("$.") else reference

    try:
        value = float(field(transformation["metricValue"]))
    except (TypeError, ValueError):
        return None
    dimensions = {name: field(reference) for name, reference in (transformation.get("dimensions") or {}).items()}
    if any(value_ is None for value_ in dimensions.values()):
        return None
    datum = {
        "MetricName": transformation["metricName"],
        "Value": value,
        "Timestamp": datetime.fromtimestamp(timestamp_ms / 1000, timezone.utc),
        "Dimensions": [{"Name": name, "Value": str(value_)} for name, value_ in dimensions.items()],
    }
    if transformation.get("unit"):
        datum["Unit"] = transformation["unit"]
    return datum


def _refuse_deployment_config(config: dict) -> bytes | None:
    """UpdateEndpoint's checks of a blue/green DeploymentConfig, by the API reference's ranges."""
    policy = config.get("BlueGreenUpdatePolicy") or {}
    routing = policy.get("TrafficRoutingConfiguration") or {}
    kind, message = routing.get("Type"), None
    size = routing.get({"CANARY": "CanarySize", "LINEAR": "LinearStepSize"}.get(kind, ""), {})
    alarms = (config.get("AutoRollbackConfiguration") or {}).get("Alarms", [])
    if kind not in ("ALL_AT_ONCE", "CANARY", "LINEAR"):
        message = f"TrafficRoutingConfiguration.Type {kind!r} is not ALL_AT_ONCE, CANARY or LINEAR"
    elif kind != "ALL_AT_ONCE" and (size.get("Type") not in ("INSTANCE_COUNT", "CAPACITY_PERCENT") or not size.get("Value", 0) >= 1):
        message = f"a {kind} update needs {'CanarySize' if kind == 'CANARY' else 'LinearStepSize'} with a Type and a Value of at least 1"
    elif not 0 <= routing.get("WaitIntervalInSeconds", -1) <= 3600:
        message = "WaitIntervalInSeconds is required, 0 to 3600"
    elif not 600 <= policy.get("MaximumExecutionTimeoutInSeconds", 600) <= 14400:
        message = "MaximumExecutionTimeoutInSeconds is 600 to 14400"
    elif not 0 <= policy.get("TerminationWaitInSeconds", 0) <= 3600:
        message = "TerminationWaitInSeconds is 0 to 3600"
    elif "AutoRollbackConfiguration" in config and not 1 <= len(alarms) <= 10:
        message = "AutoRollbackConfiguration.Alarms holds 1 to 10 alarms"
    return None if message is None else json.dumps({"__type": "ValidationException", "message": message}).encode()


def _traffic_steps(routing: dict) -> list[float]:
    """The new fleet's share of the traffic after each step (CAPACITY_PERCENT values; the last step is all of it)."""
    kind = routing["Type"]
    if kind == "ALL_AT_ONCE":
        return [1.0]
    size = routing["CanarySize" if kind == "CANARY" else "LinearStepSize"]
    share = size["Value"] / 100 if size["Type"] == "CAPACITY_PERCENT" else 0.5  # INSTANCE_COUNT: one of two instances, say
    if kind == "CANARY":
        return [share, 1.0]
    return [min(1.0, share * step) for step in range(1, math.ceil(1 / share) + 1)]


def _refuse_tuning_job(request: dict) -> bytes | None:
    """Two of CreateHyperParameterTuningJob's checks: the objective is a defined metric, and no tuned key is static."""
    config, definition = request["HyperParameterTuningJobConfig"], request["TrainingJobDefinition"]
    objective = config["HyperParameterTuningJobObjective"]["MetricName"]
    defined = [m["Name"] for m in definition["AlgorithmSpecification"].get("MetricDefinitions", [])]
    tuned = [r["Name"] for ranges in config.get("ParameterRanges", {}).values() for r in ranges]
    message = None
    if objective not in defined:
        message = f"The objective metric {objective} is not among the MetricDefinitions {defined}"
    elif static := set(tuned) & set(definition.get("StaticHyperParameters", {})):
        message = f"Hyperparameters {sorted(static)} are both tuned and static"
    return None if message is None else json.dumps({"__type": "ValidationException", "message": message}).encode()


def _draw(ranges: dict, draw: random.Random) -> dict[str, str]:
    """One trial's values: each range's ScalingType as SageMaker documents it (Logarithmic: uniform in log space)."""
    values = {}
    for kind, items in ranges.items():
        for item in items:
            if kind == "CategoricalParameterRanges":
                values[item["Name"]] = draw.choice(item["Values"])
                continue
            low, high = float(item["MinValue"]), float(item["MaxValue"])
            if item.get("ScalingType") == "Logarithmic":
                value = math.exp(draw.uniform(math.log(low), math.log(high)))
            else:
                value = draw.uniform(low, high)
            values[item["Name"]] = str(min(int(high), max(int(low), round(value)))) if kind == "IntegerParameterRanges" else repr(value)
    return values


def _final_metrics(definitions: list[dict], log: str) -> list[dict]:
    """What SageMaker does with MetricDefinitions: each regex's first group, last match in the log."""
    found = []
    for definition in definitions:
        values = re.findall(definition["Regex"], log)
        if values:
            found.append({"MetricName": definition["Name"], "Value": float(values[-1]), "Timestamp": time.time()})
    return found


def _mini_batches(records: list[bytes], limit: int):
    """MultiRecord: as many whole records per request as fit in `limit` bytes (limit 0: one per request)."""
    batch, size = [], 0
    for record in records:
        added = len(record) + (1 if batch else 0)
        if batch and (limit == 0 or size + added > limit):
            yield batch
            batch, size = [], 0
            added = len(record)
        batch.append(record)
        size += added
    if batch:
        yield batch


def _split(s3_uri: str) -> tuple[str, str]:
    bucket, _, key = s3_uri.removeprefix("s3://").partition("/")
    return bucket, key


def _keys(s3, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
