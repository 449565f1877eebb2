"""A flow version ready to run: loaded, validated, and fixed for the life of the calls using it."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.flows.loader import LoadedFlow
from ivr.flows.schema import FlowFile


@dataclass(frozen=True)
class CompiledFlow:
    loaded: LoadedFlow
    version: int | None = None  # None: straight from a file, not a stored version

    @property
    def name(self) -> str:
        return self.loaded.model.flow

    @property
    def model(self) -> FlowFile:
        return self.loaded.model

    @property
    def label(self) -> str:
        return self.name if self.version is None else f"{self.name} v{self.version}"
