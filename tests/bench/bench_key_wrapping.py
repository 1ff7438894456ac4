"""Key wrapping costs: local encrypt/decrypt, KMS (moto) decrypt with the data-key cache, cached lookups.

Run: PYTHONPATH=shared:. python -m tests.bench.bench_key_wrapping
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tollgate.keys.local_wrapping import build_local_wrapper
from tollgate.keys.master_key import generate_material
from tollgate.keys.wrapping import credential_context

ROUNDS = 200


def measure(label: str, action: Callable[[], object], rounds: int = ROUNDS) -> None:
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
        if (i + 1) % (rounds // 4) == 0:
            print(f"  {label}: {i + 1}/{rounds}", flush=True)
    samples.sort()
    p50, p99 = statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
    print(f"{label:<40} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms", flush=True)


def main() -> None:
    context = credential_context(uuid.uuid4(), uuid.uuid4())
    secret = b"sk-bench-" + uuid.uuid4().hex.encode()
    local = build_local_wrapper(generate_material())
    ciphertext = local.encrypt(secret, context)
    measure("local encrypt", lambda: local.encrypt(secret, context))
    measure("local decrypt", lambda: local.decrypt(ciphertext, context))

    import boto3
    from moto import mock_aws

    from tollgate.aws.kms_wrapping import build_kms_wrapper

    with mock_aws():
        arn = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
        kms = build_kms_wrapper(arn)
        kms_ciphertext = kms.encrypt(secret, context)
        measure("kms (moto) decrypt, data key cached", lambda: kms.decrypt(kms_ciphertext, context))

    from tests.support import make_services
    from tollgate.keys.credentials import CredentialSpec

    with tempfile.TemporaryDirectory() as tmp:
        services = make_services(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp))
        try:
            workspace = services.workspaces.create("bench").id
            services.credential_service.create(workspace, CredentialSpec("openai", "main", secret.decode()))
            source = services.credential_source
            measure("credential lookup (cache hit)", lambda: source.targets_for(workspace, "openai"), rounds=2000)

            def miss() -> object:
                source.invalidate()
                return source.targets_for(workspace, "openai")

            measure("credential lookup (miss: SQL + decrypt)", miss)
        finally:
            services.close()


if __name__ == "__main__":
    main()
