"""What the real provider APIs refuse, checked by the fakes before they answer.

Each check returns the provider's own 400 body (shape and wording modelled on real refusals, see
provider_wire_formats.md and the public bug reports issue 17 cites) or None when the request is one
the real API accepts. The rules are the ones a gateway trips over, not a full schema.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fake_providers.base import Recorded, Reply

# -- Anthropic Messages --------------------------------------------------------------------------

ANTHROPIC_TOP_LEVEL = frozenset(
    {"model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature"}
    | {"top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "mcp_servers", "container"}
)
ANTHROPIC_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# Models that refuse temperature and top_p together (Claude 4.1 and later).
ANTHROPIC_ONE_SAMPLER = re.compile(r"claude-(?:opus-4-1|\w+-4-5)")


def _blocks(message: dict[str, Any]) -> list[Any]:
    """A message's content blocks (none when the content is a string)."""
    content = message.get("content")
    return content if isinstance(content, list) else []


def _anthropic(message: str, type_: str = "invalid_request_error") -> Reply:
    return Reply(
        status=400,
        body={"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_011CFake"},
    )


def _anthropic_block(block: Any, where: str) -> str | None:
    if not isinstance(block, dict):
        return f"{where}: Input should be a valid dictionary"
    kind = block.get("type")
    if "cache_control" in block and (block["cache_control"] or {}).get("type") != "ephemeral":
        return f"{where}.cache_control.type: Input should be 'ephemeral'"
    if kind == "text":
        if not isinstance(block.get("text"), str) or block["text"] == "":
            return f"{where}.text: text content blocks must be non-empty"
        if not block["text"].strip():
            return "messages: text content blocks must contain non-whitespace text"
    elif kind == "image":
        source = block.get("source") or {}
        if source.get("type") == "base64" and source.get("media_type") not in ANTHROPIC_IMAGE_TYPES:
            return f"{where}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or " + (
                "'image/webp'"
            )
        if source.get("type") not in ("base64", "url"):
            return f"{where}.source: Input tag does not match any of the expected tags"
    elif kind == "tool_use":
        if not re.fullmatch(r"[a-zA-Z0-9_-]+", str(block.get("id"))) or not isinstance(block.get("input"), dict):
            return f"{where}.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
    elif kind not in ("tool_result", "document", "thinking", "redacted_thinking"):
        return f"{where}.type: Input tag {kind!r} does not match any of the expected tags"
    return None


def _anthropic_turns(messages: list[Any]) -> str | None:
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list) or not blocks:
            return f"messages.{i}: all messages must have non-empty content except for the optional final " + (
                "assistant message"
            )
        for j, block in enumerate(blocks):
            problem = _anthropic_block(block, f"messages.{i}.content.{j}")
            if problem:
                return problem
        kinds = [b.get("type") for b in blocks]
        if "tool_result" in kinds and kinds.index("tool_result") > 0 and kinds[0] != "tool_result":
            return f"messages.{i}: tool_result blocks must come first in the user message content"
        uses = {b["id"] for b in blocks if b.get("type") == "tool_use"}
        following = messages[i + 1] if i + 1 < len(messages) and isinstance(messages[i + 1], dict) else {}
        answered = {
            b.get("tool_use_id") for b in _blocks(following) if isinstance(b, dict) and b.get("type") == "tool_result"
        }
        if uses - answered:
            return f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after"
        previous = messages[i - 1] if i > 0 and isinstance(messages[i - 1], dict) else {}
        asked = {b.get("id") for b in _blocks(previous) if isinstance(b, dict) and b.get("type") == "tool_use"}
        results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if results - asked:
            return f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks"
    last = messages[-1] if messages else {}
    if isinstance(last, dict) and last.get("role") == "assistant":
        content = last.get("content")
        tail = content if isinstance(content, str) else (content[-1].get("text") if content else None)
        if isinstance(tail, str) and tail != tail.rstrip():
            return "messages: final assistant content cannot end with trailing whitespace"
    return None


