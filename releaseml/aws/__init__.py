"""Everything that talks to AWS: S3, ECR, SageMaker jobs and endpoints, CloudWatch logs.

Every call goes through boto3 clients of one `session.Aws`, so tests point the whole
package at an emulator with AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_<SERVICE>).
"""
