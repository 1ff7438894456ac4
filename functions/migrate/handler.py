"""Lambda entry point of `migrate`: the CloudFormation custom resource (provider framework) runs
Alembic `upgrade head` and the built-in seeds on every deploy. Raising fails the deploy."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.bootstrap import prepare_database
from tollgate.db.migrate import current_revision
from tollgate.observability import logger
from tollgate.wiring import get_services

PHYSICAL_RESOURCE_ID = "tollgate-migrations"


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_type = event.get("RequestType", "Create")
    if request_type == "Delete":
        logger.info("stack delete: migrations left in place")
        return {"PhysicalResourceId": PHYSICAL_RESOURCE_ID}
    services = get_services()
    prepare_database(services)
    revision = current_revision(services.engine)
    logger.info("database migrated", extra={"revision": revision})
    return {"PhysicalResourceId": PHYSICAL_RESOURCE_ID, "Data": {"Revision": revision or ""}}
