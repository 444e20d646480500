"""GIA experiments: the session argument, and the verdicts (multiplicity, spacing, GC bias,
hairpin structure effect) on toy models whose answers are known by construction."""

from __future__ import annotations

import json

import numpy as np
import pytest
from toy_models import CODE, L, hits
from toy_models import base_codes as _codes

from rbgia import paper
from rbgia.data import one_hot
from rbgia.errors import DataError
from rbgia.experiments import Multiplicity, Spacing, motif_mutagenesis, multiplicity, positional_scan, spacing
from rbgia.gcbias import GCBias, gc_bias
from rbgia.hairpin import CONDITIONS, Hairpin, hairpin_context
from rbgia.records import SCHEMAS
from rbgia.session import GIA

GU = "GUUUGU"  # G/U only: never occurs by chance in A/C backgrounds


def weighted_copies(x: np.ndarray, motif: str = GU) -> np.ndarray:
    """Each copy at window w adds 1 + 0.5 [base 36 + w % 5 is A]: additive per copy, varying
    across backgrounds through positions no experiment here writes."""
    h = hits(x, motif)
    w = np.arange(h.shape[1])
    weight = 1.0 + 0.5 * (_codes(x)[:, 36 + w % 5] == 0)
    return (h * weight).sum(1)


def first_copy_only(x: np.ndarray) -> np.ndarray:
    """Steric hindrance: a second copy adds nothing (the best copy counts)."""
    h = hits(x, GU)
    w = np.arange(h.shape[1])
    weight = 1.0 + 0.5 * (_codes(x)[:, 36 + w % 5] == 0)
    return (h * weight).max(1, initial=0.0)


@pytest.fixture(scope="module")
def ac_bg() -> np.ndarray:
    rng = np.random.default_rng(3)
    return one_hot(["".join(rng.choice(list("AC"), L)) for _ in range(80)])


@pytest.fixture(scope="module")
def acgu_bg() -> np.ndarray:
    rng = np.random.default_rng(4)
    return one_hot(["".join(rng.choice(list("ACGU"), L)) for _ in range(60)])


def _json(record: dict) -> dict:
    text = json.dumps(record, allow_nan=False)  # NaN must have become None
    assert len(text) < 20_000  # summaries, not per-background arrays
    return json.loads(text)


# --------------------------------------------------------------------------- the session argument
def test_experiments_take_a_session_and_never_modify_it(ac_bg):
    g = GIA(weighted_copies, ac_bg)
    before = (g.chunk_size, g.stem_loop, g.recompute_structure, g.background.copy())
    new = multiplicity(g, GU, paper.PUBLIC_CODE_MULTIPLICITY_STARTS)
    again = multiplicity(GIA(weighted_copies, ac_bg), GU, paper.PUBLIC_CODE_MULTIPLICITY_STARTS)
    np.testing.assert_array_equal(again.table["mean"], new.table["mean"])
    np.testing.assert_array_equal(spacing(g, GU).table["mean"], spacing(GIA(weighted_copies, ac_bg), GU).table["mean"])
    pos = positional_scan(g, GU, [3, 9])
    fresh = positional_scan(GIA(weighted_copies, ac_bg), GU, [3, 9])
    np.testing.assert_array_equal(pos.table["mean"], fresh.table["mean"])
    assert pos.importances[1].local.shape == (len(ac_bg),) and list(pos.local_effects()) == ["start 3", "start 9"]
    assert list(_json(pos.to_record())) == list(SCHEMAS["positional"])
    hairpin_context(g, GU, 16, 7, fold_check=False, recompute_structure=False)
    assert (g.chunk_size, g.stem_loop, g.recompute_structure) == before[:3]
    np.testing.assert_array_equal(g.background, before[3])
    for call in (lambda: multiplicity(weighted_copies, GU), lambda: gc_bias(weighted_copies, GU),
                 lambda: hairpin_context(weighted_copies, GU, 16, 7)):
        with pytest.raises(DataError, match=r"takes a GIA session first.*\(GIA\(predict, background\), \.\.\.\)"):
            call()
    with pytest.raises(DataError, match="without stem_loop"):
        hairpin_context(GIA(weighted_copies, ac_bg, stem_loop=(paper.PAPER_STEM, paper.PAPER_PARTNER)), GU, 16, 7)


