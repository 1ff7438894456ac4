"""Lambda entry point of `pricing_updater`: the EventBridge schedule and `POST /v1/pricing/refresh`.

An API Gateway event (it has ``requestContext``) goes through the shared routes (root key, body
validation, the one error mapper); a scheduled event runs the refresh and returns its report.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.api.lambda_adapter import handle_event, lambda_app
from tollgate.api.routes.pricing import refresh_out
from tollgate.observability import logger
from tollgate.wiring import get_services

app = lambda_app("pricing_updater")


def is_api_event(event: dict[str, Any]) -> bool:
    return "requestContext" in event and "rawPath" in event


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_api_event(event):
        return handle_event(app, event)
    services = get_services()
    result: dict[str, Any] = refresh_out(services.pricing_refresher.refresh(force=False)).model_dump(mode="json")
    fx = services.fx_refresher.refresh()
    result["fx"] = {"status": fx.status, "date": fx.date, "changed": fx.changed, "problems": fx.problems}
    return result
