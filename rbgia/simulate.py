"""Simulated RNAcompete data with planted, machine-readable truth.

The real RNAcompete files cannot be downloaded on every machine, so the default
data is simulated and written in the DeepBind layout, which the real loader reads:

- ``sequences.tsv``: header ``Fold ID<TAB>Event ID<TAB>seq``; Fold ID ``A`` or ``B``;
  38-41 nt RNA probes;
- ``targets.tsv``: header = experiment ids, one row per probe, ``NaN`` for missing;
- ``truth.json``: the planted rules per experiment and the generating parameters.

Each experiment is a noiseless *signal* (a pure function of the sequence, see
:func:`signal`) turned into a right-skewed RNAcompete-like score:

``raw = scale * signal * exp(sigma_mult * z1 - sigma_mult**2 / 2) + noise``

where ``noise`` is a standardized log-normal (right-skewed, mean 0) times
``sigma_add`` and a few probes get a bright outlier. ``E[raw] = scale * signal`` plus
a constant (:func:`expected_score`), so the signal is the oracle that GIA is checked against.

Experiments (ids are fixed):

- ``SIMRBFOX1``: UGCAUG and weaker variants, additive in the number of sites, with
  steric hindrance (of two sites whose starts are closer than 7 nt only the stronger
  counts) and a 3' GC bias (GC in the last 7 nt scales the sites and adds a little).
- ``SIMVTS1``: CNGG (GCUGG best) counts only in a hairpin loop: each site is
  weighted by its mean hairpin-loop probability (ViennaRNA). A third of the probes
  carry a designed stem-loop with the motif in the loop, in the stem or outside.
- ``SIMHUR``: U-rich, additive counts of UUU and AUUUA, no structure.
- ``SIMNULL``: no signal at all; a model should learn nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._io import _to_builtin, atomic_path, load_json, save_json
from .errors import DataError, RbgiaError
from .paths import require_writable_dir, user_path
from .sequence import ALPHABET, N_CODE, clean, decode, letter_codes

SIM_VERSION = 1
_CHUNK = 100_000  # sequences per vectorized block, bounds memory of the oracle
_COMP = (0.27, 0.23, 0.27, 0.23)  # A C G U, close to RNAcompete 2013 probes
_RNG_PROBES, _RNG_NOISE, _RNG_NAN = 0, 1, 2


@dataclass(frozen=True)
class Noise:
    """Parameters turning a signal into a raw score (see the module docstring)."""

    scale: float
    sigma_mult: float
    sigma_add: float
    skew: float = 0.5  # log-normal shape of the additive noise
    outlier_frac: float = 0.001
    outlier_size: float = 40.0  # median of the outlier boost, in score units


@dataclass(frozen=True)
class Experiment:
    """One simulated experiment: its planted rule and noise model."""

    id: str
    protein: str
    description: str
    motif: str | None
    kind: str  # "additive" | "null"
    site_affinities: Mapping[str, float] = field(default_factory=dict)
    min_spacing: int | None = None
    gc_bias: Mapping[str, Any] | None = None
    structure: str | None = None  # None | "hairpin_loop"
    upstream_bonus: Mapping[str, float] | None = None
    noise: Noise = Noise(scale=1.0, sigma_mult=0.0, sigma_add=1.0)

    def truth(self) -> dict[str, Any]:
        """The planted rule as plain JSON-ready data."""
        out = asdict(self)
        out["site_affinities"] = dict(self.site_affinities)
        return out


# RBFOX1 affinities follow Auweter et al. 2006 Kd (0.83 nM / Kd) ** 0.35 for the
# measured variants; AGAAUG (the paper's 2-mismatch) and GGCAUG are set by hand.
EXPERIMENTS: dict[str, Experiment] = {
    "SIMRBFOX1": Experiment(
        id="SIMRBFOX1",
        protein="RBFOX1-like",
        description=(
            "UGCAUG and weaker variants; site affinities add up; of two sites whose starts "
            "are < min_spacing nt apart only the stronger counts (greedy, strongest first, "
            "ties leftmost); GC fraction g of the last 7 nt scales the site sum by "
            "(1 + multiplicative * g) and adds additive * g."
        ),
        motif="UGCAUG",
        kind="additive",
        site_affinities={
            "UGCAUG": 1.0,
            "AGCAUG": 0.55,
            "UGCACG": 0.55,
            "CGCAUG": 0.5,
            "GGCAUG": 0.45,
            "AGAAUG": 0.3,
            "UGUAUG": 0.15,
            "UACAUG": 0.15,
        },
        min_spacing=7,
        gc_bias={"region": "3prime", "width": 7, "multiplicative": 0.6, "additive": 0.3},
        noise=Noise(scale=4.0, sigma_mult=0.35, sigma_add=1.6),
    ),
    "SIMVTS1": Experiment(
        id="SIMVTS1",
        protein="VTS1-like",
        description=(
            "CNGG sites (CUGG 0.7, other CNGG 0.4, +0.3 when preceded by G: GCUGG = 1.0); "
            "each site counts weighted by its mean hairpin-loop probability over the 4 core "
            "nt (ViennaRNA, window = span = probe length); sites add up."
        ),
        motif="GCUGG",
        kind="additive",
        site_affinities={"CUGG": 0.7, "CAGG": 0.4, "CCGG": 0.4, "CGGG": 0.4},
        upstream_bonus={"G": 0.3},
        structure="hairpin_loop",
        noise=Noise(scale=5.0, sigma_mult=0.3, sigma_add=1.0),
    ),
    "SIMHUR": Experiment(
        id="SIMHUR",
        protein="HuR-like",
        description="U-rich: every (overlapping) UUU adds 0.25 and every AUUUA 0.5; no structure.",
        motif="UUUUUU",
        kind="additive",
        site_affinities={"UUU": 0.25, "AUUUA": 0.5},
        noise=Noise(scale=5.0, sigma_mult=0.3, sigma_add=1.0),
    ),
    "SIMNULL": Experiment(
        id="SIMNULL",
        protein="none",
        description="No binding rule: scores are pure (skewed) noise.",
        motif=None,
        kind="null",
        noise=Noise(scale=0.0, sigma_mult=0.0, sigma_add=1.0),
    ),
}

# Probe design: what fraction of probes carries which planted element.
DESIGN: dict[str, Any] = {
    "lengths": {"41": 0.7, "40": 0.1, "39": 0.1, "38": 0.1},
    "composition": dict(zip(ALPHABET, _COMP)),
    "stem_loop_frac": 0.3,
    "stem_loop": {"stem_bp": [6, 8], "loop_nt": [6, 8], "motif_place": {"loop": 0.5, "stem": 0.25, "outside": 0.25}},
    "vts1_motifs": {
        "GCUGG": 0.6, "GCAGG": 0.1, "GCCGG": 0.05, "GCGGG": 0.05, "ACUGG": 0.1, "UCUGG": 0.05, "CCUGG": 0.05,
    },
    "rbfox1_sites_per_probe": {"0": 0.4, "1": 0.3, "2": 0.18, "3": 0.12},
    "rbfox1_site_mix": {
        "UGCAUG": 0.55, "AGCAUG": 0.08, "UGCACG": 0.08, "CGCAUG": 0.05, "GGCAUG": 0.04,
        "AGAAUG": 0.1, "UGUAUG": 0.05, "UACAUG": 0.05,
    },
    "hur_frac": 0.25,
    "hur_elements": ["UUUUUU", "AUUUA", "UUAUUUAUU", "UUUUUUUU", "AUUUAUUUA"],
    "vts1_unstructured_frac": 0.12,
    "gc_end_frac": {"3prime": 0.1, "5prime": 0.1},
    "note": "non-stem-loop probes get HuR, then VTS1, then RBFOX1 elements, then a GC-rich end; "
    "stem-loop probes get only the stem-loop (random flanks).",
}


# --------------------------------------------------------------------------- encoding


def _as_strings(seqs: Sequence[str] | np.ndarray) -> list[str]:
    """Strings from strings or one-hot ``(N, L, >=4)`` arrays; upper case, T -> U."""
    if isinstance(seqs, np.ndarray) and seqs.ndim == 3:
        return decode(seqs)
    if isinstance(seqs, str):
        raise DataError("expected a list of sequences, got one string; wrap it in a list")
    return [clean(s) for s in seqs]


def _encode(seqs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Left-aligned codes ``(N, Lmax)`` int8 (A C G U = 0..3, N/padding = -1) and lengths."""
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    width = int(lengths.max()) if len(seqs) else 0
    codes = np.full((len(seqs), width), -1, dtype=np.int8)
    if not seqs or width == 0:
        return codes, lengths
    flat = letter_codes("".join(seqs))
    if (flat < 0).any():
        pos = int(np.argmax(flat < 0))
        row = int(np.searchsorted(np.cumsum(lengths), pos, side="right"))
        raise DataError(f"sequence {row} ({seqs[row][:50]!r}) has letters outside ACGUTN; give RNA or DNA letters only")
    rows = np.repeat(np.arange(len(seqs)), lengths)
    cols = np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    codes[rows, cols] = np.where(flat == N_CODE, -1, flat)
    return codes, lengths