def test_default_positions_follow_the_paper_text(ac_bg):
    assert paper.MULTIPLICITY_STARTS == (3, 10, 17) and paper.PUBLIC_CODE_MULTIPLICITY_STARTS == (4, 12, 20)
    assert paper.GC_STARTS == paper.gc_ends(41, 6) == (0, 35) and paper.PUBLIC_CODE_GC_STARTS == (2, 34)
    assert multiplicity(GIA(weighted_copies, ac_bg), GU).starts == (3, 10, 17)
    gc = gc_bias(GIA(weighted_copies, ac_bg), "UGCAUG", n_boot=50)
    assert gc.gc_starts == (0, 35) and gc.motif_start == 17


def test_motif_mutagenesis_keeps_local_importances(ac_bg):
    res = motif_mutagenesis(GIA(weighted_copies, ac_bg), GU, start=17)
    assert res.local.shape == (6, 4, len(ac_bg)) and res.start == 17
    np.testing.assert_allclose(res.local.mean(-1), res.importance, atol=1e-12)
    np.testing.assert_array_equal(res.wild_type.local, res.local[0, CODE["G"]])
    rec = _json(res.to_record())
    assert list(rec) == list(SCHEMAS["mutagenesis"]) and rec["wild_type"]["local"]["n"] == len(ac_bg)


# --------------------------------------------------------------------------- multiplicity
@pytest.mark.parametrize(
    ("model", "verdict"),
    [
        (weighted_copies, "additive"),
        (lambda x: 1.0 - 0.3 ** weighted_copies(x), "sub-additive"),
        (lambda x: weighted_copies(x) ** 2, "super-additive"),
        (lambda x: (_codes(x)[:, 36:] == 0).sum(1).astype(float), "no effect"),  # reads positions no copy writes
        (lambda x: (weighted_copies(x) >= 2).astype(float), "undetermined"),  # one copy alone does nothing
    ],
    ids=["additive", "saturating", "cooperative", "null", "threshold"],
)
def test_multiplicity_verdict(ac_bg, model, verdict):
    res = multiplicity(GIA(model, ac_bg), GU, n_boot=500)
    assert isinstance(res, Multiplicity) and res.verdict == verdict, res.rule
    if verdict not in ("no effect", "undetermined"):
        ratio = res.table["mean"].iloc[-1] / res.table["mean"].iloc[0]
        assert res.ratio.mean == pytest.approx(ratio) and res.ratio.ci_low <= ratio <= res.ratio.ci_high
        assert res.ratio.ci_low < res.ratio.ci_high  # the toys vary across backgrounds
    assert res.local.shape == (3, len(ac_bg)) and list(res.local_effects()) == ["1 copy", "2 copies", "3 copies"]
    rec = _json(res.to_record())
    assert list(rec) == list(SCHEMAS["multiplicity"]) and rec["verdict"] == verdict
    assert [c["n"] for c in rec["copies"]] == [len(ac_bg)] * 3


def test_saturating_multiplicity_has_a_high_r2_but_is_sub_additive(ac_bg):
    # the case: a 3-point fit looks linear while 3 copies give far less than 3x one copy
    res = multiplicity(GIA(lambda x: np.log1p(weighted_copies(x)), ac_bg), GU, n_boot=500)
    assert res.r2 > 0.95 and res.verdict == "sub-additive" and res.ratio.ci_high < 3 * (1 - res.tolerance)


