"""Messaging: the budget alert queue (SQS, SSE, TLS only) with a dead-letter queue that keeps what
alert_delivery could not deliver after `MAX_RECEIVES` attempts."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tollgate_infra.config import StageConfig

MAX_RECEIVES = 5
# AWS guidance for Lambda event sources: visibility timeout at least 6x the consumer's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6


class AlertQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, consumer_timeout: Duration) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.retain_data_on_delete else RemovalPolicy.DESTROY
        # SQS-managed SSE: encrypted at rest without a KMS key, so producers and the consumer need no kms:*.
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVES),
            removal_policy=removal,
        )
