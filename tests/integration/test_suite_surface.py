"""A suite's `phantom:` and `scanner:` sections (fixtures/rollers/README.md): with --rig sim
they replace the mounted roller file's, reach rigsim as --phantom / --scanner and are
recorded in its truth file; a bad section is rigsim's to report, and bench exits 2 with its
message; the capture embeds the suite, so `bench analyze` reproduces such a run."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, describe, expect, main  # noqa: E402

ROLLER = "nominal-DR-192-0.50"


def suite_with(env, name, sections):
    """validate-DR-192-0.50.yaml plus `sections` (its spec path made absolute)."""
    with open(env.suite("DR-192-0.50")) as f:
        text = f.read()
    text = text.replace("spec: ../specs/", "spec: " + env.path("fixtures", "specs") + "/")
    text = text.replace("steps:\n", sections + "steps:\n", 1)
    path = env.out(name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def run(env, suite, name):
    """bench run SUITE --rig sim on the nominal roller: (proc, report, truth, out dir)."""
    out = env.out(name)
    proc = env.run_bench("run", suite, "--rig", "sim", "--roller", env.roller(ROLLER), "--out", out, "--quiet")
    return proc, load(os.path.join(out, "report.json")), load(os.path.join(out, "rigsim-truth.json")), out


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def test_a_harsh_scanner_from_the_suite_on_a_nominal_roller_does_not_pass(env):
    suite = suite_with(env, "harsh-scanner", "scanner: {preset: harsh}\n")
    proc, report, truth, out = run(env, suite, "harsh-scanner")
    expect(proc.returncode in (1, 3), describe(proc))
    expect(report["verdict"] in ("fail", "error"), report["verdict"])
    # The harsh scanner cannot read some floors: those needles' depth is unknown.
    depth = check_of(report, "penetration_depth")
    expect(depth["verdict"] == "error", depth)
    expect("floor" in proc.stdout and "needle d" in proc.stdout, proc.stdout)
    # The truth file records the scanner the suite asked for, and the roller file's phantom.
    scan = truth["scans"][-1]
    expect(scan["scanner"]["preset"] == "harsh" and scan["scanner"]["floor_loss"] == 0.03, scan["scanner"])
    expect(scan["phantom"]["preset"] == "typical", scan["phantom"])
    expect(any(c.get("floor_lost") for c in truth["channels"]), "the harsh scanner lost some floors")

    # The capture embeds the suite: bench analyze reproduces the run without a rig.
    again = env.run_bench("analyze", os.path.join(out, "capture.drcap"), "--out", env.out("harsh-replay"))
    expect(again.returncode == proc.returncode, describe(again))
    replayed = load(env.out("harsh-replay/report.json"))
    expect(replayed == report, "the replayed report differs from the live one")


def test_an_ideal_phantom_and_scanner_from_the_suite_pass(env):
    suite = suite_with(env, "ideal", "phantom: {preset: ideal}\nscanner:\n  preset: ideal\n")
    proc, report, truth, _ = run(env, suite, "ideal")
    expect(proc.returncode == 0, describe(proc))
    expect(report["verdict"] == "pass", report["verdict"])
    scan = truth["scans"][-1]
    expect(scan["phantom"]["preset"] == "ideal" and scan["scanner"]["preset"] == "ideal", scan)


def test_a_bad_scanner_key_exits_2_with_rigsims_message(env):
    suite = suite_with(env, "bad-scanner", "scanner: {preset: harsh, noize_um: 3}\n")
    proc, report, _, _ = run(env, suite, "bad-scanner")
    expect(proc.returncode == 2, describe(proc))
    expect("--scanner: line 1: unknown key 'scanner.noize_um'" in proc.stderr, proc.stderr)
    expect(f"the suite's 'scanner' at {suite}:" in proc.stderr, proc.stderr)
    expect(report is not None and report["verdict"] == "error" and report["exit_code"] == 2, report)
    expect("verdict: ERROR (exit 2)" in proc.stdout, proc.stdout)


def test_rigsim_refuses_a_bad_option_with_exit_2(env):
    proc = subprocess.run([env.rigsim, "--roller", env.roller(ROLLER), "--link", env.out("never-rig"),
                           "--phantom", "{preset: rough}"], capture_output=True, text=True, timeout=30)
    expect(proc.returncode == 2, describe(proc))
    expect("rigsim: --phantom: line 1: unknown phantom preset 'rough'" in proc.stderr, proc.stderr)
    expect(not os.path.lexists(env.out("never-rig")), "no link for a rig that never served")


def test_a_real_rig_refuses_the_sample_harsh_scan_suite(env):
    suite = env.path("fixtures", "suites", "validate-DR-192-0.50-harsh-scan.yaml")
    proc = env.run_bench("run", suite, "--rig", "/dev/ttyDOESNOTEXIST", "--serial", "R1",
                         "--out", env.out("device"))
    expect(proc.returncode == 2, describe(proc))
    expect("'phantom' sets the virtual rig's phantom: run this suite with --rig sim" in proc.stderr,
           proc.stderr)


if __name__ == "__main__":
    main(globals())
