"""The strict pydantic base of every typed input model (config, experiment and design files)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A frozen model that rejects unknown keys (``extra="forbid"``), so a typo is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


__all__ = ["Strict"]
