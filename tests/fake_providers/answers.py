"""One scripted answer rendered in each provider's wire format, streamed and not.

``render(provider, answer, stream)`` gives the ``Reply`` a fake pushes, so the contract suite can ask
the same answer both ways and check that the streamed one rebuilds to the non-streamed one. Streams
split text and tool arguments across events as the real APIs do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.fake_providers import anthropic_server, gemini_server, openai_server, yandex_server
from tests.fake_providers.base import Reply, sse


@dataclass(frozen=True)
class Call:
    id: str
    name: str
    args: dict[str, Any]
    signature: str | None = None  # Gemini's thoughtSignature on the functionCall part


@dataclass(frozen=True)
class Answer:
    text: str = ""
    calls: tuple[Call, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)  # the provider's own usage object, both modes

    @property
    def tool(self) -> bool:
        return bool(self.calls)


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [piece for piece in (text[:middle], text[middle:]) if piece]


# -- OpenAI (also DeepSeek, OpenRouter, custom) -----------------------------------------------------


def _openai(answer: Answer, stream: bool) -> Reply:
    calls: list[dict[str, Any]] = [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.args)}}
        for c in answer.calls
    ]
    finish = "tool_calls" if calls else "stop"
    usage = answer.usage or openai_server.USAGE
    if not stream:
        body = openai_server.completion(usage, text=answer.text)
        message = body["choices"][0]["message"]
        message["content"] = answer.text or None
        if calls:
            message["tool_calls"] = calls
        body["choices"][0]["finish_reason"] = finish
        return Reply(body=body)
    chunk = openai_server.chunk
    events = [sse(chunk({"role": "assistant", "content": "" if answer.text else None}))]
    events += [sse(chunk({"content": piece})) for piece in _halves(answer.text)]
    for index, call in enumerate(calls):
        head = {"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
        head["function"]["arguments"] = ""
        events.append(sse(chunk({"tool_calls": [head]})))
        for piece in _halves(call["function"]["arguments"]):
            events.append(sse(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})))
    events += [sse(chunk({}, finish)), sse(chunk({}, usage=usage, choices=False)), sse("[DONE]")]
    return Reply(events=events)


# -- Anthropic ----------------------------------------------------------------------------------------


def _anthropic(answer: Answer, stream: bool) -> Reply:
    usage = answer.usage or anthropic_server.USAGE
    blocks: list[dict[str, Any]] = [{"type": "text", "text": answer.text}] if answer.text else []
    blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.args} for c in answer.calls]
    stop = "tool_use" if answer.calls else "end_turn"
    message = anthropic_server.message()
    message.update(content=blocks, stop_reason=stop, usage=usage)
    if not stream:
        return Reply(body=message)
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events = [sse({"type": "message_start", "message": start}, "message_start")]
    for index, block in enumerate(blocks):
        opened = {**block, "text": ""} if block["type"] == "text" else {**block, "input": {}}
        events.append(
            sse({"type": "content_block_start", "index": index, "content_block": opened}, "content_block_start")
        )
        if block["type"] == "text":
            pieces = [{"type": "text_delta", "text": p} for p in _halves(block["text"])]
        else:  # a tool without arguments streams one empty partial_json, as the real API does
            pieces = [{"type": "input_json_delta", "partial_json": p} for p in _halves(json.dumps(block["input"]))]
            pieces = [p for p in pieces if p["partial_json"] != "{}"] or [
                {"type": "input_json_delta", "partial_json": ""}
            ]
        for delta in pieces:
            events.append(sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"))
        events.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    final = {"output_tokens": usage["output_tokens"]}
    events.append(
        sse(
            {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": final},
            "message_delta",
        )
    )
    events.append(sse({"type": "message_stop"}, "message_stop"))
    return Reply(events=events)


# -- Gemini ------------------------------------------------------------------------------------------


def _gemini_call(call: Call) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": call.name, "args": call.args}}
    if call.signature:
        part["thoughtSignature"] = call.signature
    return part


def _gemini(answer: Answer, stream: bool) -> Reply:
    usage = answer.usage or gemini_server.USAGE
    calls = [_gemini_call(c) for c in answer.calls]
    if not stream:
        body = gemini_server.response()
        body["candidates"][0]["content"]["parts"] = ([{"text": answer.text}] if answer.text else []) + calls
        body["usageMetadata"] = usage
        return Reply(body=body)
    pieces = _halves(answer.text)
    events = []
    if len(pieces) > 1:
        first: dict[str, Any] = {
            "candidates": [{"content": {"role": "model", "parts": [{"text": pieces[0]}]}, "index": 0}]
        }
        first.update(usageMetadata={"promptTokenCount": usage["promptTokenCount"]}, responseId="mAitaNabc")
        events.append(sse(first))
    last_parts = [{"text": p} for p in pieces[1:] or pieces] + calls
    last = {
        "candidates": [{"content": {"role": "model", "parts": last_parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage,
        "responseId": "mAitaNabc",
    }
    return Reply(events=[*events, sse(last)])


# -- Yandex ------------------------------------------------------------------------------------------


def _yandex(answer: Answer, stream: bool) -> Reply:
    status = "ALTERNATIVE_STATUS_TOOL_CALLS" if answer.calls else "ALTERNATIVE_STATUS_FINAL"
    usage = answer.usage or {"inputTextTokens": "19", "completionTokens": "6", "totalTokens": "25"}

    def result(text: str, final: bool) -> dict[str, Any]:
        body = yandex_server.result(text, status if final else "ALTERNATIVE_STATUS_PARTIAL", ("19", "6"))
        message = body["result"]["alternatives"][0]["message"]
        if final and answer.calls:
            message.pop("text", None)
            calls = [{"functionCall": {"name": c.name, "arguments": c.args}} for c in answer.calls]
            message["toolCallList"] = {"toolCalls": calls}
        body["result"]["usage"] = usage
        return body

    if not stream:
        return Reply(body=result(answer.text, True))
    pieces = [] if answer.calls else _halves(answer.text)  # a Yandex message holds text or tool calls
    lines = [json.dumps(result(answer.text[: len(pieces[0])], False)) + "\n"] if len(pieces) > 1 else []
    lines.append(json.dumps(result(answer.text, True)) + "\n")
    return Reply(events=lines, content_type="application/json")


RENDERERS = {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini, "yandex": _yandex}


def render(wire: str, answer: Answer, stream: bool) -> Reply:
    """``answer`` as ``wire`` ("openai", "anthropic", "gemini", "yandex") sends it."""
    return RENDERERS[wire](answer, stream)
