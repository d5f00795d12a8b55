"""`bench analyze CAPTURE`: a recorded run re-analysed without a rig reproduces the
original report exactly, can be re-judged against another spec, and old captures stay
readable."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, describe, expect, main  # noqa: E402


def load(path):
    with open(path) as f:
        return json.load(f)


def analyze(env, capture, out, *extra):
    return env.run_bench("analyze", capture, "--out", out, *extra)


def test_replay_reproduces_the_live_report_exactly(env):
    for roller, code in [("nominal-DR-192-0.50", 0), ("defect-bent", 1)]:
        proc, live, out = env.run_suite("DR-192-0.50", roller, "live-" + roller)
        expect(proc.returncode == code, describe(proc))
        replay_out = env.out("replay-" + roller)
        again = analyze(env, os.path.join(out, "capture.drcap"), replay_out)
        expect(again.returncode == code, describe(again))
        replayed = load(os.path.join(replay_out, "report.json"))
        for key in live:
            expect(replayed.get(key) == live[key], f"{roller}: report.json differs at '{key}'")
        expect(replayed == live, f"{roller}: replayed report differs")
        with open(os.path.join(out, "junit.xml")) as a, open(os.path.join(replay_out, "junit.xml")) as b:
            expect(a.read() == b.read(), "junit.xml differs")


def test_replay_rejudges_against_another_spec(env):
    proc, live, out = env.run_suite("DR-192-0.50", "nominal-DR-192-0.50", "rejudge")
    expect(proc.returncode == 0, describe(proc))
    # The same roller judged against a spec that wants deeper channels fails, with no rig.
    with open(env.path("fixtures", "specs", "DR-192-0.50.yaml")) as f:
        text = f.read()
    strict = env.out("strict-spec.yaml")
    with open(strict, "w") as f:
        f.write(text.replace("lsl_um: 260", "lsl_um: 340"))
    replay_out = env.out("rejudged")
    again = analyze(env, os.path.join(out, "capture.drcap"), replay_out, "--spec", strict)
    expect(again.returncode == 1, describe(again))
    replayed = load(os.path.join(replay_out, "report.json"))
    depth = check_of(replayed, "penetration_depth")
    expect(depth["verdict"] == "fail" and depth["lower_limit"] == 340, depth)
    expect(depth["value"] == check_of(live, "penetration_depth")["value"], "same data, same depth")


def test_a_capture_cut_by_a_crash_is_an_error_never_a_pass(env):
    proc, _, out = env.run_suite("DR-192-0.50", "nominal-DR-192-0.50", "cut")
    expect(proc.returncode == 0, describe(proc))
    capture = os.path.join(out, "capture.drcap")
    cut = env.out("cut.drcap")
    with open(capture, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2])
    again = analyze(env, cut, env.out("cut-out"))
    expect(again.returncode == 3, describe(again))
    report = load(env.out("cut-out/report.json"))
    expect(report["verdict"] == "error" and "ends before the run did" in report["error"], report["error"])


def test_a_file_that_is_not_a_capture_exits_2(env):
    bogus = env.out("bogus.drcap")
    with open(bogus, "w") as f:
        f.write("not a capture")
    again = analyze(env, bogus, env.out("bogus-out"))
    expect(again.returncode == 2, describe(again))
    expect("bogus.drcap" in again.stderr, again.stderr)


def test_the_committed_version_1_capture_still_analyses_to_its_report(env):
    """fixtures/captures holds a capture of format version 1 and the report it produced;
    every later build must read it and reach the same checks."""
    capture = env.path("fixtures", "captures", "small-DR-192-0.50-v1.drcap")
    expected = load(env.path("fixtures", "captures", "small-DR-192-0.50-v1.report.json"))
    out = env.out("committed")
    again = analyze(env, capture, out)
    expect(again.returncode == expected["exit_code"], describe(again))
    replayed = load(os.path.join(out, "report.json"))
    expect(replayed["verdict"] == expected["verdict"], replayed["verdict"])
    for want, got in zip(expected["checks"], replayed["checks"]):
        expect(want["id"] == got["id"] and want["verdict"] == got["verdict"], (want["id"], got["verdict"]))
        if want["value"] is not None:
            expect(abs(want["value"] - got["value"]) <= 1e-6 * max(1.0, abs(want["value"])),
                   f"{want['id']}: {got['value']} != {want['value']}")


if __name__ == "__main__":
    main(globals())
