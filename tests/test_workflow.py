"""The Snakemake DAG (workflow/): the book's jobs, the scale-out, profiles, config checks, failures, a real run.

Every run but the repository's own dry run happens in a tmp root (``--directory``: notebooks,
``_toc.yml``, data and results under tmp), so nothing is written into the repository.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rbgia import book

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "workflow" / "Snakefile"
LOCAL = str(REPO / "workflow" / "profiles" / "local")
SLURM = str(REPO / "workflow" / "profiles" / "slurm")
SCALEOUT = str(REPO / "workflow" / "config.scaleout.yaml")
TRAIN_NB = "02_residualbind"
GIA_NB = "05_gia"
TINY = REPO / "tests" / "tiny_parameters.yml"
TAG = "log-seq-paper-s0"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("snakemake") is None, reason="snakemake is not installed")


def _yaml(path: Path, obj: dict) -> Path:
    # JSON is YAML: no PyYAML needed to write a config file.
    path.write_text(json.dumps(obj, indent=1))
    return path


def _snakemake(cwd: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(cwd), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


def _jobs(dry_run_output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a dry run lists."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if not m:
            continue
        w = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        wildcards = dict(kv.split("=", 1) for kv in w.group(1).split(", ")) if w else {}
        jobs.append((m.group(1), wildcards))
    return jobs


def _job_stats(output: str) -> dict[str, int]:
    """The 'Job stats' table of a run as {rule: count}."""
    table = output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"wf_{name}", REPO / "workflow" / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _deepbind_dir(path: Path, n_experiments: int) -> list[str]:
    """A synthetic DeepBind-layout folder: n_experiments target columns, two probes."""
    ids = [f"RNCMPT{i:05d}" for i in range(1, n_experiments + 1)]
    path.mkdir(parents=True, exist_ok=True)
    (path / "sequences.tsv").write_text(
        "Fold ID\tEvent ID\tseq\nA\tp1\tACGUACGUACGUACGUACGUACGUACGUACGUACGUACGUA\n"
        "B\tp2\tUGCAUGUGCAUGUGCAUGUGCAUGUGCAUGUGCAUGUGCAU\n"
    )
    rows = ["\t".join(ids), "\t".join(["0.5"] * len(ids)), "\t".join(["1.5"] * len(ids))]
    (path / "targets.tsv").write_text("\n".join(rows) + "\n")
    return ids


def _root(tmp_path: Path, notebooks: Path | None = None) -> Path:
    """A repository-like root: the real notebooks (or stand-ins), a toc without chapters' pages."""
    root = tmp_path / "root"
    shutil.copytree(notebooks or REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("executed"))
    shutil.copy(REPO / "_toc.yml", root / "_toc.yml")
    return root


def _scaleout_spec(path: Path, configs: list[dict], **job_params) -> Path:
    import yaml

    spec = yaml.safe_load((REPO / "workflow" / "scaleout.yml").read_text())
    spec["jobs"]["train"]["configs"] = configs
    spec["jobs"]["train"].setdefault("parameters", {}).update(job_params)
    return _yaml(path, spec)


# --------------------------------------------------------------------------- dry runs


def repo_dry_run_checks(root: Path = REPO) -> None:
    """`python -m snakemake -n` in ``root`` (the repository, or a copy of it where the book was built) lists
    every chapter and job of its book/parameters.yml that is not done yet."""
    out = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(root),
                          "--profile", LOCAL, "-n", "--nolock"], cwd=root, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    dry_run_output_checks(root, out.stdout + out.stderr)