def _kmer_values(codes: np.ndarray, table: Mapping[str, float]) -> np.ndarray:
    """``(N, W)`` affinity of the k-mer starting at each position (0 where none).

    Values of k-mers of different lengths starting at the same place add up.
    """
    n, width = codes.shape
    out = np.zeros((n, width), dtype=np.float64)
    by_k: dict[int, dict[str, float]] = {}
    for kmer, value in table.items():
        by_k.setdefault(len(kmer), {})[kmer] = value
    for k, sub in by_k.items():
        if width < k:
            continue
        lut = np.zeros(4**k, dtype=np.float64)
        for kmer, value in sub.items():
            lut[int("".join(str(ALPHABET.index(c)) for c in kmer), 4)] = value
        p = width - k + 1
        idx = np.zeros((n, p), dtype=np.int64)
        ok = np.ones((n, p), dtype=bool)
        for j in range(k):
            c = codes[:, j : j + p]
            ok &= c >= 0
            idx = idx * 4 + np.maximum(c, 0)
        out[:, :p] += np.where(ok, lut[idx], 0.0)
    return out


# ---------------------------------------------------------------------------- signals


def _greedy_hindrance(aff: np.ndarray, min_spacing: int) -> np.ndarray:
    """Sum of site affinities keeping, strongest first, sites >= min_spacing apart."""
    rest = aff.copy()
    total = np.zeros(aff.shape[0])
    pos = np.arange(aff.shape[1])
    rows = np.arange(aff.shape[0])
    while True:
        best = rest.argmax(1)  # ties: leftmost
        val = rest[rows, best]
        live = val > 0
        if not live.any():
            return total
        total += np.where(live, val, 0.0)
        near = np.abs(pos[None, :] - best[:, None]) < min_spacing
        rest[live[:, None] & near] = 0.0


