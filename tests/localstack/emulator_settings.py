"""The fake account the AWS tests use, and the environment that keeps every call on this machine."""

REGION = "eu-west-1"  # not boto3's fallback, so a lost region shows
ACCOUNT = "123456789012"  # moto's account for any credentials
ROLE = f"arn:aws:iam::{ACCOUNT}:role/releaseml-test"
API_ROLE = f"arn:aws:iam::{ACCOUNT}:role/releaseml-api-test"  # the role API Gateway assumes (aws.api_role)
SCHEDULE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/releaseml-scheduler-test"  # the role EventBridge Scheduler assumes (aws.schedule_role)

GUARD = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}
