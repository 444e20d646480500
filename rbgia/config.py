"""The training configuration: one frozen value for the library, the workflow and the notebooks.

A configuration is what identifies a trained ResidualBind and its records:
``normalization``, ``inputs``, ``variant`` and ``seed``. Epochs are not part of it:
they belong to the training call, and the record says how many were used.

>>> cfg = TrainConfig(normalization="clip", seed=2)
>>> cfg.tag
'clip-seq-paper-s2'
>>> TrainConfig.from_tag(cfg.tag) == cfg
True
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .errors import DataError

#: Score transforms (:func:`rbgia.data.load_rnacompete`).
NORMALIZATIONS = ("log", "clip")
#: Input kinds and the structure channels each adds after the 4 one-hot sequence channels
#: (PU: paired, unpaired; PHIME: paired, hairpin, interior, multi-loop, exterior).
STRUCTURE_CHANNELS: Mapping[str, int] = MappingProxyType({"seq": 0, "pu": 2, "phime": 5})
INPUT_KINDS = tuple(STRUCTURE_CHANNELS)
#: Model input channels of each kind: 4, 6 and 9.
INPUT_CHANNELS: Mapping[str, int] = MappingProxyType({k: 4 + c for k, c in STRUCTURE_CHANNELS.items()})
#: ResidualBind variants (:func:`rbgia.model.residualbind`).
VARIANTS = ("paper", "public")


def input_kind(channels: int) -> str | None:
    """The input kind whose models take ``channels`` channels (``None`` when none does)."""
    return next((k for k, c in INPUT_CHANNELS.items() if c == int(channels)), None)
_ALLOWED = {"normalization": NORMALIZATIONS, "inputs": INPUT_KINDS, "variant": VARIANTS}


@dataclass(frozen=True)
class TrainConfig:
    """One training configuration (validated on construction).

    Attributes
    ----------
    normalization
        Score transform: ``"log"`` or ``"clip"`` (see :func:`rbgia.data.load_rnacompete`).
    inputs
        Input channels: ``"seq"``, ``"pu"`` (+2 structure channels) or ``"phime"`` (+5).
    variant
        ResidualBind variant: ``"paper"`` or ``"public"`` (see :func:`rbgia.model.residualbind`).
    seed
        Seeds the initial weights and the training run (int >= 0).
    """

    normalization: str = "log"
    inputs: str = "seq"
    variant: str = "paper"
    seed: int = 0

    def __post_init__(self) -> None:
        for name, allowed in _ALLOWED.items():
            value = getattr(self, name)
            if not isinstance(value, str) or value not in allowed:
                raise DataError(
                    f"{name}={value!r} is not a training configuration value (it goes in file names); "
                    f"use one of {list(allowed)}"
                )
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise DataError(f"seed={seed!r} ({type(seed).__name__}) is not a valid seed; pass an int >= 0")
        object.__setattr__(self, "seed", int(seed))  # numpy ints -> int, so tags and JSON agree

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The field names, in order: ``("normalization", "inputs", "variant", "seed")``."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @property
    def tag(self) -> str:
        """File-name tag, e.g. ``"log-seq-paper-s0"`` (records, models, checkpoints)."""
        return f"{self.normalization}-{self.inputs}-{self.variant}-s{self.seed}"

    def as_dict(self) -> dict[str, Any]:
        """The configuration as a plain JSON-ready dict."""
        return {k: getattr(self, k) for k in self.field_names()}

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated; unknown names raise :class:`DataError`)."""
        return type(self).from_dict({**self.as_dict(), **changes})

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping; missing keys take the defaults, unknown keys raise :class:`DataError`."""
        if not isinstance(mapping, Mapping):
            raise DataError(f"a training configuration is a mapping, not a {type(mapping).__name__}; pass a dict")
        unknown = sorted(set(mapping) - set(cls.field_names()))
        if unknown:
            raise DataError(f"training configuration has unknown keys {unknown}; use only {list(cls.field_names())}")
        return cls(**dict(mapping))

    @classmethod
    def from_tag(cls, tag: str) -> TrainConfig:
        """Parse a :attr:`tag` (``"clip-pu-public-s3"``) back into a configuration."""
        parts = str(tag).split("-")
        if len(parts) != 4 or not parts[3].startswith("s") or not parts[3][1:].isdigit():
            raise DataError(f"{tag!r} is not a configuration tag; use '<normalization>-<inputs>-<variant>-s<seed>'")
        return cls(parts[0], parts[1], parts[2], int(parts[3][1:]))

    @classmethod
    def coerce(cls, config: TrainConfig | Mapping[str, Any] | str | None = None, **fields: Any) -> TrainConfig:
        """The configuration meant by ``config`` (a TrainConfig, mapping, tag or None) plus keyword fields.

        Keyword fields that are ``None`` are not given. A given field that contradicts
        ``config`` raises :class:`DataError` (say it once).
        """
        if config is None:
            base = cls()
        elif isinstance(config, cls):
            base = config
        elif isinstance(config, str):
            base = cls.from_tag(config)
        else:
            base = cls.from_dict(config)
        given = {k: v for k, v in fields.items() if v is not None}
        if config is not None:
            known = base.field_names()
            clash = {k: (getattr(base, k), v) for k, v in given.items() if k in known and getattr(base, k) != v}
            if clash:
                raise DataError(f"config={base.tag} but also {clash} (config, keyword); pass the configuration once")
        return base.replace(**given) if given else base
