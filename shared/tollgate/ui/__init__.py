"""The web dashboard: static assets shipped as package data (no build step, no CDN)."""