def _anthropic_options(body: dict[str, Any], *, counting: bool = False) -> str | None:
    extra = sorted(set(body) - ANTHROPIC_TOP_LEVEL)
    if extra:
        return f"{extra[0]}: Extra inputs are not permitted"
    if not counting and not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    if "temperature" in body and "top_p" in body and ANTHROPIC_ONE_SAMPLER.search(str(body.get("model"))):
        return "`temperature` and `top_p` cannot both be specified for this model. Please use only one."
    if not 0 <= float(body.get("temperature", 0)) <= 1:
        return "temperature: Input should be less than or equal to 1"
    stops = body.get("stop_sequences", [])
    if not isinstance(stops, list) or any(not isinstance(s, str) or not s.strip() for s in stops):
        return "stop_sequences: each stop sequence must contain non-whitespace"
    system = body.get("system")
    if isinstance(system, list):
        for j, block in enumerate(system):
            problem = _anthropic_block(block, f"system.{j}")
            if problem or block.get("type") != "text":
                return problem or f"system.{j}.type: Input should be 'text'"
    elif system is not None and (not isinstance(system, str) or not system.strip()):
        return "system: text content blocks must contain non-whitespace text"
    choice = body.get("tool_choice")
    if choice is not None and (not body.get("tools") or choice.get("type") not in ("auto", "any", "tool", "none")):
        return "tool_choice: tool_choice may only be specified while providing tools"
    return None


def anthropic(request: Recorded) -> Reply | None:
    body = request.body
    if request.method != "POST" or not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _anthropic("messages: Field required")
    counting = request.path.endswith("/count_tokens")  # count_tokens takes no max_tokens
    problem = _anthropic_options(body, counting=counting) or _anthropic_turns(messages)
    return _anthropic(problem) if problem else None


# -- Gemini generateContent ----------------------------------------------------------------------

GEMINI_TOP_LEVEL = frozenset(
    {"contents", "systemInstruction", "generationConfig", "tools", "toolConfig", "safetySettings", "cachedContent"}
)
GEMINI_CONFIG = frozenset(
    {"temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "candidateCount", "responseMimeType"}
    | {"responseJsonSchema", "responseSchema", "presencePenalty", "frequencyPenalty", "seed", "thinkingConfig"}
)
GEMINI_DATA = ("text", "inlineData", "fileData", "functionCall", "functionResponse")
MISSING_SIGNATURE = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work "
    "correctly, and missing thought_signature may lead to degraded model performance."
)


def _gemini(message: str, field: str | None = None) -> Reply:
    error: dict[str, Any] = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    if field:
        violation = {"field": field, "description": message}
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}]
    return Reply(status=400, body={"error": error})


def _gemini_contents(contents: list[Any], gemini_3: bool) -> Reply | None:
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role") not in ("user", "model"):
            return _gemini("Please use a valid role: user, model.", f"contents[{i}].role")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return _gemini("contents.parts must not be empty.", f"contents[{i}].parts")
        for j, part in enumerate(parts):
            if sum(1 for key in GEMINI_DATA if key in part) != 1:
                return _gemini("Part must have exactly one data field.", f"contents[{i}].parts[{j}]")
            if part.get("text") == "":
                return _gemini(
                    "Unable to submit request because it has an empty text parameter. Add a value to the "
                    "parameter and try again.",
                    f"contents[{i}].parts[{j}].text",
                )
        calls = [p for p in parts if "functionCall" in p]
        if gemini_3 and calls and "thoughtSignature" not in calls[0]:
            return _gemini(MISSING_SIGNATURE)
        following = contents[i + 1] if i + 1 < len(contents) else None
        if calls and isinstance(following, dict):
            responses = [p for p in following.get("parts") or () if "functionResponse" in p]
            if len(responses) != len(calls):
                return _gemini(
                    "Please ensure that the number of function response parts is equal to the number of "
                    "function call parts of the function call turn."
                )
    return None


