"""Measurements checked against ground truth on every run: a small accuracy study (8 seeded
nominal rollers over all five models, see scripts/accuracy-study) must meet the targets of
DESIGN section 7 that the full 200-roller study meets (docs/accuracy.md)."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, describe, expect, match_with_truth, rms, main  # noqa: E402


def test_nominal_rollers_are_measured_within_the_accuracy_targets(env):
    figures = env.out("accuracy.json")
    proc = subprocess.run([sys.executable, env.path("scripts", "accuracy-study"), "--rollers", "8",
                           "--first-seed", "7001", "--bin-dir", env.bin, "--jobs", "2",
                           "--json", figures], capture_output=True, text=True, timeout=900)
    print(proc.stdout)
    expect(proc.returncode in (0, 1), f"study broke (exit {proc.returncode}): {proc.stderr[-2000:]}")
    with open(figures) as f:
        study = json.load(f)
    total = study["total"]
    expect(total["rollers"] == 8 and len(study["models"]) == 5, study["models"].keys())
    expect(total["channels"] > 8 * 200, f"only {total['channels']} truth channels in 8 scans")
    expect(total["recall"] >= 0.999, f"recall {total['recall']:.5f} < 99.9 %")
    expect(total["precision"] >= 0.999, f"precision {total['precision']:.5f} < 99.9 %")
    expect(total["depth_rms_um"] <= 5.0, f"depth error {total['depth_rms_um']:.2f} um RMS > 5 um")
    # With 8 rollers, any rejection is more than 1 %: a nominal roller must pass.
    expect(total["rejected"] == 0, f"nominal rollers rejected: {total['rejected_rollers']}")
    expect(proc.returncode == 0, "study reports a target not met")


def test_the_study_refuses_an_unknown_model(env):
    proc = subprocess.run([sys.executable, env.path("scripts", "accuracy-study"), "--rollers", "1",
                           "--models", "DR-999", "--bin-dir", env.bin],
                          capture_output=True, text=True, timeout=60)
    expect(proc.returncode == 2 and "DR-999" in proc.stderr, (proc.returncode, proc.stderr))


def test_a_two_pass_roll_is_measured_against_truth_with_no_needle_missing(env):
    # The way back retraces the way out: one channel per hole, every impression of both
    # passes matched to it (fixtures/suites/two-pass-DR-192-0.50.yaml).
    out = env.out("two-pass")
    proc = env.run_bench("run", env.path("fixtures", "suites", "two-pass-DR-192-0.50.yaml"), "--rig", "sim",
                         "--roller", env.roller("nominal-DR-192-0.50"), "--out", out, "--quiet")
    expect(proc.returncode == 0, describe(proc))
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    with open(os.path.join(out, "rigsim-truth.json")) as f:
        truth = json.load(f)
    expect(report["verdict"] == "pass", report["verdict"])
    m = match_with_truth(report, truth)
    print(f"  two passes: {m['truth']} channels, recall {m['recall']:.4f}, precision {m['precision']:.4f}, "
          f"depth RMS {rms(m['depth_errors_um']):.2f} um")
    expect(m["truth"] > 150, m["truth"])
    expect(m["recall"] >= 0.999 and m["precision"] >= 0.999, (m["recall"], m["precision"]))
    expect(rms(m["depth_errors_um"]) <= 5.0, rms(m["depth_errors_um"]))
    missing = check_of(report, "missing_channels")
    figures = missing["figures"]
    figures = ({name: f["value"] for name, f in figures.items()} if isinstance(figures, dict)
               else {f["name"]: f["value"] for f in figures})
    # Both passes predicted inside the scan, all matched: about twice one pass's impressions.
    expect(figures["impressions_predicted"] > 1.8 * m["truth"], figures)
    expect(figures["impressions_missed"] == 0 and figures["unexpected_channels"] == 0, figures)
    # Per pass, the retraced track has the nominal density: each hole counts once per pass.
    density = check_of(report, "channel_density")
    expect(density["verdict"] == "pass", density)


def test_a_scan_that_misses_the_rolled_track_is_an_error_not_a_pass(env):
    # Rolled from 10 to 90 mm, scanned from 95 to 115 mm: no channel can be there.
    suite = env.out("scan-misses.yaml")
    with open(env.suite("DR-192-0.50")) as f:
        text = f.read()
    text = text.replace("spec: ../specs/", "spec: " + os.path.abspath(env.path("fixtures", "specs")) + "/")
    text = re.sub(r"scan: \{x_mm: [\d.]+, y_mm: [\d.]+, length_mm: [\d.]+",
                  "scan: {x_mm: 95, y_mm: 0, length_mm: 20", text)
    expect("x_mm: 95" in text, text)
    with open(suite, "w") as f:
        f.write(text)
    out = env.out("scan-misses")
    proc = env.run_bench("run", suite, "--rig", "sim", "--roller", env.roller("nominal-DR-192-0.50"), "--out",
                         out, "--quiet")
    expect(proc.returncode == 3, describe(proc))
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    expect(report["verdict"] == "error", report["verdict"])
    for check_id in ["penetration_depth", "channel_density", "missing_channels", "depth_uniformity"]:
        c = check_of(report, check_id)
        expect(c["verdict"] == "error" and c["summary"], f"{check_id}: {c['verdict']}: {c['summary']}")
    expect(all(c["verdict"] != "fail" for c in report["checks"]), report["checks"])


if __name__ == "__main__":
    main(globals())
