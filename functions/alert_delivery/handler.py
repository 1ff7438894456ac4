"""Lambda entry point of `alert_delivery`: SQS batch → deliver each alert, report partial failures.

A failed record is reported in ``batchItemFailures``; SQS makes it visible again after the
visibility timeout and moves it to the DLQ after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tollgate.observability import logger
from tollgate.wiring import get_services

# an all-failed batch is reported item by item too (SQS retries each, then dead-letters it)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    get_services().alert_delivery.deliver(json.loads(record.body))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
