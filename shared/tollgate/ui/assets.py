"""Safe lookup of the dashboard's static files: a fixed folder, a fixed set of file types.

A request path is split into segments and every segment is checked before it touches the file
system: no empty, dot or hidden segments, no backslashes or NUL bytes, and the resolved file must
still lie inside the static folder (so a symlink cannot lead out of it either).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}

# The local server serves the page and the API from one origin, so the API base URL is "".
# The CloudFront deployment writes its own config.json with the API Gateway URL.
LOCAL_CONFIG = json.dumps({"api_url": ""}).encode()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-cache",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


def _safe_segments(path: str) -> list[str] | None:
    if "\\" in path or "\x00" in path:
        return None
    segments = path.split("/")
    for segment in segments:
        if not segment or segment.startswith(".") or ":" in segment:
            return None
    return segments


def find_asset(path: str, root: Path = STATIC_DIR) -> Asset | None:
    """The file at ``path`` (relative to the static folder), or None if it is not a servable asset."""
    if path == "config.json":
        return Asset(LOCAL_CONFIG, CONTENT_TYPES[".json"])
    segments = _safe_segments(path)
    if segments is None:
        return None
    content_type = CONTENT_TYPES.get(Path(segments[-1]).suffix.lower())
    if content_type is None:
        return None
    base = root.resolve()
    candidate = base.joinpath(*segments).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return Asset(candidate.read_bytes(), content_type)
