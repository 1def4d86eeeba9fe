"""Follow a SageMaker job's CloudWatch log: streams `JOB/...` in /aws/sagemaker/TrainingJobs (or TransformJobs, Endpoints/NAME)."""

from __future__ import annotations

from typing import Callable

from releaseml.aws.session import Aws, errors

TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
TRANSFORM_GROUP = "/aws/sagemaker/TransformJobs"


class LogFollower:
    """Prints the events that are new since the last `poll`, from every stream of one job."""

    def __init__(self, aws: Aws, group: str, job_name: str, echo: Callable[[str], None]):
        self._logs = aws.client("logs")
        self.group, self.job_name, self._echo = group, job_name, echo
        self._tokens: dict[str, str] = {}
        self.lines: list[str] = []

    def poll(self) -> None:
        for stream in self._streams():
            self._read(stream)

    def _streams(self) -> list[str]:
        with errors(f"reading the log of {self.job_name}"):
            try:
                found = self._logs.describe_log_streams(logGroupName=self.group, logStreamNamePrefix=self.job_name + "/")
            except self._logs.exceptions.ResourceNotFoundException:
                return []  # the job has not logged anything yet
        return sorted(stream["logStreamName"] for stream in found.get("logStreams", []))

    def _read(self, stream: str) -> None:
        with errors(f"reading log stream {stream}"):
            while True:
                token = self._tokens.get(stream)
                page = self._logs.get_log_events(
                    logGroupName=self.group, logStreamName=stream, startFromHead=True, **({"nextToken": token} if token else {})
                )
                for event in page.get("events", []):
                    message = event["message"].rstrip("\n")
                    self.lines.append(message)
                    self._echo(message)
                self._tokens[stream] = page["nextForwardToken"]
                if page["nextForwardToken"] == token or not page.get("events"):
                    return
