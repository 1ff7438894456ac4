"""GET /v1/models lists what the workspace can call, with prices, through the openai SDK."""

from __future__ import annotations

from tests.e2e.providers.conftest import Gateway
from tests.support import make_tenant


def test_models_list_follows_the_workspace_credentials(gateway: Gateway) -> None:
    # Given an openai credential with a default model and a custom endpoint
    gateway.add_credential("openai", "main", "http://127.0.0.1:9/v1", "sk-x", default_model="gpt-4o-mini")
    gateway.add_credential("custom", "my-llm", "http://127.0.0.1:9/v1", "sk-y", default_model="llama-3")
    # When the SDK lists the models
    models = {m.id: m for m in gateway.sdk().models.list()}
    # Then mock models, priced models of the credential's provider and the custom default are listed
    assert set(models) == {"mock/echo", "openai/gpt-4o-mini", "custom:my-llm/llama-3"}
    extra = models["openai/gpt-4o-mini"].model_extra or {}
    assert (extra["input_per_1m"], extra["output_per_1m"]) == ("1", "2")
    assert models["custom:my-llm/llama-3"].owned_by == "custom"
    # And another workspace sees only the mock models
    other = make_tenant(gateway.services, "other")
    sdk = gateway.sdk()
    ids = [m.id for m in sdk.with_options(api_key=other.admin_key).models.list()]
    assert ids == ["mock/echo"]
    # And the list has the gateway's list shape too: every model in one page, next_cursor null
    body = sdk.models.with_raw_response.list().http_response.json()
    assert (body["object"], body["next_cursor"], len(body["data"])) == ("list", None, len(models))
