"""Scheduling: EventBridge rules for the pricing refresh (default every 4 h) and the reservation sweeper
(every 5 min)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from tollgate_infra.config import StageConfig

TARGET_RETRIES = 2
MAX_EVENT_AGE_SECONDS = 3600


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        pricing_updater: lambda_.IFunction,
        sweeper: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.pricing_refresh = self._rule(
            "PricingRefresh",
            "Refresh model prices from the public feeds",
            Duration.hours(config.pricing_refresh_hours),
            pricing_updater,
        )
        self.reservation_sweep = self._rule(
            "ReservationSweep",
            "Release budget reservations older than the execute timeout",
            Duration.minutes(config.sweeper_interval_minutes),
            sweeper,
        )

    def _rule(self, rule_id: str, description: str, every: Duration, target: lambda_.IFunction) -> events.Rule:
        return events.Rule(
            self,
            rule_id,
            description=f"Tollgate: {description}",
            schedule=events.Schedule.rate(every),
            targets=[
                # An event older than the interval is superseded by the next one anyway.
                targets.LambdaFunction(
                    target,
                    retry_attempts=TARGET_RETRIES,
                    max_event_age=Duration.seconds(min(every.to_seconds(), MAX_EVENT_AGE_SECONDS)),
                )
            ],
        )
