"""Database logins that survive password rotation (RDS-managed secret, 30-day rotation in prod).

Every new DBAPI connection takes its user name and password from the secret (``RotatingSecret``:
cached at most five minutes). When the server refuses the login (SQLSTATE class 28: invalid
password, unknown role after an alternating-users rotation) the secret is re-read at once and the
connection retried one time, so containers that outlive a rotation keep working instead of failing
closed until they are recycled. Established connections are unaffected by a rotation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from tollgate.aws.rotating_secret import RotatingSecret
from tollgate.observability import logger

AUTH_SQLSTATE_CLASS = "28"  # invalid_authorization_specification, invalid_password


def is_auth_failure(error: BaseException) -> bool:
    sqlstate = getattr(error, "sqlstate", None) or getattr(getattr(error, "diag", None), "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(AUTH_SQLSTATE_CLASS):
        return True
    text = str(error).lower()
    return "password authentication failed" in text or ("role" in text and "does not exist" in text)


def _login(secret: dict[str, Any]) -> dict[str, str]:
    return {"user": str(secret["username"]), "password": str(secret["password"])}


def install_rotating_credentials(engine: Engine, secret: RotatingSecret) -> None:
    """Make ``engine`` log in with the secret's current credentials (see module docstring)."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        cparams.update(_login(secret.json()))
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError as exc:
            if not is_auth_failure(exc):
                raise
            logger.warning("database login refused; re-reading the credentials secret")
            cparams.update(_login(secret.json(refresh=True)))
            return dialect.connect(*cargs, **cparams)
