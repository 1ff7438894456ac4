"""Synth assertions for long and streamed calls (issue: execute streams, knows its deadline, never loses a charge).

* execute streams through a regional REST API (ResponseTransferMode STREAM, 15-minute integration timeout) that
  invokes the `live` alias; the function runs the ASGI app behind the AWS Lambda Web Adapter layer;
* the reservation TTL is the function timeout plus a margin, and every call's deadline ends before it;
* pooling behind RDS Proxy: one connection per container, 10 s borrow timeout, prepared statements off, proxy
  idle timeout in minutes, and prod's reserved concurrency fits the proxy's connections;
* operators' events reach the operators' topic; pricing age alarms on missing data; the sweeper alarms.
"""

from __future__ import annotations

from typing import Any

from tollgate_infra.constructs.data import PROXY_CONNECTIONS_BY_INSTANCE
from tollgate_infra.constructs.functions import ALERT_MAX_CONCURRENCY
from tollgate_infra.function_specs import ALERT_DELIVERY, ALL_FUNCTIONS, EXECUTE


def rest_methods(stack: Any) -> list[dict[str, Any]]:
    return [m["Properties"] for m in stack.of_type("AWS::ApiGateway::Method").values()]


def live_alias(stack: Any) -> tuple[str, dict[str, Any]]:
    (alias_id, alias), *others = [
        (i, a) for i, a in stack.of_type("AWS::Lambda::Alias").items() if a["Properties"]["Name"] == "live"
    ]
    assert not others
    return alias_id, alias["Properties"]


def test_execute_routes_stream_for_up_to_15_minutes_through_the_live_alias(any_stage: Any) -> None:
    alias_id, alias = live_alias(any_stage)
    assert alias["FunctionName"] == {"Ref": any_stage.function_id("execute")}
    methods = rest_methods(any_stage)
    assert methods
    for method in methods:
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["ResponseTransferMode"] == "STREAM"
        assert integration["TimeoutInMillis"] == 15 * 60 * 1000
        # InvokeWithResponseStream on the alias, not the unpublished function
        parts = integration["Uri"]["Fn::Join"][1]
        assert {"Ref": alias_id} in parts
        assert parts[-1] == "/response-streaming-invocations"


def test_the_rest_api_is_regional_throttled_traced_and_logged(any_stage: Any) -> None:
    (api,) = any_stage.of_type("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["EndpointConfiguration"]["Types"] == ["REGIONAL"]
    (stage,) = any_stage.of_type("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    config = any_stage.stack.config
    assert properties["TracingEnabled"] is True
    assert "DestinationArn" in properties["AccessLogSetting"]
    settings = properties["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == config.api_throttle_rate
    assert settings["ThrottlingBurstLimit"] == config.api_throttle_burst


def test_execute_runs_the_asgi_app_behind_the_lambda_web_adapter(any_stage: Any) -> None:
    properties = any_stage.function("execute")["Properties"]
    assert properties["Handler"] == "run.sh"
    assert properties["Timeout"] == 900
    environment = any_stage.environment("execute")
    assert environment["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert environment["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert environment["AWS_LWA_READINESS_CHECK_PATH"] == "/health"
    layers = [layer for layer in properties["Layers"] if "Ref" not in layer]
    (adapter,) = layers
    text = str(adapter)
    version = any_stage.stack.config.lwa_layer_version
    assert ":753240598075:layer:LambdaAdapterLayerArm64:" in text and text.rstrip("'\"]}").endswith(str(version))
    for name in ("keys", "budgets", "usage", "sweeper"):
        assert "AWS_LWA_INVOKE_MODE" not in any_stage.environment(name)


def test_reservation_ttl_is_the_execute_timeout_plus_a_margin_and_the_deadline_ends_first(
    any_stage: Any, function_name: str
) -> None:
    environment = any_stage.environment(function_name)
    ttl = int(environment["TOLLGATE_RESERVATION_TTL_S"])
    deadline = float(environment["TOLLGATE_CALL_DEADLINE_S"])
    assert ttl > EXECUTE.timeout_seconds > deadline
    assert ttl - EXECUTE.timeout_seconds <= 120
    assert float(environment["TOLLGATE_DEADLINE_MARGIN_S"]) > 0


def test_pooling_pools_behind_rds_proxy(any_stage: Any, function_name: str) -> None:
    environment = any_stage.environment(function_name)
    assert environment["TOLLGATE_DB_POOL_SIZE"] == "1"
    assert environment["TOLLGATE_DB_MAX_OVERFLOW"] == "0"
    assert float(environment["TOLLGATE_DB_POOL_TIMEOUT_S"]) <= 10
    assert environment["TOLLGATE_DB_SERVER_PREPARE"] == "false"
    assert int(environment["TOLLGATE_SECRET_MAX_AGE_S"]) <= 600


def test_proxy_drops_idle_clients_after_minutes(any_stage: Any) -> None:
    (proxy,) = any_stage.of_type("AWS::RDS::DBProxy").values()
    assert 60 <= proxy["Properties"]["IdleClientTimeout"] <= 15 * 60


def test_prod_reserved_concurrency_fits_the_proxy_connections(prod: Any) -> None:
    config = prod.stack.config
    reserved = sum(spec.reserved_concurrency or 0 for spec in ALL_FUNCTIONS)
    # alert_delivery is capped by its SQS event source's maximum concurrency instead
    assert ALERT_DELIVERY.reserved_concurrency is None
    total = reserved + ALERT_MAX_CONCURRENCY
    assert total <= PROXY_CONNECTIONS_BY_INSTANCE[config.database_instance_type]
    templated = sum(
        fn["Properties"].get("ReservedConcurrentExecutions", 0) for fn in prod.of_type("AWS::Lambda::Function").values()
    )
    assert templated == reserved


def test_prod_keeps_execute_warm_on_the_alias_and_dev_pays_nothing_idle(prod: Any, dev: Any) -> None:
    assert live_alias(prod)[1]["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 2}
    assert "ProvisionedConcurrencyConfig" not in live_alias(dev)[1]
    assert prod.of_type("AWS::Lambda::Version")


def test_operator_events_go_to_the_operators_topic(any_stage: Any) -> None:
    (topic_id,) = any_stage.of_type("AWS::SNS::Topic")
    environment = any_stage.environment("pricing_updater")
    assert environment["TOLLGATE_OPERATOR_TOPIC_ARN"] == {"Ref": topic_id}
    publishes = [
        s
        for s in any_stage.role_statements("pricing_updater")
        if "sns:Publish" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert publishes and all(s["Resource"] == {"Ref": topic_id} for s in publishes)
    for name in ("execute", "keys", "budgets", "usage"):
        assert "TOLLGATE_OPERATOR_TOPIC_ARN" not in any_stage.environment(name)


def alarms_by_description(stack: Any, text: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if text in a["Properties"]["AlarmDescription"]
    ]


def test_pricing_age_alarm_breaches_on_missing_data(any_stage: Any) -> None:
    (alarm,) = alarms_by_description(any_stage, "Prices are older than")
    assert alarm["TreatMissingData"] == "breaching"
    assert "PricingAgeSeconds" in str(alarm["Metrics"])


def test_sweeper_charges_and_releases_alarm(any_stage: Any) -> None:
    charged = alarms_by_description(any_stage, "sweeper charged")
    released = alarms_by_description(any_stage, "sweeper released")
    assert len(charged) == len(released) == 1
    assert "ReservationsCharged" in str(charged[0]["Metrics"])
    assert "ReservationsReleased" in str(released[0]["Metrics"])
    assert charged[0]["Threshold"] == 1