def test_multiplicity_fit_through_the_origin(ac_bg):
    res = multiplicity(GIA(weighted_copies, ac_bg), GU, n_boot=100)
    x, y = np.arange(1.0, 4.0), res.table["mean"].to_numpy()
    assert res.origin_slope == pytest.approx((x * y).sum() / (x * x).sum())
    assert res.origin_r2 == pytest.approx(1 - ((y - res.origin_slope * x) ** 2).sum() / (y**2).sum())
    two = multiplicity(GIA(weighted_copies, ac_bg), GU, (3, 10), n_boot=100)
    assert np.isnan(two.r2) and np.isfinite(two.slope)  # 2 points: R^2 = 1 by construction, not evidence
    assert multiplicity(GIA(weighted_copies, ac_bg), GU, (3,), n_boot=10).verdict == "undetermined"


# --------------------------------------------------------------------------- spacing
def test_spacing_against_twice_one_copy(ac_bg):
    add = spacing(GIA(weighted_copies, ac_bg), GU, n_boot=500)
    assert isinstance(add, Spacing) and add.verdicts == ("additive",) * 3
    np.testing.assert_allclose(add.table["vs_additive"].iloc[:3], 1.0)  # the pair is exactly its two copies
    est = add.vs_additive[0]
    assert est.ci_low <= est.mean <= est.ci_high and est.ci_low < est.ci_high
    hindered = spacing(GIA(first_copy_only, ac_bg), GU, n_boot=500)
    assert hindered.verdicts == ("hindrance",) * 3
    assert all(e.ci_high < 1 for e in hindered.vs_additive)
    assert list(hindered.table["verdict"].iloc[:3]) == ["hindrance"] * 3
    assert list(hindered.local_effects())[0] == "one at 18"  # 1-based, as the page shows it
    rec = _json(hindered.to_record())
    assert list(rec) == list(SCHEMAS["spacing"]) and [p["verdict"] for p in rec["pairs"]] == ["hindrance"] * 3
    assert rec["pairs"][0]["gap"] == -2 and rec["single"]["n"] == len(ac_bg)


def test_spacing_synergy(ac_bg):
    res = spacing(GIA(lambda x: weighted_copies(x) ** 2, ac_bg), GU, n_boot=500)
    assert res.verdicts == ("synergy",) * 3 and all(e.ci_low > 1.1 for e in res.vs_additive)


def test_spacing_without_reference_is_undetermined(ac_bg):
    res = spacing(GIA(weighted_copies, ac_bg), GU, reference=None)
    assert res.verdicts == ("undetermined",) * 3 and res.single is None and "ratio" not in res.table
    _json(res.to_record())


# --------------------------------------------------------------------------- GC bias
def _gc_toy(kind: str):
    def f(x):
        m = hits(x, "UGCAUG").sum(1).astype(float)
        h = hits(x, "GCGCGC")
        gc5, gc3 = h[:, :10].sum(1).astype(float), h[:, 30:].sum(1).astype(float)
        w = 1.0 + 0.5 * (_codes(x)[:, 26:34] == 0).mean(1)  # varies, never written here
        if kind == "adds":
            return w * m + 0.4 * gc5 + 0.3 * w * gc3
        if kind == "amplifies 3'":  # GC alone does something at 5' only; at 3' it multiplies the motif
            return w * m * (1 + gc3) + 0.4 * gc5
        return w * m + 0.5 * (gc5 + gc3) - 0.6 * w * m * (gc5 + gc3)  # dampens

    return f


@pytest.mark.parametrize(
    ("kind", "verdicts"),
    [("adds", ("adds", "adds")), ("amplifies 3'", ("adds", "amplifies")), ("dampens", ("dampens", "dampens"))],
)
def test_gc_bias_amplifies_or_adds(ac_bg, kind, verdicts):
    res = gc_bias(GIA(_gc_toy(kind), ac_bg), "UGCAUG", n_boot=500)
    assert isinstance(res, GCBias) and (res.verdict5, res.verdict3) == verdicts
    for est, with_gc, alone in ((res.interaction5, res.motif_gc5, res.gc5), (res.interaction3, res.motif_gc3, res.gc3)):
        assert est.mean == pytest.approx(with_gc.mean - res.motif.mean - alone.mean, abs=1e-12)
        assert est.ci_low <= est.mean <= est.ci_high
    if kind == "adds":  # an effect size above 1 is no amplification when GC alone does it
        assert res.effect5 > 1.1 and res.interaction5.pvalue == 1.0
    rec = _json(res.to_record())
    assert list(rec) == list(SCHEMAS["gc_bias"])
    assert (rec["interaction5"]["verdict"], rec["interaction3"]["verdict"]) == verdicts
    assert rec["interaction3"]["pvalue"] == pytest.approx(res.interaction3.pvalue)
    assert set(rec["importance"]) == {"motif", "motif_gc5", "motif_gc3", "gc5", "gc3"}


