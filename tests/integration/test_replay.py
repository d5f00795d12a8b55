"""`bench analyze CAPTURE`: a recorded run re-analysed without a rig reproduces the
original report exactly, can be re-judged against another spec, and old captures stay
readable."""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check_of, describe, expect, main  # noqa: E402


def load(path):
    with open(path) as f:
        return json.load(f)


def read_records(path):
    """A capture's records as (kind, raw bytes of the record, header included)."""
    with open(path, "rb") as f:
        data = f.read()
    records, at = [], 8  # after the magic
    while at < len(data):
        kind = data[at]
        (size,) = struct.unpack_from("<I", data, at + 9)
        records.append((kind, data[at: at + 13 + size]))
        at += 13 + size
    return records


def write_records(path, original, records):
    with open(original, "rb") as f:
        magic = f.read(8)
    with open(path, "wb") as f:
        f.write(magic + b"".join(raw for _, raw in records))


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
    """fixtures/captures holds a capture of format version 1 and its expected report; every
    later build must read it and reach the same checks. The expected report changes only
    with the analysis method, as a reviewed change (its version is in the report), and the
    replay says that the method differs from the one that judged the run when recorded."""
    capture = env.path("fixtures", "captures", "small-DR-192-0.50-v1.drcap")
    expected = load(env.path("fixtures", "captures", "small-DR-192-0.50-v1.report.json"))
    out = env.out("committed")
    again = analyze(env, capture, out)
    expect(again.returncode == expected["exit_code"], describe(again))
    replayed = load(os.path.join(out, "report.json"))
    method = replayed["analysis_method"]
    expect(method["version"] == expected["analysis_method"]["version"], method)
    expect(method["recorded_version"] == 1 and method["differs_from_recorded"], method)
    expect("judged by analysis method 1 when recorded, now by method" in again.stdout, again.stdout)
    expect(replayed["verdict"] == expected["verdict"], replayed["verdict"])
    for want, got in zip(expected["checks"], replayed["checks"]):
        expect(want["id"] == got["id"] and want["verdict"] == got["verdict"], (want["id"], got["verdict"]))
        if want["value"] is not None:
            expect(abs(want["value"] - got["value"]) <= 1e-6 * max(1.0, abs(want["value"])),
                   f"{want['id']}: {got['value']} != {want['value']}")


TWO_ROLLS = """suite: two-rolls-interrupted
spec: {spec}
description: Two rolls on two lanes, interrupted after the first.
watchdog_ms: 1000
steps:
  - home
  - tare
  - lane: 1
  - roll: {{start_mm: 10, stroke_mm: 40, speed_mm_s: 20, load_N: 10.2, passes: 1, sample_rate_hz: 500}}
  - scan: {{x_mm: 14, y_mm: 0, length_mm: 25, width_mm: 20, pitch_um: 40}}
  - checks: [penetration_depth, force_consistency, roll_slip]
  - lane: 2
  - roll: {{start_mm: 10, stroke_mm: 40, speed_mm_s: 20, load_N: 10.2, passes: 1, sample_rate_hz: 500}}
  - scan: {{x_mm: 14, y_mm: 0, length_mm: 25, width_mm: 20, pitch_um: 40}}
  - checks: [penetration_depth, force_consistency, roll_slip]
"""


def test_a_run_interrupted_between_steps_replays_as_aborted(env):
    """The first roll is judged (and would pass) before the operator interrupts: replay
    must keep the run's aborted verdict, not judge the partial data as a pass."""
    suite = env.out("two-rolls.yaml")
    with open(suite, "w") as f:
        f.write(TWO_ROLLS.format(spec=env.path("fixtures", "specs", "DR-192-0.50.yaml")))
    out = env.out("interrupted")
    # In real time the second roll takes seconds, so the interrupt surely lands before the
    # run could finish: between steps, or during one (the step then fails as aborted).
    proc = subprocess.Popen([env.bench, "run", suite, "--rig", "sim", "--realtime", "--roller",
                             env.roller("nominal-DR-192-0.50"), "--out", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = []
    for line in proc.stderr:  # progress lines; the interrupt follows the first roll's checks
        stderr.append(line)
        if "step 6/" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest_out, rest_err = proc.communicate(timeout=300)
    stderr.append(rest_err)
    expect(proc.returncode == 4, f"exit {proc.returncode}\n{rest_out}\n{''.join(stderr)[-3000:]}")
    live = load(os.path.join(out, "report.json"))
    expect(live["verdict"] == "aborted", live["verdict"])

    replay_out = env.out("interrupted-replay")
    again = analyze(env, os.path.join(out, "capture.drcap"), replay_out)
    expect(again.returncode == 4, describe(again))
    replayed = load(os.path.join(replay_out, "report.json"))
    expect(replayed["verdict"] == "aborted", replayed["verdict"])
    expect(replayed["error"] == live["error"] and replayed["error"], (replayed["error"], live["error"]))


def test_a_capture_without_its_last_steps_is_never_judged_on_the_partial_data(env):
    """An End record after fewer Step records than the suite has, none failed (a run that
    stopped between steps without recording why), keeps an aborted verdict, and is an
    error whatever else it says: the first roll alone would pass."""
    capture = env.out("interrupted/capture.drcap")
    expect(os.path.exists(capture), "needs the interrupted run of the test before")
    records = read_records(capture)
    step_kind, end_kind = 4, 5
    steps = [i for i, (kind, _) in enumerate(records) if kind == step_kind]
    expect(len(steps) >= 7, f"only {len(steps)} steps recorded")
    end = json.loads(records[-1][1][13:]) if records[-1][0] == end_kind else None
    expect(end is not None and end["verdict"] == "aborted", end)
    first_roll = records[: steps[5] + 1]  # through the first roll's checks step
    for verdict, code in [("aborted", 4), ("pass", 3)]:
        text = json.dumps(dict(end, verdict=verdict, error=None)).encode()
        end_record = bytes([end_kind]) + records[-1][1][1:9] + struct.pack("<I", len(text)) + text
        cut = env.out(f"six-steps-{verdict}.drcap")
        write_records(cut, capture, first_roll + [(end_kind, end_record)])
        out = env.out(f"six-steps-{verdict}-out")
        again = analyze(env, cut, out)
        expect(again.returncode == code, f"End says {verdict}: " + describe(again))
        report = load(os.path.join(out, "report.json"))
        expect(report["verdict"] == ("aborted" if verdict == "aborted" else "error"), report["verdict"])
        expect("the run ended after 6 of 10 steps" in report["error"], report["error"])
        expect(len(report["rolls"]) == 1, "the first roll is still reported")
        expect([s["status"] for s in report["steps"]] == ["ok"] * 6 + ["skipped"] * 4, report["steps"])

if __name__ == "__main__":
    main(globals())