def dry_run_output_checks(root: Path, output: str) -> None:
    """What a dry run of ``root``'s book printed (``output``) lists every chapter and job not done yet; on a tree
    where `make book` ran and nothing changed since, Snakemake has nothing to do and every output is there."""
    plan = book.plan(root)
    if "Nothing to be done" in output:
        missing = [r.output for r in plan.runs if not (root / r.output).is_file()]
        assert not missing, f"Snakemake finds nothing to do, yet these outputs are missing: {missing}"
        return
    stats = _job_stats(output)
    done = {r for r in plan.runs if (root / r.output).is_file()}  # a previous `make book` may have run some
    assert stats.get("chapter", 0) + sum(r.kind == "chapter" for r in done) >= len(book.toc_notebooks(root))
    assert stats.get("job", 0) <= len(plan.jobs) and stats.get("all") == 1


def test_repo_dry_run_lists_the_books_jobs():
    """The repository as it is (a fresh clone, or one where `make book` ran: tests/test_reliability_book.py
    runs the same checks on a copy with every output present)."""
    repo_dry_run_checks(REPO)


def test_the_paper_profile_plans_every_job_with_the_paper_protocol(tmp_path):
    """`make book-paper` (workflow/config.paper.yaml): the book's jobs and chapters with the paper's protocol
    (patience 25, no plateau stop) and no quick-run GIA; all_experiments clashed real_vts1 with real_2009."""
    import yaml

    from rbgia.book import plan as make_plan

    over = yaml.safe_load((REPO / "workflow" / "config.paper.yaml").read_text())
    plan = make_plan(REPO, "book/parameters.yml", results_dir=str(tmp_path / "paper"),
                     overrides={"epochs": over["epochs"], "num_background": over["num_background"],
                                **over["parameters"]}, all_experiments=over["all_experiments"])
    train = [run for run in plan.jobs if Path(run.notebook).stem == "02_residualbind"]
    gia = [run for run in plan.jobs if Path(run.notebook).stem == "05_gia"]
    assert len(train) == 27 and len(gia) == 10
    assert all(run.parameters["patience"] == 25 and run.parameters["decay_patience"] == 7
               and run.parameters["stop_on_plateau"] is False and run.parameters["epochs"] == 100 for run in train)
    assert all(run.parameters["allow_unplateaued"] is False for run in gia)
    # the paper's models are single-task: no run keeps the book's multi-task trunk
    assert all(run.parameters.get("tasks") is None for run in train + gia)
    book = make_plan(REPO, "book/parameters.yml", results_dir=str(tmp_path / "book"))
    assert any(run.parameters.get("tasks") for run in book.jobs)  # the book's do (a check that can fail)
    out = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(REPO),
                          "--profile", LOCAL, "-n", "--nolock", "--configfile", str(REPO / "workflow" /
                                                                                     "config.paper.yaml"),
                          "--config", f"results_dir={tmp_path / 'paper'}"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]


# the parameters that pick a cached model (rbgia.model_cache): GIA must pass its training job's, or it trains anew
_MODEL_KEYS = ("results_dir", "data_dir", "experiment", "config", "patience", "decay_patience", "max_probes", "tasks")


def _effective(run) -> dict:
    from rbgia.book import params

    return {**params.declared_defaults(REPO / run.notebook), **run.parameters}


