"""Lambda entry point of the `usage` function: adapt the API Gateway event, nothing else.

Serves /v1/usage, /v1/usage/summary, /v1/usage/executions, /v1/usage/export (buffered and capped
at 5 MB here; see docs/usage.md), /health and /openapi.json.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.api.lambda_adapter import handle_event, lambda_app
from tollgate.observability import logger

app = lambda_app("usage")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(app, event)
