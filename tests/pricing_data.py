"""Where the shared reference data lives for pricing tests.

``tests.support.SHARED_DATA`` assumes the repository sits next to ``shared/data`` (true for the
main checkout); a worktree lives one level deeper, so look upwards for the first ``shared/data``.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import SHARED_DATA, make_services


def _find_data() -> Path:
    if (SHARED_DATA / "README.md").exists():
        return SHARED_DATA
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data"
        if (candidate / "litellm_model_prices.json").exists():
            return candidate
    raise FileNotFoundError("../shared/data with the reference price feeds was not found")


DATA = _find_data()

__all__ = ["DATA", "make_services"]