@pytest.mark.parametrize("profile", ["book", "tiny", "paper"])
def test_every_gia_run_loads_the_model_its_training_job_trains(profile, tmp_path):
    """A GIA run (05_gia, job or chapter) names the very model of the training run it needs: the same cache key
    (tasks, patience, decay_patience, ...) and no more epochs; every training run's settings are a named protocol
    (rbgia.train.PROTOCOLS): the book's 2009 trunks book-fast-decay, its single-task models book, the paper's paper."""
    import yaml

    from rbgia.book import plan as make_plan
    from rbgia.train import protocol_name

    kw = {}
    if profile == "paper":
        over = yaml.safe_load((REPO / "workflow" / "config.paper.yaml").read_text())
        kw = dict(results_dir=str(tmp_path), all_experiments=over["all_experiments"],
                  overrides={"epochs": over["epochs"], "num_background": over["num_background"], **over["parameters"]})
    the_plan = make_plan(REPO, str(TINY) if profile == "tiny" else "book/parameters.yml", **kw)
    runs = [*the_plan.jobs, *the_plan.chapters]
    train = {run.output: _effective(run) for run in runs if Path(run.notebook).stem == TRAIN_NB and run.kind == "job"}
    protocols = {}
    for p in train.values():
        name = protocol_name({k: p[k] for k in ("patience", "decay_patience", "stop_on_plateau")})
        protocols.setdefault(name, set()).add("multi-task" if p.get("tasks") else "single-task")
    expected = {"book": {"book": {"single-task"}, "book-fast-decay": {"multi-task"}},
                "tiny": {"book": {"single-task"}, "book-fast-decay": {"multi-task"}},
                "paper": {"paper": {"single-task"}}}[profile]
    assert protocols == expected
    checked = 0
    for run in runs:
        if Path(run.notebook).stem != GIA_NB:
            continue
        gia = _effective(run)
        trained = [train[o] for o in run.needs if o in train and train[o]["experiment"] == gia["experiment"]
                   and train[o]["config"] == gia["config"]]
        assert len(trained) == 1, f"{run.name} {gia['experiment']}: no single training run of its model"
        assert {k: gia.get(k) for k in _MODEL_KEYS} == {k: trained[0].get(k) for k in _MODEL_KEYS}, run.name
        assert gia["epochs"] <= trained[0]["epochs"], run.name
        checked += 1
    assert checked >= 4  # gia_2009, gia_vts1, gia_2013 and chapter 05 (tiny: one experiment each)


@pytest.mark.parametrize("profile", ["book", "tiny", "paper"])
def test_a_trunks_other_runs_wait_for_the_run_that_trains_it(profile, tmp_path):
    """In a multi-task job the first run of each configuration trains the trunk; the job's other runs of that
    configuration need it (in the DAG, not holding a core while they wait on its lock). A job that needs the
    trainer's job (05_gia) loads the trunk and gets no such edge; single-task plans (the paper's) get none."""
    from rbgia.book import plan as make_plan

    kw = {"results_dir": str(tmp_path), "overrides": {"tasks": None}} if profile == "paper" else {}
    the_plan = make_plan(REPO, str(TINY) if profile == "tiny" else "book/parameters.yml", **kw)
    edges = 0
    for job, runs in the_plan.job_names.items():
        own = {r.output for r in runs}
        multitask = [r for r in runs if r.parameters.get("tasks")]
        trains = not any(o not in own for r in multitask for o in r.needs)  # needs no other job: it trains
        for tag in {r.tag for r in multitask}:
            same = [r for r in multitask if r.tag == tag]
            first, later = same[0], same[1:]
            assert not own & set(first.needs), f"{job} {tag}: the trunk's trainer waits for its own job"
            for r in later:
                waits = [o for o in r.needs if o in own]
                assert waits == ([first.output] if trains else []), f"{job} {r.experiment} {tag}: {waits}"
                edges += len(waits)
    assert (edges > 0) == (profile == "book")  # the tiny trunk has one run per configuration


def test_scaleout_dry_run_over_244_experiments(tmp_path):
    """The scale-out over a 244-column targets.tsv with the paper's four configurations."""
    root = _root(tmp_path)
    ids = _deepbind_dir(root / "data", 244)
    grid = [{"normalization": "log"}, {"normalization": "clip"}, {"inputs": "pu"}, {"inputs": "phime"}]
    spec = _scaleout_spec(tmp_path / "grid.yml", grid)
    out = _snakemake(root, "--profile", LOCAL, "--configfile", SCALEOUT, "-n",
                     "--config", f"parameters_file={spec}", "data_dir=data", "results_dir=results")
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    text = out.stdout + out.stderr
    n = len(ids)
    assert _job_stats(text) == {"prepare": 2, "job": 4 * n + n, "summary": 1, "all": 1}
    per_tag: dict[str, set[str]] = {}
    for rule, w in _jobs(text):
        if rule == "job":
            per_tag.setdefault(f"{w['stem']}.{w['tag']}", set()).add(w["experiment"])
    tags = [f"{TRAIN_NB}.{t}-paper-s0" for t in ("log-seq", "clip-seq", "log-pu", "log-phime")]
    assert sorted(per_tag) == sorted([*tags, f"{GIA_NB}.{TAG}"])
    assert all(exps == set(ids) for exps in per_tag.values())  # 244 runs per configuration
    assert {w["inputs"] for rule, w in _jobs(text) if rule == "prepare"} == {"pu", "phime"}  # once per data folder
    assert not (root / "results").exists()  # a dry run writes nothing


