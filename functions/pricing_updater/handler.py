"""Lambda entry point of `pricing_updater`: the EventBridge schedule and `POST /v1/pricing/refresh`.

An API Gateway event (it has ``requestContext``) goes through the shared routes (root key, body
validation, the one error mapper); a scheduled event runs the refresh and returns its report.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.api.lambda_adapter import handle_event, lambda_app
from tollgate.api.routes.pricing import refresh_out
from tollgate.aws.metrics import MetricUnit, metrics, use_stage_dimension
from tollgate.observability import logger
from tollgate.pricing.status import read_status
from tollgate.wiring import Services, get_services

app = lambda_app("pricing_updater")


def is_api_event(event: dict[str, Any]) -> bool:
    return "requestContext" in event and "rawPath" in event


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    use_stage_dimension()
    if is_api_event(event):
        result = handle_event(app, event)
    else:
        services = get_services()
        report = services.pricing_refresher.refresh(force=False)
        metrics.add_metric(
            "PriceFeedsRejected", MetricUnit.Count, sum(1 for s in report.sources if s.status != "applied")
        )
        result = refresh_out(report).model_dump(mode="json")
        fx = services.fx_refresher.refresh()
        result["fx"] = {"status": fx.status, "date": fx.date, "changed": fx.changed, "problems": fx.problems}
    publish_pricing_age(get_services())
    return result


def publish_pricing_age(services: Services) -> None:
    """``PricingAgeSeconds`` after every run; never succeeded: no datapoint (the alarm treats it as breaching)."""
    settings = services.settings
    with services.sessions() as session:
        status = read_status(session, services.clock.now(), settings.pricing_stale_after_s)
    if status.age_s is not None:
        metrics.add_metric("PricingAgeSeconds", MetricUnit.Seconds, status.age_s)
