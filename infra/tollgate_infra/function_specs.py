"""What each of the eight Lambdas is and may do, as data; `constructs.functions.TollgateFunction` builds them.

Permissions are capabilities, not IAM strings, so the least-privilege matrix is readable in one place:

| function        | KMS (provider keys)       | alert queue | root key | notes                               |
|-----------------|---------------------------|-------------|----------|-------------------------------------|
| execute         | decrypt                   | send        | read     | hot path                            |
| keys            | encrypt + decrypt         | -           | read     | stores provider keys                |
| budgets         | encrypt + decrypt         | send        | read     | alert channel secrets; test alerts  |
| usage           | -                         | -           | read     | reads, pricing overrides            |
| pricing_updater | -                         | send        | read     | alerts on rejected feeds            |
| alert_delivery  | decrypt                   | consume     | -        | SES send when a sender is set       |
| sweeper         | -                         | -           | -        |                                     |
| migrate         | -                         | -           | -        | custom resource, runs Alembic       |

Every function reads the database secret and connects through RDS Proxy with ONE connection per container
(a container serves one request at a time), so a function's reserved concurrency is also the most proxy
connections it can hold; the sum is sized against the proxy's connections in docs/deploy.md.

`execute` streams: it runs the local server's ASGI app behind the AWS Lambda Web Adapter (response
streaming) for up to 15 minutes, published as versions behind the `live` alias that the REST API invokes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class KeyUse(Enum):
    NONE = ()
    # aws-encryption-sdk: decrypt needs kms:Decrypt only
    DECRYPT = ("kms:Decrypt",)
    # encrypt with a KMS keyring asks KMS for a data key (GenerateDataKey); Encrypt covers extra master keys
    ENCRYPT_DECRYPT = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self.value)


class QueueUse(Enum):
    NONE = "none"
    SEND = "send"
    CONSUME = "consume"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    memory_mb: int
    timeout_seconds: int
    key_use: KeyUse = KeyUse.NONE
    queue_use: QueueUse = QueueUse.NONE
    reads_root_key: bool = False
    sends_email: bool = False
    # Reserved concurrency (applied when the stage sets reserve_concurrency): caps how many database
    # connections a function can open through the proxy, and makes singletons really single.
    reserved_concurrency: int | None = None
    # Runs the ASGI app behind the Lambda Web Adapter (response streaming), versions behind an alias.
    streams: bool = False

    @property
    def construct_id(self) -> str:
        return camel_case(self.name)


def camel_case(snake: str) -> str:
    """`pricing_updater` -> `PricingUpdater` (construct ids, alarm names, policy sids)."""
    return "".join(part.capitalize() for part in snake.split("_"))


EXECUTE = FunctionSpec(
    "execute",
    "OpenAI-compatible chat completions, models, cost estimates",
    1024,
    900,  # a streamed answer may run 15 minutes (the REST API streaming limit)
    key_use=KeyUse.DECRYPT,
    queue_use=QueueUse.SEND,
    reads_root_key=True,
    reserved_concurrency=130,
    streams=True,
)
KEYS = FunctionSpec(
    "keys",
    "Workspaces, gateway keys and provider credentials",
    512,
    30,
    key_use=KeyUse.ENCRYPT_DECRYPT,
    reads_root_key=True,
    reserved_concurrency=10,
)
BUDGETS = FunctionSpec(
    "budgets",
    "Budgets, budget status and alert channels",
    512,
    30,
    key_use=KeyUse.ENCRYPT_DECRYPT,
    queue_use=QueueUse.SEND,
    reads_root_key=True,
    reserved_concurrency=10,
)
USAGE = FunctionSpec(
    "usage",
    "Usage records, summaries, exports, pricing reads, health, OpenAPI",
    1024,
    30,
    reads_root_key=True,
    reserved_concurrency=10,
)
PRICING_UPDATER = FunctionSpec(
    "pricing_updater",
    "Refreshes model prices from the LiteLLM and OpenRouter feeds",
    1024,
    120,
    queue_use=QueueUse.SEND,
    reads_root_key=True,
    reserved_concurrency=1,
)
ALERT_DELIVERY = FunctionSpec(
    "alert_delivery",
    "Delivers budget alerts from SQS to webhooks, Slack, Discord and email",
    512,
    60,
    key_use=KeyUse.DECRYPT,
    queue_use=QueueUse.CONSUME,
    sends_email=True,
)
SWEEPER = FunctionSpec(
    "sweeper",
    "Settles budget reservations older than the execute timeout: charges started calls, releases the rest",
    512,
    60,
    reserved_concurrency=1,
)
MIGRATE = FunctionSpec(
    "migrate",
    "Runs Alembic migrations (CloudFormation custom resource)",
    512,
    300,
    reserved_concurrency=1,
)

# A reservation outlives the longest execute invocation by this much before the sweeper settles it.
RESERVATION_MARGIN_SECONDS = 60
RESERVATION_TTL_SECONDS = EXECUTE.timeout_seconds + RESERVATION_MARGIN_SECONDS
# Left of an invocation once its deadline passes: settle the call as estimated and answer 504.
DEADLINE_MARGIN_SECONDS = 5

ALL_FUNCTIONS: tuple[FunctionSpec, ...] = (
    EXECUTE,
    KEYS,
    BUDGETS,
    USAGE,
    PRICING_UPDATER,
    ALERT_DELIVERY,
    SWEEPER,
    MIGRATE,
)