def test_dry_run_parameters_per_run(tmp_path):
    """Each run gets the parameters its notebook declares; --config epochs overrides the file."""
    root = _root(tmp_path)
    _deepbind_dir(root / "data", 3)
    spec = _scaleout_spec(tmp_path / "grid.yml", [{"normalization": "log"}, {"normalization": "clip"}])
    out = _snakemake(root, "--profile", LOCAL, "--configfile", SCALEOUT, "-n", "-p",
                     "--config", f"parameters_file={spec}", "data_dir=data", f"results_dir={tmp_path / 'res'}",
                     "epochs=3")
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    calls = re.findall(r"run_notebook\.py \S+/(\w+)\.ipynb \S+ --params '(\{.*?\})'", out.stdout + out.stderr)
    assert len(calls) == 3 * 2 + 3
    for nb, raw in calls:
        params = json.loads(raw)
        assert params["results_dir"] == str(tmp_path / "res") and params["epochs"] == 3
        assert params["experiment"] in {"RNCMPT00001", "RNCMPT00002", "RNCMPT00003"}
        if nb == GIA_NB:
            assert (params["config"], params["scan"]) == ("log-seq-paper-s0", "adaptive")
    train_tags = sorted(json.loads(raw)["config"] for nb, raw in calls if nb == TRAIN_NB)
    assert train_tags == ["clip-seq-paper-s0"] * 3 + ["log-seq-paper-s0"] * 3  # one `config` tag per grid entry


def test_config_and_parameter_errors_name_the_key(tmp_path):
    """Issue 11, case 13: `--config epochs=ten` gave an InputFunctionException without the key."""
    root = _root(tmp_path)
    _deepbind_dir(root / "data", 3)
    spec = _scaleout_spec(tmp_path / "grid.yml", [{"normalization": "log"}])
    base = ("--profile", LOCAL, "--configfile", SCALEOUT, "-n")

    def fails(*config: str) -> str:
        out = _snakemake(root, *base, "--config", *config)
        assert out.returncode != 0
        return out.stdout + out.stderr

    assert "error: config key epochs: 'ten' is not of type 'integer'" in fails(f"parameters_file={spec}", "epochs=ten")
    assert "'num_backgroud' was unexpected" in fails(f"parameters_file={spec}", "num_backgroud=7")
    bad = _yaml(tmp_path / "bad.yml", {"jobs": {"train": {"notebook": TRAIN_NB, "experiments": ["RNCMPT00001"],
                                                          "parameters": {"num_backgroud": 7}}}})
    assert f"{bad}: jobs.train gives {TRAIN_NB} parameters ['num_backgroud']" in fails(f"parameters_file={bad}")
    bad = _yaml(tmp_path / "bad2.yml", {"jobs": {"train": {"notebook": TRAIN_NB, "experiments": ["RNCMPT99999"],
                                                           "parameters": {"data_dir": "data"}}}})
    text = fails(f"parameters_file={bad}")
    assert "RNCMPT99999" in text and "not in data" in text
    assert "'nowhere', which does not exist" in fails(f"parameters_file={spec}", "data_dir=nowhere")


