"""Re-encrypt every stored secret from one key backend to another in one transaction.

Used when the local master key is replaced (or when moving between KMS keys or from local to KMS):
each ciphertext is decrypted with the old wrapper and encrypted with the new one under the same
encryption context; if any secret fails, nothing is written. Plaintext exists only in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import AlertChannel, ProviderCredential
from tollgate.keys.wrapping import KeyWrapper, channel_context, credential_context


@dataclass(frozen=True)
class RewrapReport:
    credentials: int
    channels: int


def rewrap_all(sessions: sessionmaker[Session], old: KeyWrapper, new: KeyWrapper, now: datetime) -> RewrapReport:
    with sessions.begin() as session:
        credentials = session.scalars(
            select(ProviderCredential).where(ProviderCredential.key_ciphertext.is_not(None)).with_for_update()
        ).all()
        for row in credentials:
            if row.key_ciphertext is None:  # excluded by the query
                continue
            context = credential_context(row.workspace_id, row.id)
            row.key_ciphertext = new.encrypt(old.decrypt(row.key_ciphertext, context), context)
            row.updated_at = now
        channels = session.scalars(
            select(AlertChannel).where(AlertChannel.secret_ciphertext.is_not(None)).with_for_update()
        ).all()
        for channel in channels:
            if channel.secret_ciphertext is None:  # excluded by the query
                continue
            context = channel_context(channel.workspace_id, channel.id)
            channel.secret_ciphertext = new.encrypt(old.decrypt(channel.secret_ciphertext, context), context)
    return RewrapReport(credentials=len(credentials), channels=len(channels))
