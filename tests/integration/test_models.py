"""Every shipped model's validation suite passes a nominal roller of that model, measured
against rigsim's ground truth."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import compare_with_truth, describe, expect, main  # noqa: E402

SCAN_RECT = (12000.0, 0.0, 70000.0, 20000.0)


def check_model(env, model):
    proc, report, out = env.run_suite(model, f"nominal-{model}", model)
    expect(proc.returncode == 0, describe(proc))
    recall, precision, rms, n = compare_with_truth(report, os.path.join(out, "rigsim-truth.json"), SCAN_RECT)
    print(f"  {model}: {n} channels, recall {recall:.4f}, precision {precision:.4f}, depth RMS {rms:.2f} um")
    expect(recall >= 0.999 and precision >= 0.999 and rms <= 5.0, (recall, precision, rms))


def test_dr_192_0_25(env):
    check_model(env, "DR-192-0.25")


def test_dr_192_1_00(env):
    check_model(env, "DR-192-1.00")


def test_dr_192_1_50(env):
    check_model(env, "DR-192-1.50")


def test_dr_540_0_50(env):
    check_model(env, "DR-540-0.50")


if __name__ == "__main__":
    main(globals())