def _end_gc(codes: np.ndarray, lengths: np.ndarray, width: int, end: str) -> np.ndarray:
    """GC fraction of the first/last ``width`` nt of each probe."""
    n = codes.shape[0]
    if end == "3prime":
        start = np.maximum(lengths - width, 0)
    else:
        start = np.zeros(n, dtype=np.int64)
    cols = start[:, None] + np.arange(width)[None, :]
    inside = cols < lengths[:, None]
    c = codes[np.arange(n)[:, None], np.minimum(cols, codes.shape[1] - 1)]
    gc = ((c == 1) | (c == 2)) & inside
    return gc.sum(1) / np.maximum(inside.sum(1), 1)


def _hairpin_probs(seqs: list[str], rows: np.ndarray, width: int, n_jobs: int | None, progress: bool) -> np.ndarray:
    """``(len(rows), width)`` hairpin-loop probability, left-aligned, of the given rows."""
    from .structure import fold_profiles  # noqa: PLC0415 (ViennaRNA only when needed)

    out = np.zeros((rows.size, width))
    profiles = fold_profiles([seqs[i] for i in rows], n_jobs=n_jobs, progress=progress)
    for j, prof in enumerate(profiles):
        out[j, : prof.shape[0]] = prof[:, 1]
    return out


def _signal_block(exp: Experiment, seqs: list[str], n_jobs: int | None, progress: bool) -> np.ndarray:
    codes, lengths = _encode(seqs)
    n = len(seqs)
    if exp.kind == "null" or n == 0:
        return np.zeros(n)
    aff = _kmer_values(codes, exp.site_affinities)
    if exp.upstream_bonus:
        bonus = np.zeros_like(aff)
        for base, value in exp.upstream_bonus.items():
            bonus[:, 1:] += np.where(codes[:, :-1] == ALPHABET.index(base), value, 0.0)
        aff = np.where(aff > 0, aff + bonus, 0.0)
    if exp.structure == "hairpin_loop":
        k = len(next(iter(exp.site_affinities)))
        rows = np.flatnonzero((aff > 0).any(1))
        weight = np.zeros_like(aff)
        if rows.size:
            hp = _hairpin_probs(seqs, rows, codes.shape[1], n_jobs, progress)
            csum = np.concatenate([np.zeros((rows.size, 1)), np.cumsum(hp, 1)], 1)
            p = codes.shape[1] - k + 1
            weight[rows, :p] = (csum[:, k : k + p] - csum[:, :p]) / k
        aff = aff * weight
    if exp.min_spacing:
        total = _greedy_hindrance(aff, exp.min_spacing)
    else:
        total = aff.sum(1)
    if exp.gc_bias:
        g = _end_gc(codes, lengths, int(exp.gc_bias["width"]), exp.gc_bias["region"])
        total = total * (1.0 + exp.gc_bias["multiplicative"] * g) + exp.gc_bias["additive"] * g
    return total


