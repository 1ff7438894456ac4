"""Business metrics (Powertools Metrics, CloudWatch embedded metric format) with a ``Stage`` dimension,
which the alarms select on (namespace ``Tollgate``, see infra/tollgate_infra/constructs/observability.py).

* ``PricingAgeSeconds`` - seconds since the last successful price refresh (pricing_updater, every run);
  the stale-prices alarm treats missing data as breaching, so a refresher that stops running alarms too.
* ``PriceFeedsRejected`` - feeds a refresh refused to apply.
* ``ReservationsCharged`` / ``ReservationsReleased`` / ``ReservationsChargedUsd`` - what the sweeper had
  to settle (any non-zero value means calls ended without settling: crashes, kills, timeouts).
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tollgate.config import get_settings

NAMESPACE = "Tollgate"

metrics = Metrics(namespace=NAMESPACE)


def use_stage_dimension() -> None:
    metrics.set_default_dimensions(Stage=get_settings().stage)


__all__ = ["NAMESPACE", "MetricUnit", "metrics", "use_stage_dimension"]
