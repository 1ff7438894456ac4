"""Exchange rates for display currencies: versioned like prices, refreshed from the ECB, guarded.

Rules:

* A rate is units of the currency per 1 USD (``rate_per_usd``), ``Decimal``, stored at 1e-9. USD stays
  the truth everywhere; a rate only changes how an amount is *shown*.
* Versions: setting a different rate closes the current row (``effective_to = now``) and opens a new
  one; the same rate writes nothing. ``rate_at(currency, when)`` is the version effective at ``when``.
* Feed (``TOLLGATE_FX_URL``, default the ECB's daily reference-rate XML): the ECB quotes 1 EUR in each
  currency; per USD that is ``rate(currency) / rate(USD)`` and ``1 / rate(USD)`` for EUR.
* Guard: a feed rate more than 10% away from the current rate is refused (the old rate stays) and an
  operators' event ``pricing.fx_rejected`` is raised. Manual rates (root, ``PUT /v1/fx-rates/{currency}``,
  source ``manual``) are not guarded and win until the feed's next *different* rate.
* Staleness: the feed is stale when no refresh succeeded within ``fx_stale_after_s`` (default 4 days,
  since the ECB publishes on business days only).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - input is size-capped and DOCTYPE-free before parsing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue
from tollgate.clock import Clock, ensure_utc
from tollgate.currencies import ISO_4217
from tollgate.db.models import FxRate, PricingStatus
from tollgate.fx_display import DisplayCurrency, load_display
from tollgate.money import PRICE_QUANTUM
from tollgate.observability import logger
from tollgate.pricing.feeds.fetch import TIMEOUT, FeedError
from tollgate.pricing.status import STATUS_ID, lock_status

MAX_FX_BYTES = 1024 * 1024
MAX_MOVE = Decimal("0.10")
FX_SOURCE = "fx"  # the key of the feed in pricing_status.source_versions
_ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


@dataclass(frozen=True)
class FxFeed:
    date: str
    rates: dict[str, Decimal]  # currency -> units per 1 USD


@dataclass
class FxReport:
    status: str  # applied | rejected | failed
    date: str | None = None
    changed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_ecb(raw: bytes) -> FxFeed:
    """The ECB daily XML → rates per USD (EUR included, USD itself 1). Raises FeedError."""
    if len(raw) > MAX_FX_BYTES or b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise FeedError("not an ECB reference-rate document (size or DOCTYPE)")
    try:
        root = ET.fromstring(raw)  # noqa: S314 - see the checks above
    except ET.ParseError:
        raise FeedError("not valid XML") from None
    day = next((c for c in root.iter(f"{_ECB_NS}Cube") if c.get("time")), None)
    if day is None:
        raise FeedError("no dated Cube element in the ECB document")
    per_eur: dict[str, Decimal] = {}
    for cube in day.iter(f"{_ECB_NS}Cube"):
        currency, rate = cube.get("currency"), cube.get("rate")
        if currency is None or rate is None:
            continue
        try:
            value = Decimal(rate)
        except InvalidOperation:
            raise FeedError(f"rate of {currency} is not a number") from None
        if currency in ISO_4217 and value.is_finite() and value > 0:
            per_eur[currency] = value
    usd = per_eur.get("USD")
    if usd is None:
        raise FeedError("the ECB document has no USD rate")
    rates = {c: (v / usd).quantize(PRICE_QUANTUM) for c, v in per_eur.items() if c != "USD"}
    rates["EUR"] = (Decimal(1) / usd).quantize(PRICE_QUANTUM)
    return FxFeed(date=str(day.get("time")), rates=rates)


def fetch_bytes(url: str, max_bytes: int = MAX_FX_BYTES) -> bytes:
    """The feed's bytes (bounded). Raises ``FeedError`` when it cannot be read or is too large."""
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=True) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise FeedError(f"HTTP {response.status_code} from {url}")
            chunks: list[bytes] = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if sum(len(c) for c in chunks) > max_bytes:
                    raise FeedError(f"feed larger than {max_bytes} bytes")
    except httpx.HTTPError as exc:
        raise FeedError(f"cannot fetch {url}: {exc.__class__.__name__}") from None
    return b"".join(chunks)


def current_rates(session: Session) -> dict[str, FxRate]:
    rows = session.scalars(select(FxRate).where(FxRate.effective_to.is_(None))).all()
    return {row.currency: row for row in rows}


def rate_at(session: Session, currency: str, when: datetime) -> Decimal | None:
    """Units of ``currency`` per USD effective at ``when`` (None: no rate then). USD is always 1."""
    if currency == "USD":
        return Decimal(1)
    row = session.scalars(
        select(FxRate)
        .where(
            FxRate.currency == currency,
            FxRate.effective_from <= when,
            (FxRate.effective_to.is_(None)) | (FxRate.effective_to > when),
        )
        .order_by(FxRate.effective_from.desc())
        .limit(1)
    ).first()
    return row.rate_per_usd if row is not None else None


