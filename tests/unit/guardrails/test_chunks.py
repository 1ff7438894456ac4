"""Streamed chunks under response guardrails: OpenAI chunks and Anthropic events keep their shape,
held text is released at the choice's finish or before the block's stop, tool calls are untouched;
and the request scanner's embeddings ``input`` and Anthropic ``message`` slots."""

from __future__ import annotations

import copy
from typing import Any

from tollgate.guardrails.chunks import ChunkScreen
from tollgate.guardrails.policy import DETECTORS, GuardAction, GuardrailPolicy
from tollgate.guardrails.scanner import scan
from tollgate.guardrails.stream import StreamScanner

EMAIL = "jane.doe@example.com"


def screen(action: str = "redact") -> ChunkScreen:
    return ChunkScreen(StreamScanner({"pii_email": GuardAction(action)}))


def openai_chunk(content: str | None = None, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    if content is not None:
        delta["content"] = content
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def test_openai_chunks_are_redacted_and_released_at_finish() -> None:
    guard = screen()
    out = []
    for piece in ("Mail jane.d", "oe@exam", "ple.com today"):
        out += guard.feed(openai_chunk(piece))
    out += guard.feed(openai_chunk(finish="stop"))
    out += guard.flush()
    assert text_of(out) == "Mail [REDACTED:pii_email] today"
    assert out[-1]["choices"][0]["finish_reason"] == "stop" and len(out) == 4


def test_a_stream_without_finish_reason_gets_one_more_chunk() -> None:
    guard = screen()
    out = guard.feed(openai_chunk(f"to {EMAIL}"))
    tail = guard.flush()
    assert len(tail) == 1 and tail[0]["id"] == "c1" and tail[0]["object"] == "chat.completion.chunk"
    assert text_of(out + tail) == "to [REDACTED:pii_email]"


def test_tool_calls_and_usage_chunks_pass_untouched() -> None:
    guard = screen()
    call = {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": f'{{"to": "{EMAIL}"}}'}}
    chunk = openai_chunk(tool_calls=[call])
    usage = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 1}}
    assert guard.feed(copy.deepcopy(chunk)) == [chunk]
    assert guard.feed(copy.deepcopy(usage)) == [usage]


def test_anthropic_text_deltas_are_held_and_released_before_the_block_stop() -> None:
    guard = screen()
    events: list[dict[str, Any]] = [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "write jane.doe@"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "example.com"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t", "name": "f"}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": EMAIL}},
        {"type": "content_block_stop", "index": 1},
    ]
    out = [piece for event in events for piece in guard.feed(event)]
    texts = [e["delta"]["text"] for e in out if e.get("delta", {}).get("type") == "text_delta"]
    assert "".join(texts) == "write [REDACTED:pii_email]"
    assert [e["type"] for e in out] == [
        "content_block_start", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_stop",
    ]  # fmt: skip
    assert out[4]["delta"]["partial_json"] == EMAIL  # tool input is not scanned


def test_warn_changes_nothing_and_reports_the_hit() -> None:
    guard = screen("warn")
    chunks = [openai_chunk("a jane.doe@exa"), openai_chunk("mple.com b", finish="stop")]
    out = [piece for chunk in copy.deepcopy(chunks) for piece in guard.feed(chunk)]
    assert out == chunks and guard.flush() == []
    assert guard.scanner.warned() == ["pii_email"]


def policy(**actions: str) -> GuardrailPolicy:
    base = dict.fromkeys(DETECTORS, GuardAction.OFF)
    base.update({k: GuardAction(v) for k, v in actions.items()})
    return GuardrailPolicy(base)


def test_embeddings_input_strings_are_scanned_and_redacted_in_a_copy() -> None:
    body = {"model": "m", "input": ["plain text", f"mail {EMAIL}", "x"]}
    result = scan(body, policy(pii_email="redact"))
    assert result.body["input"] == ["plain text", "mail [REDACTED:pii_email]", "x"]
    assert body["input"][1] == f"mail {EMAIL}"
    assert [(h.detector, h.role, h.message_index) for h in result.hits] == [("pii_email", "input", 1)]
    assert scan(body, policy(pii_email="block")).blocked_by == "pii_email"


def test_token_arrays_are_unscannable_only_under_redact_or_block() -> None:
    body = {"model": "m", "input": [[1, 2, 3], [4, 5]]}
    assert not scan(body, policy(pii_email="warn")).unscannable
    assert scan(body, policy(pii_email="warn", secrets="redact")).unscannable
    assert scan(body, policy(pii_card="block")).unscannable
    assert not scan(body, policy()).unscannable


def test_an_anthropic_message_answer_is_scanned_by_text_block() -> None:
    message = {"type": "message", "content": [{"type": "thinking", "thinking": EMAIL},
                                              {"type": "text", "text": f"to {EMAIL}"}]}  # fmt: skip
    result = scan(message, policy(pii_email="redact"), response=True)
    assert result.body["content"][1]["text"] == "to [REDACTED:pii_email]"
    assert result.body["content"][0]["thinking"] == EMAIL
    assert [(h.role, h.message_index) for h in result.hits] == [("assistant", 0)]


def test_held_text_is_released_before_a_tool_call_not_after_it() -> None:
    guard = screen()
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "send", "arguments": ""}}
    out = guard.feed(openai_chunk("I will mail jane.doe@example.com now"))
    # Given text still held back when the model starts a tool call
    assert text_of(out) != "I will mail [REDACTED:pii_email] now"
    with_call = guard.feed(openai_chunk(tool_calls=[call]))
    after = guard.feed(openai_chunk(finish="tool_calls")) + guard.flush()
    # Then the rest of the text rides on the tool call's chunk, ahead of the call, and nothing follows it
    assert text_of(out + with_call) == "I will mail [REDACTED:pii_email] now"
    assert with_call[0]["choices"][0]["delta"]["tool_calls"] == [call]
    assert text_of(after) == ""
