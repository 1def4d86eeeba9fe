"""Batch predictions with a SageMaker batch transform.

Input files are split into lines (SplitType Line) and sent in mini-batches of up to
MaxPayloadInMB (BatchStrategy MultiRecord), so a file of any size goes through as long
as each single row fits; the proof of concept sent whole files and failed above 6 MB.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from releaseml.aws import logs, storage, waiting
from releaseml.aws.session import Aws, errors
from releaseml.common import environment, media, progress
from releaseml.common.errors import UserError
from releaseml.config.config_file import AwsSection
from releaseml.data import data_paths
from releaseml.serving import client as local_client

FINAL_STATES = {"Completed", "Failed", "Stopped"}
MIN_PART_BYTES = 1024 * 1024  # smaller parts would cost more in requests than they save in time
# A part of a split input file, and its output: reassembled from the name alone (so --attach can).
PART_NAME = "{stem}.part{index:04d}of{count:04d}{suffix}"
PART_OUTPUT = re.compile(r"^(?P<stem>.+)\.part(?P<index>\d{4})of(?P<count>\d{4})(?P<suffix>[^/]*)\.out$")
LINE_TYPES = {media.CSV, media.JSONLINES}  # one record per line: what SplitType Line needs


@dataclass
class TransformOutcome:
    job_name: str
    status: str
    output_uri: str
    files: list[Path]
    failure_reason: Optional[str] = None


def input_files(directory: Path) -> tuple[dict[str, Path], str]:
    """The data files to predict (relative name -> path) and their one content type."""
    if directory.is_file():
        files = {directory.name: directory}
    elif directory.is_dir():
        files = data_paths.visible_files(directory)
    else:
        raise UserError(f"no data to predict at {str(directory)!r}: expected a CSV or JSON Lines file, or a directory of them")
    if not files:
        raise UserError(f"{directory} holds no files to predict")
    types = {local_client.content_type_for(path) for path in files.values()}
    if len(types) != 1 or not types <= {*LINE_TYPES, media.PARQUET}:
        raise UserError(
            f"batch prediction takes files of one kind, CSV (.csv, no header row), JSON Lines (.jsonl) or Parquet; {directory} has "
            + ", ".join(sorted(path.suffix or path.name for path in files.values()))
        )
    return files, types.pop()


def parquet_as_lines(files: dict[str, Path], features: list[str], directory: Path) -> dict[str, Path]:
    """Parquet inputs written as CSV lines of the model's features (batch transform splits files into
    lines), converted a batch of rows at a time: `x.parquet` becomes `x.csv`, its output `x.csv.out`."""
    from releaseml.data import parquet

    converted = {}
    for name, path in files.items():
        relative = str(Path(name).with_suffix(".csv"))
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as stream:
            for lines in parquet.csv_lines(path, features):
                stream.write(lines)
        converted[relative] = target
    return converted


def split_for_instances(files: dict[str, Path], instances: int, directory: Path) -> dict[str, Path]:
    """Cut input files into parts at line boundaries so that `instances` instances all get work.

    SageMaker hands whole objects to instances: one 10 GB file on 4 instances keeps one busy and
    three idle. Each file is cut into parts of about (all bytes / instances), none under
    MIN_PART_BYTES, named `x.part0001of0003.csv` so `reassemble` puts the outputs back in order.
    """
    if instances <= 1:
        return files
    total = sum(path.stat().st_size for path in files.values())
    target = max(math.ceil(total / instances), MIN_PART_BYTES)
    out = {}
    for name, path in files.items():
        count = min(math.ceil(path.stat().st_size / target), 9999)
        if count <= 1:
            out[name] = path
            continue
        out.update(_split_file(name, path, count, directory))
    return out


def _split_file(name: str, path: Path, count: int, directory: Path) -> dict[str, Path]:
    """`path` in `count` parts of about equal size, each ending at the end of a line (streamed)."""
    relative = Path(name)
    size = path.stat().st_size
    parts, index, written, stream = {}, 0, 0, None
    with path.open("rb") as source:
        for line in source:
            if stream is None or (written >= size * index / count and index < count):
                if stream is not None:
                    stream.close()
                index += 1
                part = str(relative.with_name(PART_NAME.format(stem=relative.stem, index=index, count=count, suffix=relative.suffix)))
                parts[part] = directory / part
                parts[part].parent.mkdir(parents=True, exist_ok=True)
                stream = parts[part].open("wb")
            stream.write(line)
            written += len(line)
    if stream is not None:
        stream.close()
    if index < count:  # fewer lines than parts: rename so the names tell the real count
        renamed = {}
        for number, file in enumerate(parts.values(), start=1):
            new = str(relative.with_name(PART_NAME.format(stem=relative.stem, index=number, count=index, suffix=relative.suffix)))
            renamed[new] = file.rename(directory / new)
        parts = renamed
    return parts


def reassemble(files: list[Path]) -> list[Path]:
    """The outputs of split files put back together, `x.part0001of0003.csv.out` ... into `x.csv.out`,
    in part order (so rows come back in the file's order); other files as they are."""
    groups: dict[tuple[Path, str, str, int], dict[int, Path]] = {}
    out = []
    for file in files:
        match = PART_OUTPUT.match(file.name)
        if match is None:
            out.append(file)
            continue
        key = (file.parent, match["stem"], match["suffix"], int(match["count"]))
        groups.setdefault(key, {})[int(match["index"])] = file
    for (parent, stem, suffix, count), parts in groups.items():
        if sorted(parts) != list(range(1, count + 1)):
            out += list(parts.values())  # an incomplete set (a failed part): left as they are, nothing lost
            continue
        whole = parent / f"{stem}{suffix}.out"
        with whole.open("wb") as stream:
            for index in range(1, count + 1):
                data = parts[index].read_bytes()
                stream.write(data if data.endswith(b"\n") or not data else data + b"\n")
        for part in parts.values():
            part.unlink()
        out.append(whole)
    return sorted(out)


def refuse_header_rows(files: dict[str, Path], column_names: set[str]) -> None:
    """Batch transform cuts files into lines, so a header row would be predicted as data: stop before that."""
    import csv

    for name, path in files.items():
        with path.open(encoding="utf-8", errors="replace", newline="") as stream:
            first = next(csv.reader(stream), [])
        known = [field.strip() for field in first if field.strip() in column_names]
        if first and len(known) * 2 >= len(first):
            raise UserError(
                f"{path} starts with a header row ({', '.join(first[:4])}{', ...' if len(first) > 4 else ''}); batch prediction "
                f"sends lines of data only. Remove the first line (e.g. `tail -n +2 {name} > {Path(name).stem}-data.csv`) and try again."
            )


def request(
    name: str,
    model_name: str,
    section: AwsSection,
    input_uri: str,
    output_uri: str,
    content_type: str,
    join: bool,
    tags: list[dict],
    explain: Optional[int] = None,
) -> dict:
    """CreateTransformJob's arguments: line splitting, mini-batches, and the input joined to its prediction when asked.

    Batch transform sends no per-request options: reasons are asked for in the container's environment.
    """
    return {
        "TransformJobName": name,
        "ModelName": model_name,
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": section.transform_max_payload_mb,
        # SageMaker: MaxConcurrentTransforms x MaxPayloadInMB may not exceed 100 MB.
        "MaxConcurrentTransforms": max(1, min(4, 100 // section.transform_max_payload_mb)),
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": content_type,
            "CompressionType": "None",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": output_uri, "Accept": content_type, "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": section.transform_instance_type, "InstanceCount": section.transform_instance_count},
        **({"DataProcessing": {"JoinSource": "Input"}} if join else {}),
        **({"Environment": {environment.EXPLAIN.name: str(explain)}} if explain else {}),
        "Tags": tags,
    }


def describe(aws: Aws, name: str) -> dict:
    with errors(f"looking up transform job {name}"):
        return aws.client("sagemaker").describe_transform_job(TransformJobName=name)


def attach(
    aws: Aws, name: str, out_dir: Path, timeout: Optional[float] = None, poll_seconds: float = waiting.DEFAULT_POLL_SECONDS
) -> TransformOutcome:
    """Wait for a transform job, then download its results into `out_dir`."""
    follower = logs.LogFollower(aws, logs.TRANSFORM_GROUP, name, progress.echo)
    reattach = f"Re-attach with `releaseml batch-predict --attach {name}`."
    description = waiting.wait(
        lambda: describe(aws, name),
        "TransformJobStatus",
        FINAL_STATES,
        f"Batch transform {name}",
        reattach,
        timeout=timeout,
        poll_seconds=poll_seconds,
        on_poll=follower.poll,
    )
    output_uri = description["TransformOutput"]["S3OutputPath"]
    if description["TransformJobStatus"] != "Completed":
        raise UserError(
            f"batch transform {name} {description['TransformJobStatus'].lower()}: {description.get('FailureReason') or 'no reason given'}"
        )
    files = reassemble(storage.download_prefix(aws, output_uri, out_dir))
    return TransformOutcome(name, description["TransformJobStatus"], output_uri, files)
