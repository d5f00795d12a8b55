"""Small harness for the integration tests: runs the real binaries, collects failures.

Each test_*.py is one CTest test; inside, every function named test_* runs in order and the
script exits non-zero if any failed. Standard library only.
"""
import argparse
import bisect
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback


class Env:
    def __init__(self):
        parser = argparse.ArgumentParser()
        parser.add_argument("--bin-dir", required=True)
        parser.add_argument("--source-dir", required=True)
        parser.add_argument("-k", default="", help="run only tests whose name contains this")
        args = parser.parse_args()
        self.bin = os.path.abspath(args.bin_dir)
        self.src = os.path.abspath(args.source_dir)
        self.filter = args.k
        self.bench = os.path.join(self.bin, "bench")
        self.rigsim = os.path.join(self.bin, "rigsim")
        self.tmp = tempfile.mkdtemp(prefix="dermabench-it-")

    def path(self, *parts):
        return os.path.join(self.src, *parts)

    def suite(self, model):
        return self.path("fixtures", "suites", f"validate-{model}.yaml")

    def roller(self, name):
        return self.path("fixtures", "rollers", f"{name}.yaml")

    def out(self, name):
        return os.path.join(self.tmp, name)

    def run_bench(self, *args, timeout=300):
        started = time.monotonic()
        proc = subprocess.run([self.bench, *args], capture_output=True, text=True, errors="replace", timeout=timeout)
        proc.seconds = time.monotonic() - started
        return proc

    def run_suite(self, model, roller, name, *extra):
        out = self.out(name)
        proc = self.run_bench("run", self.suite(model), "--rig", "sim", "--roller", self.roller(roller),
                              "--out", out, *extra)
        report = None
        if os.path.exists(os.path.join(out, "report.json")):
            with open(os.path.join(out, "report.json")) as f:
                report = json.load(f)
        return proc, report, out


def check_of(report, check_id):
    for c in report["checks"]:
        if c["id"] == check_id:
            return c
    raise AssertionError(f"report has no check {check_id}: {[c['id'] for c in report['checks']]}")


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def describe(proc):
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-3000:]}"


def scan_rect_of(truth):
    """The window (x0, y0, length, width) in um of the truth file's last scan."""
    s = truth["scans"][-1]
    return (s["x0_um"], s["y0_um"], s["rows"] * s["pitch_um"], s["cols"] * s["pitch_um"])


def match_with_truth(report, truth, scan_rect=None, edge_margin_um=300.0, same_within_um=60.0):
    """Pairs measured channels (report rolls[].channels) with rigsim's truth channels.

    Only channels whose centre lies inside the scanned window by edge_margin_um count, on
    both sides: the window may cut the others. Nearest unused measured channel within
    same_within_um, truth channels in file order. Returns a dict: truth, measured, matched,
    depth_errors_um (measured - truth), centre_errors_um, missed and unexpected (channel
    lists), recall, precision.
    """
    x0, y0, length, width = scan_rect or scan_rect_of(truth)
    def inside(x, y):
        return (x0 + edge_margin_um <= x <= x0 + length - edge_margin_um and
                y0 + edge_margin_um <= y <= y0 + width - edge_margin_um)
    expected = [c for c in truth["channels"]
                if c.get("depth_um") is not None and inside(c["x_um"], c["y_um"])]
    measured = [c for r in report["rolls"] for c in r["channels"] if inside(c["x_um"], c["y_um"])]
    measured_by_x = sorted(range(len(measured)), key=lambda i: measured[i]["x_um"])
    xs = [measured[i]["x_um"] for i in measured_by_x]
    used = set()
    depth_errors, centre_errors, missed = [], [], []
    for t in expected:
        best, best_d = None, same_within_um
        k = bisect.bisect_left(xs, t["x_um"] - same_within_um)
        while k < len(xs) and xs[k] <= t["x_um"] + same_within_um:
            i = measured_by_x[k]
            k += 1
            if i in used:
                continue
            d = math.hypot(measured[i]["x_um"] - t["x_um"], measured[i]["y_um"] - t["y_um"])
            if d < best_d:
                best, best_d = i, d
        if best is None:
            missed.append(t)
            continue
        used.add(best)
        depth_errors.append(measured[best]["depth_um"] - t["depth_um"])
        centre_errors.append(best_d)
    return {
        "truth": len(expected),
        "measured": len(measured),
        "matched": len(depth_errors),
        "depth_errors_um": depth_errors,
        "centre_errors_um": centre_errors,
        "missed": missed,
        "unexpected": [measured[i] for i in range(len(measured)) if i not in used],
        "recall": len(depth_errors) / max(1, len(expected)),
        "precision": len(used) / max(1, len(measured)),
    }


def rms(values):
    return math.sqrt(sum(v * v for v in values) / max(1, len(values)))


def compare_with_truth(report, truth_path, scan_rect, edge_margin_um=300.0):
    """Matches measured channels with rigsim's ground truth inside the scanned window.

    Returns (recall, precision, depth_rms_um, n_truth). Channels within edge_margin_um of the
    scan edge are left out of both sides: they may be cut by the window.
    """
    with open(truth_path) as f:
        truth = json.load(f)
    m = match_with_truth(report, truth, scan_rect, edge_margin_um)
    return m["recall"], m["precision"], rms(m["depth_errors_um"]), m["truth"]


def main(module_globals):
    env = Env()
    tests = [(n, f) for n, f in module_globals.items() if n.startswith("test_") and callable(f)]
    failed = []
    for name, fn in tests:
        if env.filter and env.filter not in name:
            continue
        started = time.monotonic()
        try:
            fn(env)
            print(f"PASS {name} ({time.monotonic() - started:.1f} s)", flush=True)
        except Exception:
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - started:.1f} s)", flush=True)
            traceback.print_exc()
    print(f"{len(tests) - len(failed)} passed, {len(failed)} failed", flush=True)
    if not failed:
        subprocess.run(["rm", "-rf", env.tmp])
    else:
        print(f"outputs kept in {env.tmp}")
    sys.exit(1 if failed else 0)
