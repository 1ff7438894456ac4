"""The one Lambda context for invoking handlers in tests: a real ``LambdaContext`` (so handlers
type-check against it) with test values; ``remaining_ms`` is Lambda's clock, counted from creation."""

from __future__ import annotations

import time

from aws_lambda_powertools.utilities.typing import LambdaContext


class FakeLambdaContext(LambdaContext):
    def __init__(self, function_name: str = "tollgate-test", *, remaining_ms: int = 30_000) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self._memory_limit_in_mb = 512
        self._aws_request_id = "00000000-0000-0000-0000-000000000000"
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "test"
        self._ends = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # Lambda's is a static stub
        return max(0, int((self._ends - time.monotonic()) * 1000))