# --------------------------------------------------------------------------- hairpin structure effect
GCUGGC = "GCUGGC"


def position_only(x: np.ndarray) -> np.ndarray:
    """A position effect (later starts count more) and no structure rule; the gain varies
    across backgrounds through positions 34-40, outside the stem-loop."""
    h = hits(x, GCUGGC)
    gain = 1.0 + (_codes(x)[:, 34:] == 0).mean(1)
    return gain * (h * (1.0 + np.arange(h.shape[1]) / 10)).sum(1)


def unpaired_only(x: np.ndarray) -> np.ndarray:
    """The same, but a copy counts only when nothing in the probe can pair with it
    (its reverse complement GCCAGC is absent): it reads pairing, not position."""
    return position_only(x) * ~hits(x, "GCCAGC").any(1)


@pytest.mark.slow  # folds the designed backgrounds with ViennaRNA
def test_structure_effect_holds_sequence_fixed(acgu_bg):
    pytest.importorskip("RNA")
    pos = hairpin_context(GIA(position_only, acgu_bg), GCUGGC, paper.HAIRPIN_LOOP_START, 7, n_boot=500)
    assert isinstance(pos, Hairpin)
    assert abs(pos.loop_minus_stem.mean) > 0.5  # loop minus stem alone is confounded by position
    assert pos.structure_effect.mean == 0.0 and pos.verdict == "no structure effect"  # exactly: an additive model
    unp = hairpin_context(GIA(unpaired_only, acgu_bg), GCUGGC, paper.HAIRPIN_LOOP_START, 7, n_boot=500)
    assert unp.structure_effect.ci_low > 0.5 and unp.structure_effect.pvalue < 1e-6
    assert unp.structure_effect.ci_low < unp.structure_effect.ci_high  # the toy varies across backgrounds
    assert unp.verdict == "prefers loop" and unp.pairing.mean < 0 < unp.structure_effect.mean
    se = unp.structure_effect
    il, bl, ist, su, po = (getattr(unp, c).local for c in CONDITIONS)
    assert se.mean == pytest.approx(((il - bl) - (ist - su - po)).mean())
    assert unp.loop_context.mean == pytest.approx((il - bl).mean()) and unp.pairing.mean == pytest.approx(
        (ist - su - po).mean())
    assert unp.n_designed == len(acgu_bg) and unp.n_folded >= 0.8 * len(acgu_bg) and unp.n_broken_folded == 0
    assert list(unp.table["condition"]) == list(CONDITIONS)
    assert unp.unpaired["in_loop"] > unp.unpaired["in_stem"] + 0.3  # the design separates the motif's structure
    rec = _json(unp.to_record())
    assert list(rec)[:5] == ["kind", "mean", "ci_low", "ci_high", "pvalue"] and rec["n_folded"] == unp.n_folded
    assert rec["mean"] == pytest.approx(se.mean) and rec["in_loop"]["local"]["n"] == len(acgu_bg)
    assert list(rec) == list(SCHEMAS["hairpin"]) and set(rec["unpaired"]) == set(CONDITIONS[:4])


@pytest.mark.slow
def test_a_failed_hairpin_design_is_visible():
    pytest.importorskip("RNA")
    # a 6-bp A-U stem around a 20-nt loop rarely holds: few backgrounds fold as designed, and the verdict says so
    rng = np.random.default_rng(4)
    au = one_hot(["".join(rng.choice(list("AU"), 41)) for _ in range(60)])
    res = hairpin_context(GIA(unpaired_only, au), GCUGGC, 20, 9, stem=(9, 15), partner=(35, 41), n_boot=100)
    assert res.n_folded < 0.5 * res.n_designed and res.verdict == "undetermined" and "fold as designed" in res.rule