def gemini(request: Recorded) -> Reply | None:
    body = request.body
    if request.method != "POST" or not isinstance(body, dict) or request.path.endswith(":batchEmbedContents"):
        return None  # these rules are generateContent's
    unknown = sorted(set(body) - GEMINI_TOP_LEVEL) or sorted(set(body.get("generationConfig") or {}) - GEMINI_CONFIG)
    if unknown:
        return _gemini(f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return _gemini("* GenerateContentRequest.contents: contents is not specified", "contents")
    for part in (body.get("systemInstruction") or {}).get("parts") or ():
        if not part.get("text"):
            return _gemini("Unable to submit request because it has an empty text parameter.", "system_instruction")
    config = body.get("generationConfig") or {}
    if not 0 <= float(config.get("temperature", 0)) <= 2 or len(config.get("stopSequences", [])) > 5:
        return _gemini("Invalid generation config.", "generation_config")
    model = request.path.rsplit("/", 1)[-1].split(":")[0]
    return _gemini_contents(contents, model.startswith("gemini-3"))


# -- OpenAI-compatible ---------------------------------------------------------------------------

OPENAI_REASONING = re.compile(r"^(?:o\d|gpt-5(?!-chat))")


def _openai(message: str, param: str | None, code: str | None, status: int = 400) -> Reply:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return Reply(status=status, body={"error": error})


def _openai_history(messages: list[Any], roles: tuple[str, ...], text_only: bool) -> Reply | None:
    open_calls: set[str] = set()
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in roles:
            # DeepSeek refuses an unknown role while deserializing (HTTP 422), OpenAI with 400
            return _openai(
                f"messages[{i}].role: unknown variant", f"messages[{i}].role", None, 422 if text_only else 400
            )
        if text_only and not isinstance(message.get("content"), str | None):
            return _openai(f"messages[{i}].content: invalid type: sequence, expected a string", None, None, 422)
        if role == "tool" and message.get("tool_call_id") not in open_calls:
            return _openai(
                "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                "'tool_calls'.",
                f"messages.[{i}].role",
                None,
            )
        if role == "assistant":
            open_calls = {str(c.get("id")) for c in message.get("tool_calls") or ()}
    return None


def openai(request: Recorded, *, deepseek: bool = False) -> Reply | None:
    body = request.body
    if request.method != "POST" or not isinstance(body, dict) or request.path.endswith("/embeddings"):
        return None  # these rules are chat completions'
    model = str(body.get("model"))
    if not deepseek and OPENAI_REASONING.match(model):
        if "max_tokens" in body:
            return _openai(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
        if body.get("temperature", 1) != 1:
            return _openai(
                "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) "
                "value is supported.",
                "temperature",
                "unsupported_value",
            )
    roles = (
        ("system", "user", "assistant", "tool") if deepseek else ("system", "developer", "user", "assistant", "tool")
    )
    return _openai_history(body.get("messages") or [], roles, text_only=deepseek)


# -- Yandex ----------------------------------------------------------------------------------------

YANDEX_TOP_LEVEL = frozenset(
    {"modelUri", "completionOptions", "messages", "tools", "jsonObject", "jsonSchema", "parallelToolCalls"}
    | {"toolChoice"}
)


def _yandex(message: str) -> Reply:
    error = {"grpcCode": 3, "httpCode": 400, "message": message, "httpStatus": "Bad Request", "details": []}
    return Reply(status=400, body={"error": error})


def yandex(request: Recorded) -> Reply | None:
    body = request.body
    if request.method != "POST" or not isinstance(body, dict) or request.path.endswith("/tokenize"):
        return None
    unknown = sorted(set(body) - YANDEX_TOP_LEVEL)
    if unknown:
        return _yandex(f'invalid JSON: unknown field "{unknown[0]}"')
    options = body.get("completionOptions") or {}
    if not 0 <= float(options.get("temperature", 0)) <= 1:
        return _yandex("temperature must be in range [0, 1]")
    for i, message in enumerate(body.get("messages") or ()):
        if message.get("role") not in ("system", "user", "assistant"):
            return _yandex(f"messages[{i}].role: unknown role")
        if sum(1 for key in ("text", "toolCallList", "toolResultList") if key in message) != 1:
            return _yandex(f"messages[{i}]: exactly one of text, toolCallList, toolResultList is required")
    return None
