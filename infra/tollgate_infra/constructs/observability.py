"""Observability: alarms (alert DLQ depth, API 5xx rates, pricing staleness, reservations the sweeper had to
settle, errors of every function) that notify the operators' SNS topic, optionally subscribed to an operator
email address. The same topic receives operators' events from the code (a rejected price feed), never the
tenants' alert queue."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.function_specs import camel_case

METRICS_NAMESPACE = "Tollgate"
PRICING_AGE_METRIC = "PricingAgeSeconds"
FIVE_MINUTES = Duration.minutes(5)
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD


@dataclass(frozen=True)
class AlarmRule:
    description: str
    threshold: float
    comparison: cloudwatch.ComparisonOperator = AT_LEAST
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    # No data means no traffic (or nothing published yet), not a failure, unless the metric is a heartbeat.
    missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING


class Alarms(Construct):
    """Alarms on one SNS topic; call the `watch_*` methods for what to watch."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.topic = sns.Topic(self, "Topic", display_name=f"Tollgate {config.stage} alarms", enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

    def watch_dead_letter_queue(self, dead_letter_queue: sqs.IQueue) -> None:
        self._add(
            "AlertDlqDepth",
            dead_letter_queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
            AlarmRule("Budget alerts that could not be delivered are waiting in the dead-letter queue", 1),
        )

    def watch_api(self, api: apigwv2.HttpApi) -> None:
        self._watch_5xx_rate("Api5xxRate", "API requests", api.metric_server_error, api.metric_count)

    def _watch_5xx_rate(
        self,
        alarm_id: str,
        what: str,
        errors: Callable[..., cloudwatch.Metric],
        requests: Callable[..., cloudwatch.Metric],
    ) -> None:
        """Alarm when more than ``server_error_rate_percent`` of ``what`` answered 5xx in 2 of 3 five-minute
        periods; ``errors``/``requests`` are the API's metric factories (HTTP API and REST API alike)."""
        rate = self._config.server_error_rate_percent
        server_error_rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={
                "errors": errors(period=FIVE_MINUTES, statistic="Sum"),
                "requests": requests(period=FIVE_MINUTES, statistic="Sum"),
            },
            label="5xx rate (%)",
            period=FIVE_MINUTES,
        )
        self._add(
            alarm_id, server_error_rate, AlarmRule(f"More than {rate}% of {what} answered 5xx", rate, ABOVE, 3, 2)
        )

    def watch_pricing_age(self) -> None:
        """Alarm on `PricingAgeSeconds` (namespace Tollgate) published by the functions for this stage.

        A Metrics Insights query matches every series carrying `Stage=<stage>`, whatever other dimensions the
        publisher adds (Powertools adds `service` by default), so the alarm cannot silently watch nothing.
        """
        stale_after = self._config.pricing_stale_after_seconds
        stage = self._config.stage  # one of STAGE_DEFAULTS' names, never free text
        query = f"SELECT MAX({PRICING_AGE_METRIC}) FROM {METRICS_NAMESPACE} WHERE Stage = '{stage}'"  # noqa: S608
        pricing_age = cloudwatch.MathExpression(
            expression=query,  # CloudWatch Metrics Insights, not SQL
            label="pricing age (s)",
            period=Duration.hours(1),
        )
        self._add(
            "PricingStale",
            pricing_age,
            # pricing_updater publishes the age after every run: no datapoint means it is not running (or has
            # never succeeded), which is as stale as it gets.
            AlarmRule(
                f"Prices are older than {stale_after} s: refreshes fail or do not run",
                stale_after,
                ABOVE,
                missing=cloudwatch.TreatMissingData.BREACHING,
            ),
        )

    def watch_sweeper(self) -> None:
        """Any reservation the sweeper charges or releases is a call that ended without settling (a crash, a
        kill, a timeout past the deadline): worth an operator's look every time."""
        stage = self._config.stage
        for name, what in (("ReservationsCharged", "charged"), ("ReservationsReleased", "released")):
            query = f"SELECT SUM({name}) FROM {METRICS_NAMESPACE} WHERE Stage = '{stage}'"  # noqa: S608
            self._add(
                f"Sweeper{what.capitalize()}",
                cloudwatch.MathExpression(expression=query, label=f"reservations {what}", period=FIVE_MINUTES),
                AlarmRule(f"The sweeper {what} reservations of calls that never settled", 1),
            )

    def watch_rest_api(self, api: apigw.RestApi) -> None:
        self._watch_5xx_rate("ExecuteApi5xxRate", "model calls", api.metric_server_error, api.metric_count)

    def watch_functions(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        for name, function in functions.items():
            self._add(
                f"{camel_case(name)}Errors",
                function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                AlarmRule(f"The {name} function raised unhandled errors", self._config.function_error_threshold),
            )

    def _add(self, alarm_id: str, metric: cloudwatch.IMetric, rule: AlarmRule) -> None:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=f"Tollgate {self._config.stage}: {rule.description}",
            metric=metric,
            threshold=rule.threshold,
            comparison_operator=rule.comparison,
            evaluation_periods=rule.evaluation_periods,
            datapoints_to_alarm=rule.datapoints_to_alarm,
            treat_missing_data=rule.missing,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[alarm_id] = alarm
