"""``Mailer`` on Amazon SES (email alert channels)."""

from __future__ import annotations

from typing import Any

from tollgate.alerts.delivery import DeliveryFailed


class SesMailer:
    def __init__(self, from_address: str, client: Any | None = None) -> None:
        self._from = from_address
        self._client = client

    def _ses(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("ses")
        return self._client

    def send(self, to: str, subject: str, text: str) -> None:
        """Send one email through SES. Raises ``DeliveryFailed`` (retryable on throttling and network errors)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._ses().send_email(
                Source=self._from,
                Destination={"ToAddresses": [to]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}},
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            raise DeliveryFailed(f"SES refused the email ({code})", retryable=code == "Throttling") from None
        except BotoCoreError as exc:
            raise DeliveryFailed(f"SES unreachable ({type(exc).__name__})") from None
