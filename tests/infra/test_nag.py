"""cdk-nag's AwsSolutions pack finds nothing unsuppressed, and every suppression says why."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Annotations, Match

NAG_FINDING = Match.string_like_regexp("AwsSolutions-.*")


def test_no_unsuppressed_nag_errors(any_stage: Any) -> None:
    errors = Annotations.from_stack(any_stage.stack).find_error("*", NAG_FINDING)
    assert errors == [], "\n".join(f"{e.id}: {e.entry.data}" for e in errors)


def test_no_unsuppressed_nag_warnings(any_stage: Any) -> None:
    warnings = Annotations.from_stack(any_stage.stack).find_warning("*", NAG_FINDING)
    assert warnings == [], "\n".join(f"{w.id}: {w.entry.data}" for w in warnings)


def test_every_suppression_has_a_real_reason(any_stage: Any) -> None:
    reasons = [
        suppression["reason"]
        for resource in any_stage.resources.values()
        for suppression in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert reasons, "expected the documented suppressions in the template metadata"
    assert all(len(reason) >= 40 for reason in reasons), [r for r in reasons if len(r) < 40]