def _experiment(experiment: str | Experiment) -> Experiment:
    if isinstance(experiment, Experiment):
        return experiment
    if experiment not in EXPERIMENTS:
        raise DataError(f"unknown simulated experiment {experiment!r}; use one of {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[experiment]


def signal(
    experiment: str | Experiment,
    seqs: Sequence[str] | np.ndarray,
    n_jobs: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Noiseless planted signal of each sequence: the oracle GIA is checked against.

    Parameters
    ----------
    experiment
        An id in :data:`EXPERIMENTS` (or an :class:`Experiment`).
    seqs
        Strings (RNA/DNA letters, ``N`` never matches) or one-hot ``(N, L, 4)``
        (decoded; padding dropped).
    n_jobs, progress
        Passed to the folding of ``SIMVTS1`` probes that carry a site.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` float64; 0 means background. ``E[raw score] = scale * signal + const``.
    """
    exp = _experiment(experiment)
    strings = _as_strings(seqs)
    blocks = [
        _signal_block(exp, strings[i : i + _CHUNK], n_jobs, progress) for i in range(0, len(strings), _CHUNK)
    ]
    return np.concatenate(blocks) if blocks else np.zeros(0)


def expected_score(
    experiment: str | Experiment, seqs: Sequence[str] | np.ndarray, n_jobs: int | None = None
) -> np.ndarray:
    """Expected raw score: ``scale * signal`` plus the (constant) mean outlier boost."""
    exp = _experiment(experiment)
    nz = exp.noise
    outliers = nz.outlier_frac * nz.outlier_size * np.exp(0.3**2 / 2)
    return nz.scale * signal(exp, seqs, n_jobs=n_jobs) + outliers


def _noise_rng(seed: int | np.random.Generator, stream: int, exp_id: str) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng([int(seed), stream, zlib.crc32(exp_id.encode())])


def scores_from_signal(
    experiment: str | Experiment, sig: np.ndarray, seed: int | np.random.Generator = 0
) -> np.ndarray:
    """Noisy, right-skewed raw scores from a signal (see the module docstring)."""
    exp = _experiment(experiment)
    nz = exp.noise
    rng = _noise_rng(seed, _RNG_NOISE, exp.id)
    n = len(sig)
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    mult = np.exp(nz.sigma_mult * z1 - nz.sigma_mult**2 / 2)
    s2 = nz.skew**2
    lognormal_sd = np.sqrt((np.exp(s2) - 1) * np.exp(s2))
    add = (np.exp(nz.skew * z2) - np.exp(s2 / 2)) / lognormal_sd
    raw = nz.scale * np.asarray(sig, dtype=np.float64) * mult + nz.sigma_add * add
    bright = rng.random(n) < nz.outlier_frac
    raw += np.where(bright, nz.outlier_size * np.exp(0.3 * rng.standard_normal(n)), 0.0)
    return raw


# ----------------------------------------------------------------------------- probes


def _pick(rng: np.random.Generator, table: Mapping[str, float]) -> str:
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _random_bases(rng: np.random.Generator, n: int, p: Sequence[float] = _COMP) -> list[str]:
    return [ALPHABET[i] for i in rng.choice(4, size=n, p=p)]


_PAIR = {"A": "U", "U": "A", "G": "C", "C": "G"}


def _revcomp(s: Sequence[str]) -> list[str]:
    return [_PAIR[c] for c in reversed(s)]


def _stem_loop_probe(rng: np.random.Generator, probe: list[str]) -> None:
    """Embed a Watson-Crick stem-loop with a VTS1 motif in the loop, stem or outside."""
    d = DESIGN["stem_loop"]
    stem = int(rng.integers(d["stem_bp"][0], d["stem_bp"][1] + 1))
    loop = int(rng.integers(d["loop_nt"][0], d["loop_nt"][1] + 1))
    motif = list(_pick(rng, DESIGN["vts1_motifs"]))
    place = _pick(rng, d["motif_place"])
    arm = _random_bases(rng, stem, p=(0.15, 0.35, 0.35, 0.15))  # GC-rich: stable stems
    loop_seq = _random_bases(rng, loop)
    if place == "loop":
        at = int(rng.integers(0, loop - len(motif) + 1))
        loop_seq[at : at + len(motif)] = motif
    elif place == "stem":
        at = int(rng.integers(0, stem - len(motif) + 1))
        arm[at : at + len(motif)] = motif
    hairpin = arm + loop_seq + _revcomp(arm)
    n, h = len(probe), len(hairpin)
    start = int(rng.integers(1, n - h))
    probe[start : start + h] = hairpin
    if place == "outside":
        left, right = start, n - start - h  # free space on each side
        if left >= right:
            at = int(rng.integers(0, left - len(motif) + 1))
        else:
            at = start + h + int(rng.integers(0, right - len(motif) + 1))
        probe[at : at + len(motif)] = motif


def _plant(rng: np.random.Generator, probe: list[str], element: str) -> None:
    at = int(rng.integers(0, len(probe) - len(element) + 1))
    probe[at : at + len(element)] = list(element)


def sample_probes(n: int, seed: int | np.random.Generator = 0) -> list[str]:
    """``n`` distinct probes (38-41 nt) following :data:`DESIGN`."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng([int(seed), _RNG_PROBES])
    lengths_table = {int(k): v for k, v in DESIGN["lengths"].items()}
    counts_table = {int(k): v for k, v in DESIGN["rbfox1_sites_per_probe"].items()}
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        length = _pick(rng, lengths_table)
        probe = _random_bases(rng, int(length))
        if rng.random() < DESIGN["stem_loop_frac"]:
            _stem_loop_probe(rng, probe)
        else:
            if rng.random() < DESIGN["hur_frac"]:
                _plant(rng, probe, str(rng.choice(DESIGN["hur_elements"])))
            if rng.random() < DESIGN["vts1_unstructured_frac"]:
                _plant(rng, probe, _pick(rng, DESIGN["vts1_motifs"]))
            for _ in range(int(_pick(rng, counts_table))):
                _plant(rng, probe, _pick(rng, DESIGN["rbfox1_site_mix"]))
            u = rng.random()
            gc = DESIGN["gc_end_frac"]
            if u < gc["3prime"] + gc["5prime"]:
                end = _random_bases(rng, 7, p=(0.075, 0.425, 0.425, 0.075))
                if u < gc["3prime"]:
                    probe[-7:] = end
                else:
                    probe[:7] = end
        s = "".join(probe)
        if s not in seen:  # set A and set B share no sequence
            seen.add(s)
            out.append(s)
    return out


# ------------------------------------------------------------------------------ files


def _params(n_a: int, n_b: int, experiments: list[str], seed: int, nan_frac: float) -> dict[str, Any]:
    return {
        "n_a": int(n_a),
        "n_b": int(n_b),
        "experiments": list(experiments),
        "seed": int(seed),
        "nan_frac": float(nan_frac),
        "version": SIM_VERSION,
    }


def _truth(params: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Everything truth.json records: parameters, layout, score model, design, rules."""
    return {
        "parameters": params,
        "layout": {
            "sequences.tsv": "Fold ID<TAB>Event ID<TAB>seq; Fold ID A (train/valid) or B (test)",
            "targets.tsv": "one column per experiment, one row per sequences.tsv row, NaN = missing",
        },
        "score_model": (
            "raw = scale * signal * exp(sigma_mult*z1 - sigma_mult^2/2) + sigma_add * "
            "standardized_lognormal(skew) + outlier (probability outlier_frac, size "
            "outlier_size * exp(0.3*z)); E[raw] = scale * signal + const; signal = rbgia.simulate.signal"
        ),
        "design": DESIGN,
        "experiments": {name: EXPERIMENTS[name].truth() for name in names},
    }


def _fmt(v: float) -> str:
    return "NaN" if not np.isfinite(v) else f"{v:.6f}"


def _check_request(
    out_dir: str | Path, experiments: Sequence[str] | None, n_a: int, n_b: int, nan_frac: float
) -> tuple[Path, list[str]]:
    """The output folder and experiment ids of :func:`write_rnacompete`, checked before any work."""
    out = user_path(out_dir, "output folder")
    if out.exists() and not out.is_dir():
        raise DataError(f"output folder {out} is a file; pass a folder (it is created if needed)")
    names = list(EXPERIMENTS) if experiments is None else [str(e) for e in experiments]
    for name in names:
        _experiment(name)
    if len(set(names)) != len(names) or not names:
        raise DataError(f"experiments {names} must be distinct and non-empty; pick from {sorted(EXPERIMENTS)}")
    if n_a < 1 or n_b < 1:
        raise DataError(f"n_a={n_a} and n_b={n_b} must both be positive")
    if not 0.0 <= nan_frac < 1.0:
        raise DataError(f"nan_frac={nan_frac} must be in [0, 1)")
    return out, names


def _other_simulation(old: Any, truth: dict[str, Any]) -> str:
    """What differs between an existing ``truth.json`` (``old``) and the one asked for, for a message."""
    if not isinstance(old, dict) or not isinstance(old.get("parameters"), dict):
        return "a simulation whose truth.json is unreadable"
    asked = _to_builtin(truth["parameters"])
    diff = [f"{k} {old['parameters'].get(k)}, asked {v}" for k, v in asked.items() if old["parameters"].get(k) != v]
    if diff:
        return f"a simulation with other parameters ({'; '.join(diff)})"
    return "a simulation made under other rules (truth.json's design or experiments differ: another rbgia version)"


def _keep_existing(out: Path, files: list[Path], truth: dict[str, Any], overwrite: bool) -> bool:
    """Whether ``out`` already holds this very simulation (True: keep it). An empty folder, or ``overwrite``,
    gives False (write); another simulation, a partial one or other files of the layout are refused."""
    present = [f for f in files if f.exists()]
    if not present:
        return False
    if len(present) == len(files):
        try:
            old = load_json(files[2])
        except ValueError:
            old = None
        if old == json.loads(json.dumps(_to_builtin(truth))):  # same parameters and rules (noise, design)
            return True
        what = _other_simulation(old, truth)
    else:
        missing = [f.name for f in files if f not in present]
        what = f"{', '.join(f.name for f in present)} but no {', '.join(missing)} (a partial simulation, or not one)"
    if overwrite:
        return False
    raise DataError(
        f"output folder {out} already holds {what}; pass overwrite=True (python -m rbgia.simulate ... --force) to "
        f"replace it, or choose another folder"
    )


def _simulated_column(
    name: str, seqs: list[str], seed: int, nan_frac: float, n_jobs: int | None, progress: bool
) -> np.ndarray:
    """Raw scores of one experiment for every probe, a ``nan_frac`` of them set to NaN."""
    raw = scores_from_signal(name, signal(name, seqs, n_jobs=n_jobs, progress=progress), seed)
    nan_rng = _noise_rng(seed, _RNG_NAN, name)
    raw[nan_rng.random(raw.size) < nan_frac] = np.nan
    return raw


def _write_sequences(path: Path, folds: list[str], seqs: list[str]) -> None:
    """``sequences.tsv``, atomically: ``Fold ID<TAB>Event ID<TAB>seq``, one row per probe."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="\n") as fh:
            fh.write("Fold ID\tEvent ID\tseq\n")
            for i, (fold, s) in enumerate(zip(folds, seqs), start=1):
                fh.write(f"{fold}\tRNCMPT_sim_{i:06d}\t{s}\n")


def _write_targets(path: Path, names: list[str], columns: list[np.ndarray]) -> None:
    """``targets.tsv``, atomically: one column per experiment, one row per probe, ``NaN`` for missing."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="\n") as fh:
            fh.write("\t".join(names) + "\n")
            for row in zip(*columns):
                fh.write("\t".join(_fmt(v) for v in row) + "\n")


def write_rnacompete(
    out_dir: str | Path,
    *,
    n_a: int = 10000,
    n_b: int = 5000,
    experiments: Sequence[str] | None = None,
    seed: int = 0,
    nan_frac: float = 0.002,
    n_jobs: int | None = None,
    progress: bool = False,
    overwrite: bool = False,
) -> Path:
    """Simulate RNAcompete data and write it in the DeepBind layout.

    Parameters
    ----------
    out_dir
        Folder for ``sequences.tsv``, ``targets.tsv`` and ``truth.json`` (created if needed;
        ``~`` is expanded).
    n_a, n_b
        Probes in set A (train/validation) and set B (test).
    experiments
        Ids from :data:`EXPERIMENTS` (default: all, in that order).
    seed
        Seed of the probes, the noise and the missing values.
    nan_frac
        Fraction of scores set to NaN, independently per experiment.
    n_jobs, progress
        Folding workers and progress bar (SIMVTS1 folds its candidate probes).
    overwrite
        Replace another simulation (other parameters or rules), a partial one, or DeepBind files
        without a ``truth.json`` in ``out_dir``; without it they are refused.

    Returns
    -------
    pathlib.Path
        ``out_dir``. When the three files exist and ``truth.json`` records the same
        parameters and rules, nothing is rewritten (a second ``make data`` keeps the data).

    Raises
    ------
    DataError
        On unknown experiments, non-positive set sizes, ``nan_frac`` outside [0, 1), an
        ``out_dir`` that is a file or not writable, or one holding other data and no ``overwrite``
        (all checked before any work).
    """
    return _write_rnacompete(out_dir, n_a=n_a, n_b=n_b, experiments=experiments, seed=seed, nan_frac=nan_frac,
                             n_jobs=n_jobs, progress=progress, overwrite=overwrite)[0]


def _write_rnacompete(
    out_dir: str | Path, *, n_a: int, n_b: int, experiments: Sequence[str] | None, seed: int, nan_frac: float,
    n_jobs: int | None, progress: bool, overwrite: bool,
) -> tuple[Path, bool]:
    """:func:`write_rnacompete`, and whether the folder already held this simulation (kept, nothing written)."""
    out, names = _check_request(out_dir, experiments, n_a, n_b, nan_frac)
    truth = _truth(_params(n_a, n_b, names, seed, nan_frac), names)
    files = [out / "sequences.tsv", out / "targets.tsv", out / "truth.json"]
    if _keep_existing(out, files, truth, overwrite):
        return out, True
    require_writable_dir(out, "output folder")

    seqs = sample_probes(n_a + n_b, seed)
    columns = [_simulated_column(name, seqs, seed, nan_frac, n_jobs, progress) for name in names]
    out.mkdir(parents=True, exist_ok=True)
    files[2].unlink(missing_ok=True)  # first: a replacement killed half way is partial, never the old one
    _write_sequences(files[0], ["A"] * n_a + ["B"] * n_b, seqs)
    _write_targets(files[1], names, columns)
    save_json(files[2], truth)  # last: its parameters mark a complete write
    return out, False


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rbgia.simulate OUT_DIR [--n-a N --n-b N --seed S] [--force]``; returns the exit code
    (2 on a user error, after one ``error: ...`` line on stderr). A folder that already holds this simulation is
    kept (a ``kept ...`` line on stderr); other data there is refused unless ``--force``."""
    ap = argparse.ArgumentParser(prog="python -m rbgia.simulate", description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--n-a", type=int, default=10000)
    ap.add_argument("--n-b", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nan-frac", type=float, default=0.002)
    ap.add_argument("--experiments", nargs="+", default=None, choices=sorted(EXPERIMENTS))
    ap.add_argument("--n-jobs", type=int, default=None)
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--force", action="store_true", help="replace other data in OUT_DIR (another simulation)")
    args = ap.parse_args(argv)
    try:
        path, kept = _write_rnacompete(
            args.out_dir, n_a=args.n_a, n_b=args.n_b, experiments=args.experiments, seed=args.seed,
            nan_frac=args.nan_frac, n_jobs=args.n_jobs, progress=args.progress, overwrite=args.force,
        )
    except (RbgiaError, OSError) as e:  # a user error: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    if kept:
        print(f"kept {path}: it already holds this simulation (truth.json records the same parameters)",
              file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
