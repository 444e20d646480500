"""rbgia.simulate: DeepBind-layout files and the planted oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rbgia import simulate as sim
from rbgia._io import load_json
from rbgia.data import one_hot
from rbgia.errors import DataError

pytest.importorskip("RNA")

N_A, N_B = 300, 150
COMP = {"A": "U", "U": "A", "G": "C", "C": "G"}


def _rc(s: str) -> str:
    return "".join(COMP[c] for c in reversed(s))


def _embed(bg: str, motif: str, start: int) -> str:
    return bg[:start] + motif + bg[start + len(motif) :]


def _acu_backgrounds(n: int, seed: int = 0) -> list[str]:
    """41-nt backgrounds without G: no RBFOX1 site (all need a G) can appear."""
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACU"), 41)) for _ in range(n)]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small")
    return sim.write_rnacompete(out, n_a=N_A, n_b=N_B, seed=3, nan_frac=0.1)


# ------------------------------------------------------------------------------ files


def test_files_layout(small):
    lines = (small / "sequences.tsv").read_text().splitlines()
    assert lines[0] == "Fold ID\tEvent ID\tseq"
    assert (small / "targets.tsv").read_text().splitlines()[0].split("\t") == list(sim.EXPERIMENTS)
    seqs = pd.read_csv(small / "sequences.tsv", sep="\t")
    targets = pd.read_csv(small / "targets.tsv", sep="\t")
    assert len(seqs) == len(targets) == N_A + N_B
    assert (seqs["Fold ID"] == "A").sum() == N_A and (seqs["Fold ID"] == "B").sum() == N_B
    assert seqs["Fold ID"].iloc[0] == "A" and seqs["Fold ID"].iloc[-1] == "B"
    assert seqs["Event ID"].iloc[0] == "RNCMPT_sim_000001" and seqs["Event ID"].is_unique
    lengths = seqs["seq"].str.len()
    assert lengths.between(38, 41).all() and (lengths == 41).mean() > 0.5
    assert seqs["seq"].str.fullmatch("[ACGU]+").all()
    assert seqs["seq"].is_unique  # set A and set B share no probe
    one_hot(seqs["seq"].tolist())  # encodable by the loader
    assert all(targets[c].dtype == np.float64 for c in targets)
    nan = targets.isna().to_numpy().mean()
    assert 0.07 < nan < 0.13, nan  # nan_frac = 0.1 over 1,800 cells


def test_scores_follow_the_signal(small):
    seqs = pd.read_csv(small / "sequences.tsv", sep="\t")["seq"].tolist()
    targets = pd.read_csv(small / "targets.tsv", sep="\t")
    for name, lo in [("SIMRBFOX1", 0.7), ("SIMHUR", 0.5), ("SIMVTS1", 0.4)]:
        y = targets[name].to_numpy()
        ok = np.isfinite(y)
        r = np.corrcoef(sim.expected_score(name, seqs)[ok], y[ok])[0, 1]
        assert r > lo, (name, r)
    rbfox1 = targets["SIMRBFOX1"].dropna()
    assert rbfox1.skew() > 1.0  # RNAcompete-like heavy right tail


def test_deterministic_bytes_and_cache(tmp_path, monkeypatch):
    kw = dict(n_a=120, n_b=60, seed=7)
    a = sim.write_rnacompete(tmp_path / "a", **kw)
    b = sim.write_rnacompete(tmp_path / "b", **kw, n_jobs=1)
    for name in ("sequences.tsv", "targets.tsv", "truth.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = sim.write_rnacompete(tmp_path / "c", **{**kw, "seed": 8})
    assert (a / "targets.tsv").read_bytes() != (c / "targets.tsv").read_bytes()
    # same parameters: nothing rewritten; other parameters: refused (issue 20, E08), rewritten with overwrite=True
    stamp = (a / "targets.tsv").stat().st_mtime_ns
    (a / "targets.tsv").write_text("sentinel")
    sim.write_rnacompete(tmp_path / "a", **kw)
    assert (a / "targets.tsv").read_text() == "sentinel"
    with pytest.raises(DataError, match=r"other parameters \(nan_frac 0.002, asked 0.0\); pass overwrite=True"):
        sim.write_rnacompete(tmp_path / "a", **{**kw, "nan_frac": 0.0})
    assert (a / "targets.tsv").read_text() == "sentinel"
    sim.write_rnacompete(tmp_path / "a", **{**kw, "nan_frac": 0.0}, overwrite=True)
    assert (a / "targets.tsv").read_text() != "sentinel"
    assert (a / "targets.tsv").stat().st_mtime_ns >= stamp
    assert "NaN" not in (a / "targets.tsv").read_text()
    # a changed rule (design, noise) is another simulation too
    (a / "targets.tsv").write_text("sentinel")
    monkeypatch.setitem(sim.DESIGN, "hur_frac", 0.5)
    with pytest.raises(DataError, match=r"a simulation made under other rules"):
        sim.write_rnacompete(tmp_path / "a", **{**kw, "nan_frac": 0.0})
    sim.write_rnacompete(tmp_path / "a", **{**kw, "nan_frac": 0.0}, overwrite=True)
    assert (a / "targets.tsv").read_text() != "sentinel"


def test_experiment_subset_keeps_probes(tmp_path):
    full = sim.write_rnacompete(tmp_path / "full", n_a=50, n_b=20, seed=1)
    sub = sim.write_rnacompete(tmp_path / "sub", n_a=50, n_b=20, seed=1, experiments=["SIMNULL", "SIMRBFOX1"])
    assert (full / "sequences.tsv").read_bytes() == (sub / "sequences.tsv").read_bytes()
    t_full = pd.read_csv(full / "targets.tsv", sep="\t")
    t_sub = pd.read_csv(sub / "targets.tsv", sep="\t")
    assert list(t_sub.columns) == ["SIMNULL", "SIMRBFOX1"]
    pd.testing.assert_frame_equal(t_full[["SIMNULL", "SIMRBFOX1"]], t_sub)
    with pytest.raises(DataError, match="SIMRBFOX1"):
        sim.write_rnacompete(tmp_path / "bad", n_a=5, n_b=5, experiments=["RBFOX1"])


def test_truth_json(small):
    truth = load_json(small / "truth.json")
    assert truth["parameters"] == {
        "n_a": N_A, "n_b": N_B, "experiments": list(sim.EXPERIMENTS), "seed": 3,
        "nan_frac": 0.1, "version": sim.SIM_VERSION,
    }
    exps = truth["experiments"]
    assert set(exps) == {"SIMRBFOX1", "SIMVTS1", "SIMHUR", "SIMNULL"}
    fox = exps["SIMRBFOX1"]
    assert fox["motif"] == "UGCAUG" and fox["kind"] == "additive" and fox["min_spacing"] == 7
    assert max(fox["site_affinities"], key=fox["site_affinities"].get) == "UGCAUG"
    assert fox["site_affinities"]["AGAAUG"] < fox["site_affinities"]["UGCAUG"]
    assert fox["gc_bias"]["region"] == "3prime" and fox["structure"] is None
    assert exps["SIMVTS1"]["structure"] == "hairpin_loop" and exps["SIMVTS1"]["motif"] == "GCUGG"
    assert exps["SIMNULL"]["motif"] is None and exps["SIMNULL"]["kind"] == "null"
    assert exps["SIMHUR"] == sim.EXPERIMENTS["SIMHUR"].truth()  # JSON round trip of the rule


def test_cli(tmp_path, capsys):
    sim.main([str(tmp_path / "cli"), "--n-a", "20", "--n-b", "10", "--seed", "2", "--experiments", "SIMHUR"])
    assert capsys.readouterr().out.strip().endswith("cli")
    assert load_json(tmp_path / "cli" / "truth.json")["parameters"]["n_a"] == 20
    assert len((tmp_path / "cli" / "targets.tsv").read_text().splitlines()) == 31


@pytest.mark.slow
def test_shared_fixture_dataset(sim_dir):
    seqs = pd.read_csv(sim_dir / "sequences.tsv", sep="\t")
    assert (seqs["Fold ID"] == "A").sum() == 3000 and (seqs["Fold ID"] == "B").sum() == 1500


# ----------------------------------------------------------------------------- oracle


def test_rbfox1_additive_in_sites():
    bgs = _acu_backgrounds(30)
    for site, aff in [("UGCAUG", 1.0), ("AGAAUG", sim.EXPERIMENTS["SIMRBFOX1"].site_affinities["AGAAUG"])]:
        means = []
        for k in range(4):
            seqs = bgs
            for start in (4, 12, 20)[:k]:  # the paper's code starts
                seqs = [_embed(s, site, start) for s in seqs]
            means.append(sim.signal("SIMRBFOX1", seqs).mean())
        steps = np.diff(means)
        assert steps[0] > 0
        np.testing.assert_allclose(steps, steps[0], rtol=1e-9)  # linear in the count
        slope = steps[0]
        if site == "UGCAUG":
            fox_slope = slope
        else:
            np.testing.assert_allclose(slope / fox_slope, aff, rtol=1e-9)


def test_rbfox1_steric_hindrance():
    bgs = _acu_backgrounds(30, seed=1)

    def gi(*starts: int) -> float:
        seqs = bgs
        for start in starts:
            seqs = [_embed(s, "UGCAUG", start) for s in seqs]
        return float((sim.signal("SIMRBFOX1", seqs) - sim.signal("SIMRBFOX1", bgs)).mean())

    single = gi(17)
    overlap, adjacent, apart = gi(16, 20), gi(15, 21), gi(13, 22)
    np.testing.assert_allclose(apart, 2 * single, rtol=1e-9)
    assert overlap < apart and adjacent < apart
    assert overlap == pytest.approx(single) and adjacent == pytest.approx(single)


def test_rbfox1_gc_bias_3prime():
    bgs = [_embed(s, "UGCAUG", 17) for s in _acu_backgrounds(30, seed=2)]
    base = sim.signal("SIMRBFOX1", bgs).mean()
    three = sim.signal("SIMRBFOX1", [_embed(s, "GCGCGC", 34) for s in bgs]).mean()
    five = sim.signal("SIMRBFOX1", [_embed(s, "GCGCGC", 2) for s in bgs]).mean()
    assert three > base + 0.3
    assert five == pytest.approx(base)


def test_vts1_loop_beats_stem():
    flank = "A" * 14
    arm = "GGCGCC"
    in_loop = flank[:9] + arm + "AGCUGGA" + _rc(arm) + flank
    in_stem = flank[:9] + "GCUGGC" + "AAUAAAA" + _rc("GCUGGC") + flank
    unstructured = "A" * 10 + "GCUGG" + "A" * 26
    loop, stem, flat, none = sim.signal("SIMVTS1", [in_loop, in_stem, unstructured, "A" * 41], n_jobs=1)
    assert loop > 0.9  # GCUGG = 1.0 times hairpin probability ~1
    assert stem < 0.05 and flat < 0.05
    assert loop > 10 * max(stem, flat)
    assert none == 0.0
    # a weaker family member in the same loop scores lower
    weaker = sim.signal("SIMVTS1", [in_loop.replace("AGCUGGA", "AACAGGA")], n_jobs=1)[0]
    assert 0.2 < weaker < loop


def test_hur_additive_u_rich():
    bgs = _acu_backgrounds(20, seed=3)
    bgs = [s.replace("U", "C") for s in bgs]  # no U at all: signal 0
    assert (sim.signal("SIMHUR", bgs) == 0).all()
    one = sim.signal("SIMHUR", [_embed(s, "AUUUA", 5) for s in bgs])
    two = sim.signal("SIMHUR", [_embed(_embed(s, "AUUUA", 5), "AUUUA", 25) for s in bgs])
    np.testing.assert_allclose(two, 2 * one)
    assert (sim.signal("SIMHUR", [_embed(s, "UUUUUU", 5) for s in bgs]) > one).all()


def test_null_signal_constant():
    seqs = sim.sample_probes(200, seed=5)
    assert (sim.signal("SIMNULL", seqs) == 0).all()
    y = sim.scores_from_signal(sim.EXPERIMENTS["SIMNULL"], sim.signal("SIMNULL", seqs), seed=5)
    assert abs(np.corrcoef(y, sim.signal("SIMRBFOX1", seqs))[0, 1]) < 0.25


def test_signal_inputs_and_errors():
    seqs = sim.sample_probes(40, seed=6)
    for name in ("SIMRBFOX1", "SIMHUR"):
        np.testing.assert_allclose(sim.signal(name, one_hot(seqs)), sim.signal(name, seqs))
        dna = [s.replace("U", "T").lower() for s in seqs]
        np.testing.assert_allclose(sim.signal(name, dna), sim.signal(name, seqs))
    site, broken = sim.signal("SIMRBFOX1", ["AAAAUGCAUGAAAAAAAAA", "AAAAUNCAUGAAAAAAAAA"])
    assert site == 1.0 and broken == 0.0  # N breaks the site
    with pytest.raises(DataError, match="outside"):
        sim.signal("SIMRBFOX1", ["ACGX"])
    with pytest.raises(DataError, match="SIMNULL"):
        sim.signal("RBFOX1", seqs)
    with pytest.raises(DataError, match="list"):
        sim.signal("SIMRBFOX1", "ACGU")


def test_noise_model():
    sig = np.repeat([0.0, 1.0, 2.0], 20000)
    y = sim.scores_from_signal("SIMRBFOX1", sig, seed=0)
    np.testing.assert_array_equal(y, sim.scores_from_signal("SIMRBFOX1", sig, seed=0))
    assert not np.array_equal(y, sim.scores_from_signal("SIMRBFOX1", sig, seed=1))
    nz = sim.EXPERIMENTS["SIMRBFOX1"].noise
    means = y.reshape(3, -1).mean(1)
    np.testing.assert_allclose(np.diff(means), nz.scale, atol=0.25)  # E[raw] linear in signal
    bulk = y[:20000]
    assert pd.Series(bulk).skew() > 0.5  # right-skewed even without binding


def test_sample_probes_design():
    seqs = sim.sample_probes(600, seed=0)
    assert seqs == sim.sample_probes(600, seed=0)
    assert len(set(seqs)) == 600
    assert set(map(len, seqs)) <= {38, 39, 40, 41}
    fox = sim.signal("SIMRBFOX1", seqs)
    counts = np.array([sum(s.count(m) for m in ("UGCAUG",)) for s in seqs])
    assert {0, 1, 2, 3} <= set(counts.tolist())
    assert fox[counts >= 2].mean() > fox[counts == 1].mean() > fox[counts == 0].mean()
    # designed stem-loops put the VTS1 motif in hairpin loops often enough
    vts = sim.signal("SIMVTS1", seqs)
    assert (vts > 0.5).mean() > 0.05
