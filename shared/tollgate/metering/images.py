"""Image tokens by each provider's own published rule, from dimensions read cheaply from headers.

Dimensions come from the first bytes of an inline (``data:``) image: PNG IHDR, GIF logical screen,
WebP (VP8 / VP8L / VP8X) and JPEG SOFn markers. At most ``HEADER_BYTES`` of base64 are decoded, so a
multi-megabyte image costs microseconds. An image whose size cannot be read (a remote URL, an
unknown format, a JPEG whose SOF lies beyond the decoded prefix) counts as the provider's
documented worst case.

Rules (sources: OpenAI "Images and vision" cost calculation; Anthropic "Vision" image costs;
Google "Gemini API tokens" media tokens):

* OpenAI tile models (gpt-4o, gpt-4.1, o-series, gpt-5, and any other): ``detail: "low"`` is
  85 tokens. Otherwise fit in 2048×2048, scale the shortest side down to 768, count 512-px tiles:
  85 + 170 per tile (max 8 tiles → 1,445). gpt-4o-mini bills 2,833 + 5,667 per tile.
  Patch models (gpt-4.1-mini / nano, o4-mini): 32-px patches capped at 1,536, times 1.62 / 2.46 /
  1.72. Worst case: 8 tiles, or 1,536 patches.
* Anthropic: ``width * height / 750`` after fitting the long edge in 1,568 px and the area in
  ~1.15 megapixels (at most 1,600 tokens). Worst case 1,600.
* Gemini: 258 tokens when both sides ≤ 384 px; otherwise 258 per tile, where the tile unit is
  ``min(w, h) / 1.5`` clamped to [256, 768] px. An image of unknown size counts 16 tiles
  (4,128 tokens: a 3,072-px square), Tollgate's chosen worst case for remote images.
* Providers without an image rule (OpenRouter, DeepSeek, custom, Yandex): the largest of the
  three rules above, so the reservation never counts less than whichever model serves.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct

from tollgate.providers.registry import ImageRule, find_provider

HEADER_BYTES = 96 * 1024  # decoded prefix read for dimensions (JPEG SOF can follow a large EXIF block)
_B64_PREFIX = HEADER_BYTES * 4 // 3 + 4

OPENAI_LOW = 85
OPENAI_WORST_TILES = 8
ANTHROPIC_MAX = 1600
GEMINI_SMALL = 258
GEMINI_WORST = GEMINI_SMALL * 16

# (base, per tile) for OpenAI models billed by tiles with other constants than 85 + 170.
_OPENAI_TILE_CONSTANTS = {"gpt-4o-mini": (2833, 5667)}
# Patch-billed OpenAI models and their multipliers.
_OPENAI_PATCH_MULTIPLIERS = {"gpt-4.1-mini": 1.62, "gpt-4.1-nano": 2.46, "o4-mini": 1.72}


def image_size(data_b64: str) -> tuple[int, int] | None:
    """(width, height) of a base64 image from its header, or None when it cannot be read."""
    prefix = "".join(data_b64[:_B64_PREFIX].split())
    prefix = prefix[: len(prefix) - len(prefix) % 4]
    try:
        head = base64.b64decode(prefix, validate=False)
    except (binascii.Error, ValueError):
        return None
    return _size_of(head)


def _size_of(head: bytes) -> tuple[int, int] | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return _valid(width, height)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return _valid(width, height)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    if head[:2] == b"\xff\xd8":
        return _jpeg(head)
    return None


def _valid(width: int, height: int) -> tuple[int, int] | None:
    return (width, height) if width > 0 and height > 0 else None


def _webp(head: bytes) -> tuple[int, int] | None:
    kind = head[12:16]
    if kind == b"VP8X" and len(head) >= 30:
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        return _valid(width, height)
    if kind == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return _valid((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if kind == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return _valid(width & 0x3FFF, height & 0x3FFF)
    return None


def _jpeg(head: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 4 <= len(head):
        if head[index] != 0xFF:
            index += 1
            continue
        marker = head[index + 1]
        if marker == 0xFF:
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = int.from_bytes(head[index + 2 : index + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if index + 9 > len(head):
                return None
            height, width = struct.unpack(">HH", head[index + 5 : index + 9])
            return _valid(width, height)
        if length < 2:
            return None
        index += 2 + length
    return None


def openai_image_tokens(model: str, size: tuple[int, int] | None, detail: str | None) -> int:
    """OpenAI's rule for ``model`` (see the module docstring); ``size`` None → worst case."""
    for prefix, multiplier in _OPENAI_PATCH_MULTIPLIERS.items():
        if model.startswith(prefix):
            patches = 1536 if size is None else _patches(*size)
            return math.ceil(patches * multiplier)
    base, per_tile = OPENAI_LOW, 170
    for prefix, constants in _OPENAI_TILE_CONSTANTS.items():
        if model.startswith(prefix):
            base, per_tile = constants
    if detail == "low":
        return base
    tiles = OPENAI_WORST_TILES if size is None else _tiles(*size)
    return base + per_tile * tiles


def _tiles(width: int, height: int) -> int:
    scale = min(1.0, 2048 / max(width, height))
    scale *= min(1.0, 768 / (min(width, height) * scale))
    return math.ceil(width * scale / 512) * math.ceil(height * scale / 512)


def _patches(width: int, height: int) -> int:
    patches = math.ceil(width / 32) * math.ceil(height / 32)
    if patches <= 1536:
        return patches
    shrink = math.sqrt(1536 * 32 * 32 / (width * height))
    width_fit = math.floor(width * shrink / 32)
    height_fit = math.floor(height * shrink / 32)
    return min(1536, max(1, width_fit) * max(1, height_fit))


def anthropic_image_tokens(size: tuple[int, int] | None) -> int:
    if size is None:
        return ANTHROPIC_MAX
    width, height = size
    scale = min(1.0, 1568 / max(width, height))
    scale = min(scale, math.sqrt(ANTHROPIC_MAX * 750 / (width * height)))
    return max(1, min(ANTHROPIC_MAX, math.ceil(width * scale * height * scale / 750)))


def gemini_image_tokens(size: tuple[int, int] | None) -> int:
    if size is None:
        return GEMINI_WORST
    width, height = size
    if width <= 384 and height <= 384:
        return GEMINI_SMALL
    unit = min(768.0, max(256.0, min(width, height) / 1.5))
    return GEMINI_SMALL * math.ceil(width / unit) * math.ceil(height / unit)


def image_tokens(provider: str, model: str, size: tuple[int, int] | None, detail: str | None) -> int:
    """Tokens one image costs on ``provider``/``model`` (``size`` None → the documented worst case)."""
    spec = find_provider(provider)
    rule = spec.image_rule if spec is not None else ImageRule.WORST  # the registry's ``image_rule``
    if rule is ImageRule.OPENAI:
        return openai_image_tokens(model, size, detail)
    if rule is ImageRule.ANTHROPIC:
        return anthropic_image_tokens(size)
    if rule is ImageRule.GEMINI:
        return gemini_image_tokens(size)
    return max(
        openai_image_tokens(model.rsplit("/", 1)[-1], size, detail),
        anthropic_image_tokens(size),
        gemini_image_tokens(size),
    )
