"""`bench msa`: a gauge R&R study of the bench on the virtual rig, 2 rollers x 2 lanes x 2
repeats, checked against an ANOVA recomputed here from the measurements it reports."""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, describe, expect, main  # noqa: E402

ROLLERS = ["nominal-DR-192-0.50", "defect-bent"]


def anova_components(m, parts, lanes, trials, interaction_in_model):
    """Variance components of the crossed two-way random model, written independently of
    bench/analysis/msa.cpp from the textbook sums of squares."""
    x = {(v["part"], v["appraiser"], v["trial"]): v["value"] for v in m}
    P = sorted({k[0] for k in x})
    O = sorted({k[1] for k in x})
    T = sorted({k[2] for k in x})
    p, o, r = len(P), len(O), len(T)
    assert (p, o, r) == (parts, lanes, trials), (p, o, r)
    g = sum(x.values()) / (p * o * r)
    pm = {i: sum(x[i, j, k] for j in O for k in T) / (o * r) for i in P}
    om = {j: sum(x[i, j, k] for i in P for k in T) / (p * r) for j in O}
    cm = {(i, j): sum(x[i, j, k] for k in T) / r for i in P for j in O}
    ss_p = o * r * sum((pm[i] - g) ** 2 for i in P)
    ss_o = p * r * sum((om[j] - g) ** 2 for j in O)
    ss_e = sum((x[i, j, k] - cm[i, j]) ** 2 for i in P for j in O for k in T)
    ss_t = sum((v - g) ** 2 for v in x.values())
    ss_po = ss_t - ss_p - ss_o - ss_e
    ms_p, ms_o = ss_p / (p - 1), ss_o / (o - 1)
    df_po, df_e = (p - 1) * (o - 1), p * o * (r - 1)
    if interaction_in_model:
        ms_po, ms_e = ss_po / df_po, ss_e / df_e
        ev2, int2 = ms_e, max(0.0, (ms_po - ms_e) / r)
        av2, pv2 = max(0.0, (ms_o - ms_po) / (p * r)), max(0.0, (ms_p - ms_po) / (o * r))
    else:
        ms_e = (ss_po + ss_e) / (df_po + df_e)
        ev2, int2 = ms_e, 0.0
        av2, pv2 = max(0.0, (ms_o - ms_e) / (p * r)), max(0.0, (ms_p - ms_e) / (o * r))
    grr2 = ev2 + av2 + int2
    return {"ev": math.sqrt(ev2), "av": math.sqrt(av2), "grr": math.sqrt(grr2),
            "pv": math.sqrt(pv2), "tv": math.sqrt(grr2 + pv2)}


def test_a_two_roller_two_lane_study_reports_gauge_rr_in_msa_json(env):
    out = env.out("msa")
    args = ["msa", env.suite("DR-192-0.50"), "--rig", "sim"]
    for r in ROLLERS:
        args += ["--roller", env.roller(r)]
    proc = env.run_bench(*args, "--lanes", "2", "--repeats", "2", "--out", out)
    expect(proc.returncode in (0, 1), describe(proc))
    with open(os.path.join(out, "msa.json")) as f:
        msa = json.load(f)
    study = msa["study"]
    # Exit 1 exactly when AIAG's guidance calls the gauge unacceptable.
    expect((proc.returncode == 1) == (study["acceptance"] == "unacceptable"), describe(proc))
    expect("gauge R&R" in proc.stdout and "verdict: %GRR" in proc.stdout, proc.stdout)

    design = msa["design"]
    expect((design["parts"], design["appraisers"], design["trials"], design["runs"]) == (2, 2, 2, 8),
           design)
    expect(len(msa["measurements"]) == 8, msa["measurements"])
    for v in msa["measurements"]:
        expect(300 < v["value"] < 350, f"a DR-192-0.50 roller's mean depth is ~325 um: {v}")

    # Every run rolled its own lane, and reported the depth distribution per disc.
    for run in msa["runs"]:
        with open(os.path.join(run["dir"], "report.json")) as f:
            report = json.load(f)
        expect(report["rolls"][0]["lane"] == run["lane"], f"{run['dir']}: lane {report['rolls'][0]['lane']}")
        depth = check_of(report, "penetration_depth")
        expect(len(depth["per_disc"]) == 8 and len(depth["per_needle"]) == 192, depth.keys())
        expect(depth["figures"]["cpk_lcb95"]["value"] < depth["figures"]["cpk"]["value"], depth["figures"])
        expect(abs(depth["value"] - run["mean_depth_um"]) < 1e-9, run)

    # Each run is an independent trial: repeats of one roller on one lane differ.
    by_cell = {}
    for run in msa["runs"]:
        by_cell.setdefault((run["roller"], run["lane"]), []).append(run["mean_depth_um"])
    for cell, values in by_cell.items():
        expect(len(set(values)) == len(values), f"identical trials for {cell}: {values}")

    # The components agree with an ANOVA done here from the reported measurements.
    c = study["components"]
    mine = anova_components(msa["measurements"], 2, 2, 2, study["interaction"]["in_model"])
    for key, name in [("ev", "repeatability_ev"), ("av", "appraiser_av"), ("grr", "grr"),
                      ("pv", "part_pv"), ("tv", "total_tv")]:
        expect(math.isclose(c[name]["sd"], mine[key], rel_tol=1e-6, abs_tol=1e-9),
               f"{name}: {c[name]['sd']} vs {mine[key]}")
    expect(0 < c["repeatability_ev"]["sd"] < 2, c["repeatability_ev"])
    expect(math.isclose(study["percent_grr"], 100 * mine["grr"] / mine["tv"], rel_tol=1e-6), study)
    expect(math.isclose(study["percent_grr_tolerance"], 100 * 6 * mine["grr"] / (390 - 260),
                        rel_tol=1e-6), study)
    expect(math.isclose(study["ndc"], 1.41 * mine["pv"] / mine["grr"], rel_tol=1e-6), study)


def test_a_study_that_cannot_be_designed_exits_2_saying_why(env):
    one = ["msa", env.suite("DR-192-0.50"), "--rig", "sim", "--roller", env.roller(ROLLERS[0])]
    proc = env.run_bench(*one, "--repeats", "2", "--out", env.out("msa-one"))
    expect(proc.returncode == 2 and "one roller is one part" in proc.stderr, describe(proc))
    proc = env.run_bench(*one, "--roller", env.roller(ROLLERS[1]), "--repeats", "1",
                         "--out", env.out("msa-once"))
    expect(proc.returncode == 2 and "at least 2 trials" in proc.stderr, describe(proc))
    proc = env.run_bench(*one, "--parts", "needles", "--lanes", "9", "--out", env.out("msa-lanes"))
    expect(proc.returncode == 2 and "--lanes 9" in proc.stderr, describe(proc))
    proc = env.run_bench("msa", env.suite("DR-192-0.50"), "--rig", "/dev/ttyACM0", "--roller",
                         env.roller(ROLLERS[0]), "--out", env.out("msa-device"))
    expect(proc.returncode == 2 and "--rig sim only" in proc.stderr, describe(proc))


if __name__ == "__main__":
    main(globals())
