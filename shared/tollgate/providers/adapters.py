"""Every adapter of the provider registry, built around the one shared transport.

Each registry entry names its factory as ``"module:callable"`` (``tollgate.providers.registry``);
it is imported here, in the composition root's reach, so the registry itself stays plain data
that the domain packages may read.
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from tollgate.providers.base import ProviderClient
from tollgate.providers.http import UpstreamHttp
from tollgate.providers.registry import PROVIDERS, ProviderSpec


class AdapterFactory(Protocol):
    def __call__(self, http: UpstreamHttp, spec: ProviderSpec, /) -> ProviderClient: ...


def adapter_factory(spec: ProviderSpec) -> AdapterFactory:
    """The callable ``spec.adapter`` names.

    Raises ``ImportError``/``AttributeError`` when the entry names a module or callable that does
    not exist (a unit test loads every entry)."""
    module_name, _, attribute = spec.adapter.partition(":")
    factory: AdapterFactory = getattr(import_module(module_name), attribute)
    return factory


def build_adapters(http: UpstreamHttp) -> dict[str, ProviderClient]:
    """Provider name → adapter, for every registry entry (the built-in mock included)."""
    return {spec.name: adapter_factory(spec)(http, spec) for spec in PROVIDERS}