def test_slurm_profile_puts_the_gpu_on_job_runs_only(tmp_path):
    root = _root(tmp_path)
    _deepbind_dir(root / "data", 2)
    spec = _scaleout_spec(tmp_path / "grid.yml", [{"normalization": "log"}, {"inputs": "pu"}])
    # A dry run caps threads at --cores (1 by default); a real SLURM run does not.
    out = _snakemake(root, "--profile", SLURM, "--configfile", SCALEOUT, "-n", "-p", "--cores", "64",
                     "--config", f"parameters_file={spec}", "data_dir=data")
    assert out.returncode == 0, out.stderr[-3000:]
    blocks: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out.stdout + out.stderr):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if m:
            blocks.setdefault(m.group(1), []).append(block)
    assert len(blocks["job"]) == 2 * 2 + 2
    assert all("gres=gpu:1" in b and "--threads 4 " in b for b in blocks["job"])  # -> sbatch --cpus-per-task=4
    assert "--threads 16 " in blocks["prepare"][0] and "gres=" not in blocks["prepare"][0]
    assert all("runtime=" in b and "mem_mb=" in b for rule in ("prepare", "job") for b in blocks[rule])


# --------------------------------------------------------------------------- scripts


def test_summary_counts_experiments_and_pearson_per_configuration(tmp_path, capsys):
    from rbgia.chapters.results import write_results

    summary = _load_script("summary")
    r = {"A": 0.5, "B": 0.7, "C": 0.9}
    for exp, value in r.items():
        rec = {"test_pearson": value, "baselines": {"kmer_ridge": {"test_pearson": value / 2}}}
        write_results(tmp_path, exp, TRAIN_NB, rec, config={"normalization": "log"})
    write_results(tmp_path, "A", TRAIN_NB, {"test_pearson": 0.1}, config={"normalization": "clip"})
    summary.main(["--results-dir", str(tmp_path), "--experiments", "A", "B", "C", "D",
                  "--out", str(tmp_path / "s.tsv"), "--table", str(tmp_path / "t.tsv")])
    printed = capsys.readouterr()
    s = pd.read_csv(tmp_path / "s.tsv", sep="\t").set_index("config")
    assert s.loc["log-seq-paper-s0", "experiments_done"] == 3
    assert s.loc["log-seq-paper-s0", "experiments_expected"] == 4
    assert s.loc["log-seq-paper-s0", "mean_pearson"] == pytest.approx(0.7, abs=1e-4)
    assert s.loc["log-seq-paper-s0", "sd_pearson"] == pytest.approx(0.2, abs=1e-4)
    assert s.loc["log-seq-paper-s0", "mean_pearson_kmer_ridge"] == pytest.approx(0.35, abs=1e-4)
    assert s.loc["clip-seq-paper-s0", "experiments_done"] == 1
    assert s.loc["clip-seq-paper-s0", "mean_pearson"] == pytest.approx(0.1, abs=1e-4)
    t = pd.read_csv(tmp_path / "t.tsv", sep="\t")
    assert len(t) == 4 and set(t["experiment"]) == {"A", "B", "C"}
    assert "log-seq-paper-s0" in printed.out and "D" in printed.err  # D is reported as not done


