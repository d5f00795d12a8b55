"""missing_channels judges the whole roller or nothing: a scan that covers only part of the
drum's revolution cannot see every needle, so it is never a pass. The quick suite, whose
25 mm window covers part of the 62.8 mm circumference, leaves the check out for that
reason; run with every check it is an error even for a roller missing a needle."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, describe, expect, main  # noqa: E402


def quick_suite_with_every_check(env):
    """The shipped quick suite with its check list replaced by [all]."""
    with open(env.path("fixtures", "suites", "quick-DR-192-0.50.yaml")) as f:
        lines = f.read().splitlines()
    spec = env.path("fixtures", "specs", "DR-192-0.50.yaml")
    out = []
    for line in lines:
        if line.startswith("spec:"):
            line = f"spec: {spec}"
        elif line.strip().startswith("- checks:"):
            line = "  - checks: [all]"
        out.append(line)
    path = env.out("quick-all-checks.yaml")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def test_the_quick_suite_leaves_missing_channels_out(env):
    with open(env.path("fixtures", "suites", "quick-DR-192-0.50.yaml")) as f:
        text = f.read()
    checks = [l for l in text.splitlines() if l.strip().startswith("- checks:")]
    expect(len(checks) == 1 and "missing_channels" not in checks[0] and "all" not in checks[0], checks)


def test_a_partial_revolution_scan_of_a_roller_missing_a_needle_is_not_a_pass(env):
    out = env.out("quick-missing")
    proc = env.run_bench("run", quick_suite_with_every_check(env), "--rig", "sim", "--roller",
                         env.roller("defect-missing"), "--out", out, "--quiet")
    expect(proc.returncode == 3, describe(proc))
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    expect(report["verdict"] == "error", report["verdict"])
    missing = check_of(report, "missing_channels")
    expect(missing["verdict"] == "error", missing)
    expect("of 192 needles" in missing["summary"] and "drum circumference (pi*D" in missing["summary"],
           missing["summary"])
    judged = missing["figures"]["needles_judged"]["value"]
    expect(0 < judged < 192, missing["figures"])


def test_the_validation_suite_still_passes_nominal_and_fails_a_missing_needle(env):
    for roller, code, verdict in [("nominal-DR-192-0.50", 0, "pass"), ("defect-missing", 1, "fail")]:
        proc, report, _ = env.run_suite("DR-192-0.50", roller, "validate-" + roller, "--quiet")
        expect(proc.returncode == code, describe(proc))
        missing = check_of(report, "missing_channels")
        expect(missing["verdict"] == verdict, missing)
        expect(missing["figures"]["needles_judged"]["value"] == 192, missing["figures"])


if __name__ == "__main__":
    main(globals())