def write_rate(session: Session, currency: str, rate: Decimal, source: str, now: datetime) -> bool:
    """Make ``rate`` the current version of ``currency``; False (nothing written) when it already is."""
    rate = rate.quantize(PRICE_QUANTUM)
    current = current_rates(session).get(currency)
    if current is not None and current.rate_per_usd == rate and current.source == source:
        return False
    if current is not None:
        current.effective_to = now
    session.add(FxRate(currency=currency, rate_per_usd=rate, source=source, effective_from=now, created_at=now))
    session.flush()
    return True


def moved_too_far(old: Decimal, new: Decimal) -> bool:
    return abs(new - old) > old * MAX_MOVE


class FxRefresher:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, alerts: AlertQueue, load: Callable[[], bytes] | None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._alerts = alerts
        self._load = load

    def refresh(self) -> FxReport:
        """Fetch, guard and apply the feed; never raises for a bad feed (the report says why)."""
        if self._load is None:
            return FxReport(status="disabled")
        try:
            feed = parse_ecb(self._load())
        except FeedError as exc:
            report = FxReport(status="failed", problems=[str(exc)])
        else:
            report = self._apply(feed)
        self._record(report)
        if report.status != "applied":
            self._alerts.enqueue(
                {
                    "event": "pricing.fx_rejected",
                    "source": FX_SOURCE,
                    "status": report.status,
                    "problems": report.problems,
                    "sent_at": self._clock.now().isoformat(),
                }
            )
        logger.info("fx refresh", extra={"status": report.status, "changed": len(report.changed)})
        return report

    def _apply(self, feed: FxFeed) -> FxReport:
        now = self._clock.now()
        with self._sessions.begin() as session:
            lock_status(session)  # one refresh at a time
            current = current_rates(session)
            problems = [
                f"{c}: {current[c].rate_per_usd} → {rate} per USD moves more than 10%"
                for c, rate in sorted(feed.rates.items())
                if c in current and moved_too_far(current[c].rate_per_usd, rate)
            ]
            if problems:
                return FxReport(status="rejected", date=feed.date, problems=problems)
            changed = [c for c, rate in sorted(feed.rates.items()) if write_rate(session, c, rate, "ecb", now)]
        return FxReport(status="applied", date=feed.date, changed=changed)

    def _record(self, report: FxReport) -> None:
        now = self._clock.now().isoformat()
        with self._sessions.begin() as session:
            status = lock_status(session)
            versions = dict(status.source_versions or {})
            entry = dict(versions.get(FX_SOURCE) or {})
            entry.update(last_attempt_at=now, status=report.status, error="; ".join(report.problems) or None)
            if report.status == "applied":
                entry.update(last_success_at=now, version=report.date)
            versions[FX_SOURCE] = entry
            status.source_versions = versions


@dataclass(frozen=True)
class FxStatus:
    last_success_at: datetime | None
    version: str | None
    stale: bool
    currencies: int


def fx_status(session: Session, now: datetime, stale_after_s: int, versions: dict[str, object]) -> FxStatus:
    entry = versions.get(FX_SOURCE)
    entry = entry if isinstance(entry, dict) else {}
    raw = entry.get("last_success_at")
    last = ensure_utc(datetime.fromisoformat(raw)) if isinstance(raw, str) else None
    stale = last is None or (now - last).total_seconds() > stale_after_s
    version = entry.get("version")
    return FxStatus(last, version if isinstance(version, str) else None, stale, len(current_rates(session)))


class FxService:
    """What the API reads and root writes: current rates, a manual rate, the feed's status."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, stale_after_s: int) -> None:
        self._sessions = sessions
        self._clock = clock
        self._stale_after_s = stale_after_s

    def current(self) -> list[FxRate]:
        with self._sessions() as session:
            return sorted(current_rates(session).values(), key=lambda r: r.currency)

    def set_manual(self, currency: str, rate: Decimal) -> FxRate:
        """Root's rate for ``currency`` (per USD), current from now on; not guarded."""
        with self._sessions.begin() as session:
            write_rate(session, currency, rate, "manual", self._clock.now())
            return current_rates(session)[currency]

    def status(self) -> FxStatus:
        with self._sessions() as session:
            row = session.get(PricingStatus, STATUS_ID)
            versions = dict(row.source_versions or {}) if row is not None else {}
            return fx_status(session, self._clock.now(), self._stale_after_s, versions)

    def rate_now(self, currency: str) -> Decimal | None:
        with self._sessions() as session:
            return rate_at(session, currency, self._clock.now())

    def display_for(self, workspace_id: uuid.UUID) -> DisplayCurrency | None:
        """The workspace's display currency with its rate history (None: it shows USD only)."""
        with self._sessions() as session:
            return load_display(session, workspace_id)

    def now(self) -> datetime:
        return self._clock.now()