def test_scripts_end_user_errors_with_one_error_line(tmp_path):
    """Issue 11, case 20: a workflow script's user error is one `error:` line and exit code 2."""
    from rbgia.chapters.results import write_results

    write_results(tmp_path, "A", TRAIN_NB, {"test_pearson": 0.5}, config={"normalization": "log"})
    scripts = REPO / "workflow" / "scripts"
    cases = [
        ([scripts / "run_notebook.py", "n.ipynb", "o.ipynb", "--params", "{epochs: 3}"], "error: --params is not JSON"),
        ([scripts / "run_notebook.py", "nb.ipynb", "out.ipynb", "--params", "[1]"], "error: --params is a JSON list"),
        ([scripts / "summary.py", "--results-dir", tmp_path, "--metric", "nope"], "error: column 'nope'"),
        ([scripts / "prepare.py", "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "p.json"], "error: "),
    ]
    for args, start in cases:
        proc = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=tmp_path)
        last = proc.stderr.strip().splitlines()[-1]
        assert proc.returncode == 2 and last.startswith(start) and "Traceback" not in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- runs

_PARAMS = '''data_dir = "data/simulated"
results_dir = "results"
experiment = "SIMRBFOX1"
config = "log-seq-paper-s0"
background = "profile"
num_background = 10
epochs = 1
scan = "both"'''


def _stand_in_notebooks(folder: Path) -> Path:
    """Tiny notebooks with the real ones' parameters and records, no model: for testing the
    DAG's bookkeeping (failure, resume) in seconds. The training one fails for an experiment
    whose flag file FAIL_<experiment> is in results_dir."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, *cells: str) -> None:
        nb = nbformat.v4.new_notebook()
        first = nbformat.v4.new_code_cell(_PARAMS)
        first.metadata["tags"] = ["parameters"]
        nb.cells = [first, *(nbformat.v4.new_code_cell(c) for c in cells)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")

    write(
        TRAIN_NB,
        "from pathlib import Path\nfrom rbgia.chapters import results\nfrom rbgia.config import TrainConfig",
        "if Path(results_dir, 'FAIL_' + experiment).exists():\n    raise RuntimeError('planted failure')",
        "cfg = TrainConfig.from_tag(config)\n"
        "results.write_results(results_dir, experiment, '02_residualbind', {'test_pearson': len(experiment) / 10}, "
        "config=cfg)",
    )
    write(GIA_NB, "from rbgia.chapters import results\n"
          "results.write_results(results_dir, experiment, '05_gia', {'done': 1})")
    return folder


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    from rbgia.simulate import write_rnacompete

    return write_rnacompete(tmp_path_factory.mktemp("wfdata"), n_a=1500, n_b=500, seed=0)


@pytest.mark.slow
def test_failed_experiment_keeps_the_others_names_the_cell_and_resumes(tmp_path, tiny_data):
    root = _root(tmp_path, _stand_in_notebooks(tmp_path / "nb"))
    results = root / "results"
    results.mkdir()
    (results / "FAIL_SIMHUR").touch()
    spec = _scaleout_spec(tmp_path / "spec.yml", [{"normalization": "log"}])
    spec_obj = json.loads(spec.read_text())
    spec_obj["jobs"]["train"]["experiments"] = spec_obj["jobs"]["gia"]["experiments"] = ["SIMRBFOX1", "SIMHUR"]
    _yaml(spec, spec_obj)
    args = ("--profile", LOCAL, "--configfile", SCALEOUT, "--config", f"parameters_file={spec}",
            f"data_dir={tiny_data}", "results_dir=results")
    out = _snakemake(root, *args)
    assert out.returncode != 0
    # --keep-going: the other experiments finished, analyses included
    ok = results / "SIMRBFOX1"
    assert (ok / f"{TRAIN_NB}.{TAG}.json").is_file() and (ok / "05_gia.json").is_file()
    assert (ok / "notebooks" / f"{TRAIN_NB}.{TAG}.ipynb").is_file()
    assert not (results / "SIMHUR" / f"{TRAIN_NB}.{TAG}.json").exists()
    assert not (results / "_all" / "summary.tsv").exists()
    # the log, and Snakemake's report of it, name the notebook and the cell
    log = (results / "SIMHUR" / "logs" / f"{TRAIN_NB}.{TAG}.log").read_text()
    assert re.search(rf"NOTEBOOK FAILED: \S*{TRAIN_NB}\.ipynb, cell In \[\d+\]: RuntimeError: planted failure", log)
    assert "NOTEBOOK FAILED" in out.stdout + out.stderr
    assert (results / "SIMHUR" / "notebooks" / f"{TRAIN_NB}.{TAG}.partial.ipynb").is_file()
    error = json.loads((results / "SIMHUR" / "notebooks" / f"{TRAIN_NB}.{TAG}.error.json").read_text())
    assert error["cell"]["ename"] == "RuntimeError"
    assert not list(results.rglob(".*.tmp.ipynb"))  # no half-written notebook left behind

    done = {p: p.stat().st_mtime_ns for p in ok.rglob("*") if p.is_file()}
    (results / "FAIL_SIMHUR").unlink()
    out = _snakemake(root, *args)
    assert out.returncode == 0, out.stderr[-3000:]
    ran = {(w["experiment"], w["stem"]) for rule, w in _jobs(out.stdout + out.stderr) if rule == "job"}
    assert ran == {("SIMHUR", TRAIN_NB), ("SIMHUR", GIA_NB)}  # only the failed experiment reran
    assert all(p.stat().st_mtime_ns == t for p, t in done.items() if p.exists())
    summary = pd.read_csv(results / "_all" / "summary.tsv", sep="\t")
    assert summary["experiments_done"].tolist() == [2]
    assert not (results / "SIMHUR" / "notebooks" / f"{TRAIN_NB}.{TAG}.partial.ipynb").exists()

    # one more experiment later: only its runs (and the summary) are to run
    spec_obj["jobs"]["train"]["experiments"] = spec_obj["jobs"]["gia"]["experiments"] = ["SIMRBFOX1", "SIMHUR",
                                                                                         "SIMNULL"]
    _yaml(spec, spec_obj)
    out = _snakemake(root, *args, "-n")
    assert out.returncode == 0, out.stderr[-3000:]
    assert _job_stats(out.stdout + out.stderr) == {"job": 2, "summary": 1, "all": 1}


@pytest.mark.slow
def test_local_run_over_two_real_experiments(tmp_path):
    """The real training and GIA notebooks through the scale-out, on the shipped 2009 data, tiny sizes."""
    root = _root(tmp_path)
    (root / "data").symlink_to(REPO / "data")
    experiments = ["VTS1", "HuR"]
    spec = _scaleout_spec(tmp_path / "spec.yml", [{"normalization": "log"}], max_probes=600, baselines=False)
    spec_obj = json.loads(spec.read_text())
    spec_obj["jobs"]["train"]["experiments"] = spec_obj["jobs"]["gia"]["experiments"] = experiments
    spec_obj["jobs"]["gia"]["parameters"].update(max_probes=600, k=4, n_screen=20, num_background=30,
                                                 allow_unplateaued=True)  # 1-epoch models
    _yaml(spec, spec_obj)
    # tiny jobs are start-up bound: two 1-thread jobs at a time halve the wall time
    threads = _yaml(tmp_path / "threads.yaml", {"threads": {"prepare": 1, "job": 1, "chapter": 1}})
    out = _snakemake(root, "--profile", LOCAL, "--configfile", SCALEOUT, str(threads), "--config",
                     f"parameters_file={spec}", "data_dir=data/rnacompete2009", "results_dir=results", "epochs=1",
                     "prepare=false")
    assert out.returncode == 0, out.stderr[-5000:] + out.stdout[-3000:]
    results = root / "results"
    for exp in experiments:
        for nb in (TRAIN_NB, GIA_NB):
            assert (results / exp / "notebooks" / f"{nb}.{TAG}.ipynb").is_file()
            assert (results / exp / "logs" / f"{nb}.{TAG}.log").is_file()
        assert (results / exp / f"{TRAIN_NB}.{TAG}.json").is_file()
    summary = pd.read_csv(results / "_all" / "summary.tsv", sep="\t")
    assert summary["config"].tolist() == [TAG]
    assert summary["experiments_done"].tolist() == [2] and summary["experiments_expected"].tolist() == [2]
    assert -1 <= summary["mean_pearson"].iloc[0] <= 1
    table = pd.read_csv(results / "_all" / "pearson.tsv", sep="\t")
    assert sorted(table["experiment"]) == sorted(experiments)  # one row per experiment
    assert "experiments_done" in out.stderr or "experiments_done" in out.stdout  # the summary is printed