def test_a_signed_verdict_never_contradicts_its_interval():
    from rbgia.stats import Estimate
    from rbgia.verdicts import Effect, signed

    words = ("prefers loop", "no structure effect", "prefers stem")
    effect = Effect(True, 1.0, 0.0, "a toy effect")
    assert signed(Estimate(0.3, 0.1, 0.5, 1e-4), effect, words)[0] == "prefers loop"
    assert signed(Estimate(-0.3, -0.5, -0.1, 1e-4), effect, words)[0] == "prefers stem"
    # p below alpha but the bootstrap CI crosses 0: no claim
    assert signed(Estimate(-0.05, -0.12, 0.01, 0.03), effect, words)[0] == "no structure effect"
    # NaN never reads as "not significant": the test is undefined
    assert signed(Estimate(0.3, 0.1, 0.5, float("nan")), effect, words)[0] == "undetermined"
    # below the minimum effect (a tenth of the motif's): no claim however small p is
    assert signed(Estimate(0.05, 0.04, 0.06, 1e-9), effect, words)[0] == "no structure effect"
    # no motif effect: nothing to say about its structure
    assert signed(Estimate(0.3, 0.1, 0.5, 1e-4), Effect(False, 0.0, 0.1, "none"), words)[0] == "no effect"


def test_the_suboptimal_motif_is_the_best_two_mismatch_variant():
    """Fig 2c's rule: of the k-mers exactly 2 mismatches from the top one, the highest-scoring (AGAAUG for
    RBFOX1 in the paper, kept as the paper's choice); never a k-mer 1 or 3 mismatches away, however high."""
    from rbgia import paper

    variants = paper.two_mismatch_variants("AAAGAG")
    assert len(variants) == len(set(variants)) == 15 * 9
    assert all(sum(a != b for a, b in zip(v, "AAAGAG")) == 2 for v in variants)
    kmers = ["AAAGAC", "CCAGAG", "AUCGUG", "UUUGAG", "AAAGAG"]  # 1, 2, 3, 3 mismatches and the motif
    means = [5.0, 0.4, 0.9, 2.0, 6.0]
    assert paper.suboptimal_motif("AAAGAG", kmers, means) == "CCAGAG"
    assert paper.suboptimal_motif("AAAGAG", ["CCAGAG", "ACAGUG"], [0.4, float("nan")]) == "CCAGAG"  # NaN: never
    assert paper.suboptimal_motif("UGCAUG", variants, [0.0] * len(variants)) == "AGAAUG"
    with pytest.raises(DataError, match="no k-mer 2 mismatches from AAAGAG"):
        paper.suboptimal_motif("AAAGAG", ["AAAGAC"], [1.0])


def test_gc_ends_where_every_probe_has_letters():
    """The 2009 probes (29-39 nt, centred): the paper's very ends are padding for most of them; 'covered' puts
    the GC runs at the ends of the span every probe covers. 41-nt probes: the very ends, as the paper."""
    assert paper.covered_gc_starts(range(29, 40)) == (6, 29)  # a 29-nt probe covers 0-based 6..34
    assert paper.covered_gc_starts([41] * 5) == paper.GC_STARTS == (0, 35)
    assert paper.covered_gc_starts(["ACGU" * 8, "A" * 39]) == (4, 30)  # probes themselves: their lengths
    assert paper.positions("paper", "covered", [29, 39])["gc_starts"] == (6, 29)
    assert paper.positions("paper")["gc_starts"] == (0, 35)
    with pytest.raises(DataError, match="gc_ends='covered' needs the probes' lengths"):
        paper.positions("paper", "covered")
    with pytest.raises(DataError, match="gc_ends='middle'"):
        paper.positions("paper", "middle", [41])
    with pytest.raises(DataError, match="holds no two 6-nt runs"):
        paper.covered_gc_starts([10, 41])
