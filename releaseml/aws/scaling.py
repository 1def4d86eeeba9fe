"""Autoscaling of an endpoint's instances (Application Auto Scaling): a scalable target and one policy.

Real-time endpoints track SageMaker's own metric, calls per instance per minute; async endpoints
track the queue of waiting requests per instance, so they can scale down to no instance at all
and back up when work arrives (AWS's documented recipe for async endpoints).
"""

from __future__ import annotations

from typing import Optional

from releaseml.aws.endpoints import VARIANT
from releaseml.aws.session import Aws, errors
from releaseml.config.config_file import AwsSection

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
SCALE_IN_COOLDOWN_SECONDS = 300  # slow to give instances back, so a short lull does not cost a cold start
SCALE_OUT_COOLDOWN_SECONDS = 60
ASYNC_BACKLOG_PER_INSTANCE = 5.0  # async: waiting requests per instance before another is added


def resource_id(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/{VARIANT}"


def policy_name(endpoint: str) -> str:
    return f"{endpoint}-scaling"


def apply(aws: Aws, endpoint: str, section: AwsSection) -> Optional[dict]:
    """Register the range and the target-tracking policy; returns them in brief (None: no autoscaling asked for)."""
    if section.max_instances is None:
        return None
    low = section.min_instances if section.min_instances is not None else 1
    scaling = aws.client("application-autoscaling")
    with errors(f"registering autoscaling for endpoint {endpoint}"):
        scaling.register_scalable_target(
            ServiceNamespace=NAMESPACE,
            ResourceId=resource_id(endpoint),
            ScalableDimension=DIMENSION,
            MinCapacity=low,
            MaxCapacity=section.max_instances,
        )
        policy = {
            "PolicyName": policy_name(endpoint),
            "ServiceNamespace": NAMESPACE,
            "ResourceId": resource_id(endpoint),
            "ScalableDimension": DIMENSION,
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": _tracking(endpoint, section),
        }
        scaling.put_scaling_policy(**policy)
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    metric = (
        tracking.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        or tracking["CustomizedMetricSpecification"]["MetricName"]
    )
    return {"min_instances": low, "max_instances": section.max_instances, "metric": metric, "target": tracking["TargetValue"]}


def _tracking(endpoint: str, section: AwsSection) -> dict:
    cooldowns = {"ScaleInCooldown": SCALE_IN_COOLDOWN_SECONDS, "ScaleOutCooldown": SCALE_OUT_COOLDOWN_SECONDS}
    if section.endpoint_kind == "async":
        return {
            "TargetValue": ASYNC_BACKLOG_PER_INSTANCE,
            "CustomizedMetricSpecification": {
                "MetricName": "ApproximateBacklogSizePerInstance",
                "Namespace": "AWS/SageMaker",
                "Dimensions": [{"Name": "EndpointName", "Value": endpoint}],
                "Statistic": "Average",
            },
            **cooldowns,
        }
    return {
        "TargetValue": float(section.invocations_per_instance),
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        **cooldowns,
    }


def describe(aws: Aws, endpoint: str) -> Optional[dict]:
    """The registered range ({MinCapacity, MaxCapacity}), or None when the endpoint is not autoscaled."""
    scaling = aws.client("application-autoscaling")
    with errors(f"looking up autoscaling of endpoint {endpoint}"):
        targets = scaling.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=[resource_id(endpoint)])["ScalableTargets"]
    return targets[0] if targets else None


def remove(aws: Aws, endpoint: str) -> list[str]:
    """Delete the policies and deregister the target; returns what was removed (nothing when none was there)."""
    if describe(aws, endpoint) is None:
        return []
    scaling = aws.client("application-autoscaling")
    removed = []
    with errors(f"removing autoscaling of endpoint {endpoint}"):
        policies = scaling.describe_scaling_policies(ServiceNamespace=NAMESPACE, ResourceId=resource_id(endpoint))["ScalingPolicies"]
        for policy in policies:
            scaling.delete_scaling_policy(
                PolicyName=policy["PolicyName"], ServiceNamespace=NAMESPACE, ResourceId=resource_id(endpoint), ScalableDimension=DIMENSION
            )
            removed.append(f"scaling policy {policy['PolicyName']}")
        scaling.deregister_scalable_target(ServiceNamespace=NAMESPACE, ResourceId=resource_id(endpoint), ScalableDimension=DIMENSION)
        removed.append(f"scalable target {resource_id(endpoint)}")
    return removed
