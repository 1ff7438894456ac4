"""Lambda entry point of `sweeper` (EventBridge, every 5 minutes): settle expired reservations (charge the
calls that started, release the rest), publish what it did as metrics (alarmed when non-zero), then re-check
credentials whose cooldown ended (a cheap verify call; recovery alerts)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.aws.metrics import MetricUnit, metrics, use_stage_dimension
from tollgate.observability import logger
from tollgate.wiring import get_services


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    use_stage_dimension()
    services = get_services()
    result = services.sweeper.sweep()
    metrics.add_metric("ReservationsCharged", MetricUnit.Count, result.charged)
    metrics.add_metric("ReservationsReleased", MetricUnit.Count, result.released)
    metrics.add_metric("ReservationsChargedUsd", MetricUnit.NoUnit, float(result.charged_usd))
    summary: dict[str, Any] = result.as_dict()
    summary["probe"] = services.credential_prober.run().as_dict()
    logger.info("sweep done", extra=summary)
    return summary
