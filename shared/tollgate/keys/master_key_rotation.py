"""Replace the local master key: new key kept safe first, secrets re-wrapped, then the key swapped.

Order matters so that a crash at any step loses nothing: (1) the new key is written to a 0600
pending file, (2) every ciphertext is re-wrapped in one transaction, (3) the new key replaces the
old one where it lived (OS keyring or file) and the pending file is removed. If (2) fails nothing
changed; if (3) fails the pending file still holds the key the database now needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tollgate.keys.local_wrapping import build_local_wrapper
from tollgate.keys.master_key import MasterKeyStore, generate_material
from tollgate.keys.rewrap import RewrapReport, rewrap_all


@dataclass(frozen=True)
class MasterKeyRotation:
    report: RewrapReport
    stored_in: str  # "keyring" | "file" | "pending"
    pending_path: Path


def rotate_master_key(sessions: sessionmaker[Session], store: MasterKeyStore, now: datetime) -> MasterKeyRotation:
    """Rotate the master key ``store`` holds and re-wrap every secret in the database.

    The caller must drop any key wrapper or decrypted-key cache built from the old key.

    Raises: ``KeyUnwrapError`` when a stored secret does not decrypt with the current key, a
    SQLAlchemy error when the re-wrap transaction fails (in both cases nothing changed and the
    pending key is dropped), ``OSError`` when the pending file cannot be written.
    """
    old = store.load()
    new_material = generate_material()
    pending = store.write_pending(new_material)
    try:
        report = rewrap_all(sessions, build_local_wrapper(old.material), build_local_wrapper(new_material), now)
    except BaseException:
        store.drop_pending()  # the transaction rolled back: nothing depends on the new key
        raise
    stored_in = store.save(new_material, like=old)
    if stored_in != "pending":
        store.drop_pending()
    return MasterKeyRotation(report=report, stored_in=stored_in, pending_path=pending)
