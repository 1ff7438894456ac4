"""Lambda entry point of `sweeper` (EventBridge, every 5 minutes): release stale reservations, then
re-check credentials whose cooldown ended (a cheap verify call; recovery alerts)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.observability import logger
from tollgate.wiring import get_services


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = get_services()
    result: dict[str, Any] = services.sweeper.sweep().as_dict()
    result["probe"] = services.credential_prober.run().as_dict()
    logger.info("sweep done", extra=result)
    return result
