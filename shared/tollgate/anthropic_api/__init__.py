"""Anthropic Messages API on the gateway: translation, stream encoding, native pass-through, errors."""
