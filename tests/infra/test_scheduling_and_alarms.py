"""EventBridge schedules and CloudWatch alarms."""

from __future__ import annotations

from typing import Any


def schedule_targets(stack: Any) -> dict[str, str]:
    """schedule expression -> logical id of the function it invokes."""
    return {
        rule["Properties"]["ScheduleExpression"]: rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]
        for rule in stack.of_type("AWS::Events::Rule").values()
    }


def alarm(stack: Any, alarm_id_prefix: str) -> dict[str, Any]:
    found: dict[str, Any]
    (found,) = [
        a["Properties"] for i, a in stack.of_type("AWS::CloudWatch::Alarm").items() if i.startswith(alarm_id_prefix)
    ]
    return found


def test_pricing_refresh_every_four_hours_and_sweeper_every_five_minutes(any_stage: Any) -> None:
    assert schedule_targets(any_stage) == {
        "rate(4 hours)": any_stage.function_id("pricing_updater"),
        "rate(5 minutes)": any_stage.function_id("sweeper"),
    }


def test_schedule_targets_retry_and_drop_stale_events(dev: Any) -> None:
    for rule in dev.of_type("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 3600


def test_alarm_on_dead_letter_queue_depth(any_stage: Any) -> None:
    dlq = alarm(any_stage, "ObservabilityAlertDlqDepth")
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["Threshold"] == 1
    assert dlq["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    (dimension,) = dlq["Dimensions"]
    assert dimension["Value"]["Fn::GetAtt"][0].startswith("AlertsDeadLetterQueue")


def test_alarm_on_api_5xx_rate(any_stage: Any) -> None:
    rate = alarm(any_stage, "ObservabilityApi5xxRate")
    expressions = {m["Id"]: m for m in rate["Metrics"]}
    assert "100 * errors / requests" in next(m["Expression"] for m in rate["Metrics"] if "Expression" in m)
    assert expressions["errors"]["MetricStat"]["Metric"]["MetricName"] == "5xx"
    assert expressions["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    assert rate["Threshold"] == any_stage.stack.config.server_error_rate_percent


def test_alarm_on_pricing_staleness(any_stage: Any) -> None:
    stale = alarm(any_stage, "ObservabilityPricingStale")
    (query,) = stale["Metrics"]
    stage = any_stage.stack.config.stage
    assert query["Expression"] == f"SELECT MAX(PricingAgeSeconds) FROM Tollgate WHERE Stage = '{stage}'"  # noqa: S608
    assert query["Period"] == 3600
    assert stale["Threshold"] == (4 + 1) * 3600
    assert any_stage.environment("usage")["TOLLGATE_PRICING_STALE_AFTER_S"] == str((4 + 1) * 3600)


def test_alarm_on_errors_of_every_function(any_stage: Any, function_name: str) -> None:
    camel = "".join(part.capitalize() for part in function_name.split("_"))
    errors = alarm(any_stage, f"Observability{camel}Errors")
    assert errors["MetricName"] == "Errors"
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": any_stage.function_id(function_name)}}]


def test_every_alarm_notifies_the_alarm_topic(any_stage: Any) -> None:
    (topic_id,) = any_stage.of_type("AWS::SNS::Topic")
    alarms = any_stage.of_type("AWS::CloudWatch::Alarm").values()
    # DLQ, HTTP API 5xx, pricing age, execute REST API 5xx, sweeper charged, sweeper released + one per function
    assert len(alarms) == 6 + 8
    for found in alarms:
        assert found["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_outputs_name_the_api_url_and_root_key_secret(dev: Any) -> None:
    outputs = dev.template.to_json()["Outputs"]
    assert {"ApiUrl", "RootKeySecretName", "RootKeySecretArn"} <= set(outputs)
    assert outputs["RootKeySecretName"]["Value"] == "tollgate/dev/root-key"
