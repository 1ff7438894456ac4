"""How a budget alert looks on each channel: Slack blocks, Discord embeds, email text."""

from __future__ import annotations

from typing import Any

_RED, _ORANGE, _YELLOW = 0xE01E5A, 0xF2994A, 0xF2C94C


def _percent(payload: dict[str, Any]) -> str:
    return f"{float(payload['threshold']) * 100:g}%"


def summary(payload: dict[str, Any]) -> str:
    if "summary" in payload:  # provider (and later) events carry their own sentence
        return str(payload["summary"])
    if payload.get("event") == "alert_channel.test":
        return "Tollgate test alert: this channel is wired up correctly."
    return (
        f"Budget '{payload['budget_name']}' crossed {_percent(payload)}: "
        f"{payload['spent_usd']} of {payload['limit_usd']} USD spent this period"
    )


def _facts(payload: dict[str, Any]) -> list[tuple[str, str]]:
    if str(payload.get("event", "")).startswith("provider."):
        serving = payload.get("serving") or {}
        facts = [("Credential", f"{payload.get('provider')} / {payload.get('credential_name')}")]
        if payload.get("error_type"):
            facts.append(("Error", str(payload["error_type"])))
        if serving:
            facts.append(("Now serving", f"{serving.get('provider')} / {serving.get('credential_name')}"))
        return facts
    if payload.get("event") == "alert_channel.test":
        return [("Workspace", str(payload.get("workspace_id")))]
    return [
        ("Spent", f"{payload['spent_usd']} USD"),
        ("Limit", f"{payload['limit_usd']} USD"),
        ("Threshold", _percent(payload)),
        ("Period", f"{payload['period_start']} → {payload.get('period_end') or 'open'}"),
    ]


def _title(payload: dict[str, Any]) -> str:
    provider = str(payload.get("event", "")).startswith("provider.")
    return "Tollgate provider alert" if provider else "Tollgate budget alert"


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    fields = [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in _facts(payload)]
    return {
        "text": summary(payload),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _title(payload)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": summary(payload)}},
            {"type": "section", "fields": fields},
        ],
    }


def discord_body(payload: dict[str, Any]) -> dict[str, Any]:
    threshold = float(payload.get("threshold") or 0)
    color = _RED if threshold >= 1 else _ORANGE if threshold >= 0.75 else _YELLOW
    return {
        "embeds": [
            {
                "title": _title(payload),
                "description": summary(payload),
                "color": color,
                "fields": [{"name": name, "value": value, "inline": True} for name, value in _facts(payload)],
                "timestamp": payload.get("sent_at"),
            }
        ]
    }


def email_text(payload: dict[str, Any]) -> tuple[str, str]:
    lines = [summary(payload), ""] + [f"{name}: {value}" for name, value in _facts(payload)]
    return summary(payload)[:200], "\n".join(lines)
