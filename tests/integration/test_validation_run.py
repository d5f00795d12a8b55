"""`bench run` against rigsim over a real pty: nominal rollers pass, measured against the
virtual rig's ground truth; each defect kind fails the check that should catch it."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, compare_with_truth, describe, expect, main  # noqa: E402

SCAN_RECT = (12000.0, 0.0, 70000.0, 20000.0)  # the shipped suites' scan: x0, y0, length, width


def test_nominal_roller_passes_and_measures_what_the_rig_made(env):
    proc, report, out = env.run_suite("DR-192-0.50", "nominal-DR-192-0.50", "nominal")
    expect(proc.returncode == 0, describe(proc))
    expect(report["verdict"] == "pass", report["verdict"])
    ids = [c["id"] for c in report["checks"]]
    for required in ["penetration_depth", "channel_density", "missing_channels", "force_consistency",
                     "depth_uniformity", "roll_slip"]:
        expect(required in ids, f"{required} missing from {ids}")
    for c in report["checks"]:
        expect(c["verdict"] == "pass", f"{c['id']}: {c}")
        expect(c["value"] is not None and c["unit"], c)
    expect(os.path.getsize(os.path.join(out, "junit.xml")) > 0, "junit.xml empty")
    with open(os.path.join(out, "capture.drcap"), "rb") as f:
        expect(f.read(8) == b"DRCAP\x00\x01\n", "capture magic")
    recall, precision, rms, n = compare_with_truth(report, os.path.join(out, "rigsim-truth.json"), SCAN_RECT)
    print(f"  nominal: {n} channels in truth, recall {recall:.4f}, precision {precision:.4f}, depth RMS {rms:.2f} um")
    expect(n > 150, f"only {n} truth channels in the scan window")
    expect(recall >= 0.999, f"recall {recall}")
    expect(precision >= 0.999, f"precision {precision}")
    expect(rms <= 5.0, f"depth RMS error {rms} um")
    expect("PASS" in proc.stdout and "verdict: PASS (exit 0)" in proc.stdout, proc.stdout)


def test_bench_starts_without_libpq_or_cairo(env):
    """They are opened when a PostgreSQL store is or a certificate is drawn, not by every
    invocation (docs/performance.md: they were half of bench's start-up)."""
    proc = subprocess.run(["ldd", env.bench], capture_output=True, text=True)
    expect(proc.returncode == 0, describe(proc))
    for library in ("libpq.so", "libcairo.so"):
        expect(library not in proc.stdout, f"bench loads {library} at start:\n{proc.stdout}")


def needle_named(check, disc, index):
    return any(f["needle"] == {"disc": disc, "index": index} for f in check["findings"])


def run_defect(env, name):
    proc, report, _ = env.run_suite("DR-192-0.50", name, name)
    expect(proc.returncode == 1, describe(proc))
    expect(report["verdict"] == "fail", report["verdict"])
    return report


def test_missing_needle_fails_missing_channels_naming_it(env):
    c = check_of(run_defect(env, "defect-missing"), "missing_channels")
    expect(c["verdict"] == "fail" and c["value"] >= 1, c)
    expect(needle_named(c, 3, 7), c["findings"])


def test_bent_needle_fails_penetration_depth_naming_it(env):
    c = check_of(run_defect(env, "defect-bent"), "penetration_depth")
    expect(c["verdict"] == "fail", c)
    expect(needle_named(c, 1, 0), c["findings"])


def test_blunt_needle_fails_penetration_depth_naming_it(env):
    c = check_of(run_defect(env, "defect-blunt"), "penetration_depth")
    expect(c["verdict"] == "fail", c)
    expect(needle_named(c, 5, 12), c["findings"])


def test_eccentric_drum_fails_depth_uniformity(env):
    c = check_of(run_defect(env, "defect-eccentric"), "depth_uniformity")
    expect(c["verdict"] == "fail", c)


def test_tilted_axle_fails_depth_uniformity(env):
    c = check_of(run_defect(env, "defect-tilt"), "depth_uniformity")
    expect(c["verdict"] == "fail", c)


def test_slipping_drum_fails_roll_slip(env):
    report = run_defect(env, "defect-slip")
    c = check_of(report, "roll_slip")
    expect(c["verdict"] == "fail", c)
    expect(4.0 <= c["value"] <= 6.0, f"slip measured {c['value']} %, rig applied 5 %")


if __name__ == "__main__":
    main(globals())
