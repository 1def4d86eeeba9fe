"""S3: the bucket, uploads that skip unchanged files, downloads, all with progress bars."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from releaseml.aws.session import Aws, errors
from releaseml.common import progress
from releaseml.common.errors import UserError

CHECKSUM_KEY = "releaseml-sha256"  # object metadata: the file's SHA-256, to skip uploading it again


@dataclass
class UploadReport:
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.uploaded)} uploaded, {len(self.unchanged)} already there"


def uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def split_uri(s3_uri: str) -> tuple[str, str]:
    parsed = urlparse(s3_uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise UserError(f"not an S3 location: {s3_uri!r} (expected s3://bucket/key)")
    return parsed.netloc, parsed.path.lstrip("/")


def check_bucket(aws: Aws, bucket: str) -> bool:
    """Whether the bucket exists; a UserError if it is another account's or in another region than the jobs."""
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")
    with errors(f"checking bucket {bucket}"):
        try:
            answer = s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 403:
                raise UserError(
                    f"bucket {bucket} exists but these credentials may not use it (another account's, or s3:ListBucket is missing); set `aws: {{bucket: ...}}` to a bucket of yours"
                ) from None
            if status == 301:
                answer = exc.response
            elif status == 404:
                return False
            else:
                raise
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    located = answer.get("BucketRegion") or headers.get("x-amz-bucket-region")
    if located and located != aws.region:
        raise UserError(
            f"bucket {bucket} is in {located}, but the jobs run in {aws.region}: SageMaker reads and writes S3 in its own region. "
            f"Use a bucket in {aws.region} (or none: releaseml makes sagemaker-{aws.region}-ACCOUNT), or set the region to {located}"
        )
    return True


def ensure_bucket(aws: Aws, bucket: str) -> None:
    """Create the bucket in the session's region unless it exists and is ours."""
    s3 = aws.client("s3")
    if check_bucket(aws, bucket):
        return
    with errors(f"creating bucket {bucket}"):
        location = {} if aws.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
        s3.create_bucket(Bucket=bucket, **location)
    progress.echo(f"Created bucket s3://{bucket} in {aws.region}.")


def upload_by_content(aws: Aws, files: dict[str, Path], bucket: str, prefix: str) -> tuple[list[str], UploadReport]:
    """Upload each file as `<sha256>/<name>`, a key that names its content, so no upload overwrites other data.

    Returns the keys (relative to the prefix) and what was sent; each file is read once to hash it.
    """
    digests = {name: _sha256(path) for name, path in files.items()}
    keys = {name: f"{digests[name]}/{name}" for name in files}
    report = upload(aws, {keys[name]: files[name] for name in files}, bucket, prefix, {keys[name]: digests[name] for name in files})
    return list(keys.values()), report


def upload(aws: Aws, files: dict[str, Path], bucket: str, prefix: str, checksums: dict[str, str] | None = None) -> UploadReport:
    """Upload `files` (relative key -> local file) under s3://bucket/prefix/; nothing there is ever deleted.

    A file whose SHA-256 matches the object already at its key is not sent again; `checksums` are
    the files' SHA-256 when the caller has them already.
    """
    s3 = aws.client("s3")
    prefix = prefix.rstrip("/") + "/"
    report = UploadReport()
    with errors(f"listing s3://{bucket}/{prefix}"):
        existing = {
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        }
    checksums = checksums or {name: _sha256(path) for name, path in files.items()}
    to_send = []
    for name, path in sorted(files.items()):
        key = prefix + name
        if key in existing and _remote_checksum(s3, bucket, key) == checksums[name]:
            report.unchanged.append(name)
        else:
            to_send.append((name, path, key))
    total = sum(path.stat().st_size for _, path, _ in to_send)
    with progress.bar(total, f"Uploading to s3://{bucket}/{prefix}") as bar, errors(f"uploading to s3://{bucket}/{prefix}"):
        for name, path, key in to_send:
            s3.upload_file(str(path), bucket, key, ExtraArgs={"Metadata": {CHECKSUM_KEY: checksums[name]}}, Callback=bar.update)
            report.uploaded.append(name)
    return report


def write_manifest(aws: Aws, bucket: str, key: str, prefix: str, names: list[str]) -> str:
    """A SageMaker manifest: the files s3://bucket/prefix/<name>, exactly these, for one channel of one job."""
    body = json.dumps([{"prefix": uri(bucket, prefix.rstrip("/") + "/")}, *sorted(names)], indent=1)
    with errors(f"writing the manifest s3://{bucket}/{key}"):
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
    return uri(bucket, key)


def copy_to_prefix(aws: Aws, bucket: str, source_prefix: str, keys: list[str], target_prefix: str) -> str:
    """Copy content-named objects (`<sha256>/<name>`) to `target_prefix/<name>` inside S3 (no data
    passes through this machine); returns the prefix's URI, a channel of exactly these files."""
    s3 = aws.client("s3")
    for key in keys:
        name = key.split("/", 1)[1]
        with errors(f"copying s3://{bucket}/{source_prefix}/{key}"):
            s3.copy_object(
                Bucket=bucket,
                Key=f"{target_prefix.rstrip('/')}/{name}",
                CopySource={"Bucket": bucket, "Key": f"{source_prefix.rstrip('/')}/{key}"},
            )
    return uri(bucket, target_prefix.rstrip("/") + "/")


def download_prefix(aws: Aws, s3_uri: str, destination: Path) -> list[Path]:
    """Download every object under an S3 prefix into `destination`, keeping relative paths."""
    s3 = aws.client("s3")
    bucket, prefix = split_uri(s3_uri)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    with errors(f"listing {s3_uri}"):
        objects = [
            item for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix) for item in page.get("Contents", [])
        ]
    written = []
    with progress.bar(sum(item["Size"] for item in objects), f"Downloading {s3_uri}") as bar, errors(f"downloading {s3_uri}"):
        for item in objects:
            target = destination / item["Key"][len(prefix) :]
            if not target.resolve().is_relative_to(destination.resolve()):
                raise UserError(f"refusing to write {item['Key']!r} outside {destination}")
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target), Callback=bar.update)
            written.append(target)
    return written


def download_file(aws: Aws, s3_uri: str, target: Path) -> Path:
    bucket, key = split_uri(s3_uri)
    with errors(f"downloading {s3_uri}"):
        target.parent.mkdir(parents=True, exist_ok=True)
        aws.client("s3").download_file(bucket, key, str(target))
    return target


def _remote_checksum(s3, bucket: str, key: str) -> str | None:
    with errors(f"reading s3://{bucket}/{key}"):
        return s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get(CHECKSUM_KEY)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_if_there(aws: Aws, s3_uri: str) -> bytes | None:
    """An object's bytes, or None when there is no object at that key (yet)."""
    from botocore.exceptions import ClientError

    bucket, key = split_uri(s3_uri)
    s3 = aws.client("s3")
    with errors(f"reading {s3_uri}"):
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
