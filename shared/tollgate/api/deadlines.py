"""Which deadline an execute request runs under (the platform's, capped by the configured one).

* Lambda invoked with an event (API Gateway, buffered): the adapter sets ``ApiRequest.deadline``
  from the context's remaining time minus ``deadline_margin_s``.
* Lambda behind the Lambda Web Adapter (streaming): the same ASGI app as the local server; the
  adapter forwards the invocation's deadline in ``x-amzn-lambda-context`` (read only when running
  on Lambda, so a client cannot set it locally).
* Everywhere: never later than ``call_deadline_s`` from now.
"""

from __future__ import annotations

from tollgate.api.http import ApiRequest
from tollgate.config import Settings
from tollgate.execution.deadline import Deadline, lwa_deadline


def request_deadline(request: ApiRequest, settings: Settings) -> Deadline:
    limit = Deadline.after(settings.call_deadline_s)
    if request.deadline is not None:
        return request.deadline.earliest(limit)
    if settings.lambda_function_name:
        forwarded = lwa_deadline(request.headers, settings.deadline_margin_s)
        if forwarded is not None:
            return forwarded.earliest(limit)
    return limit
