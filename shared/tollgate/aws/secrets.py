"""Secrets Manager reads for the database credentials and the root key."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus


def _client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def read_secret(arn: str, client: Any | None = None) -> str:
    response = (client or _client()).get_secret_value(SecretId=arn)
    return str(response["SecretString"])


def database_url_from_secret(arn: str, *, host: str | None, name: str | None, client: Any | None = None) -> str:
    """Build a psycopg URL from an RDS-generated secret; ``host`` (the RDS Proxy endpoint) wins."""
    secret = json.loads(read_secret(arn, client))
    user = quote_plus(secret["username"])
    password = quote_plus(secret["password"])
    db_host = host or secret["host"]
    port = secret.get("port", 5432)
    dbname = name or secret.get("dbname", "tollgate")
    return f"postgresql+psycopg://{user}:{password}@{db_host}:{port}/{dbname}?sslmode=require"
