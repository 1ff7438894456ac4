"""Lambda entry point of the `execute` function: adapt the API Gateway event, nothing else."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.api.lambda_adapter import handle_event, lambda_app
from tollgate.observability import logger

app = lambda_app("execute")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(app, event, context)
