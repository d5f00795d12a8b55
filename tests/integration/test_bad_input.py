"""Bad input and broken links: each gives the documented exit code and a clear message,
never a pass."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import describe, expect, main  # noqa: E402


def write(env, name, text):
    path = env.out(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_malformed_suite_exits_2_naming_file_and_line(env):
    spec = env.path("fixtures", "specs", "DR-192-0.50.yaml")
    suite = write(env, "bad/suite.yaml",
                  f"suite: broken\nspec: {spec}\nsteps:\n  - home\n  - roll: {{start_mm: 10, stroke_mm: eighty, speed_mm_s: 20, load_N: 10}}\n")
    proc = env.run_bench("run", suite, "--rig", "sim", "--roller", env.roller("nominal-DR-192-0.50"),
                         "--out", env.out("bad/out"))
    expect(proc.returncode == 2, describe(proc))
    expect(f"{suite}:5:" in proc.stderr and "stroke_mm" in proc.stderr, proc.stderr)
    expect(not os.path.exists(env.out("bad/out/report.json")), "no report for a suite that never ran")


def test_missing_spec_exits_2_naming_the_spec(env):
    suite = write(env, "nospec/suite.yaml",
                  "suite: nospec\nspec: ../specs/DR-999.yaml\nsteps:\n  - home\n")
    proc = env.run_bench("run", suite, "--rig", "sim", "--roller", env.roller("nominal-DR-192-0.50"),
                         "--out", env.out("nospec/out"))
    expect(proc.returncode == 2, describe(proc))
    expect("DR-999.yaml" in proc.stderr, proc.stderr)


def test_malformed_roller_file_exits_2(env):
    roller = write(env, "badroller/roller.yaml",
                   "model: DR-192-0.50\nserial: X\ngeometry: {discs: 8, needles_per_disc: 24, drum_diameter_mm: 20.0,\n"
                   "  width_mm: 20.0, needle_length_mm: 0.5, needle_diameter_mm: 0.25}\nseed: 1\n"
                   "defects:\n  - {kind: melted, disc: 1, index: 2}\n")
    proc = env.run_bench("run", env.suite("DR-192-0.50"), "--rig", "sim", "--roller", roller,
                         "--out", env.out("badroller/out"))
    expect(proc.returncode == 2, describe(proc))
    expect("melted" in proc.stderr + proc.stdout, describe(proc))


def test_usage_errors_exit_2(env):
    base = ["run", env.suite("DR-192-0.50"), "--out", env.out("usage")]
    for args, needle in [
        (["--rig", "sim"], "--roller"),
        (["--rig", "/dev/ttyACM9", "--roller", env.roller("nominal-DR-192-0.50")], "--roller belongs to --rig sim"),
        (["--rig", "sim", "--roller", env.roller("nominal-DR-192-0.50"), "--bogus"], "bogus"),
    ]:
        proc = env.run_bench(*base, *args)
        expect(proc.returncode == 2, f"{args}: {describe(proc)}")
        expect(needle in proc.stderr, f"{args}: {proc.stderr}")


def test_nonexistent_device_exits_3_naming_it(env):
    proc = env.run_bench("run", env.suite("DR-192-0.50"), "--rig", "/dev/ttyDOESNOTEXIST", "--serial", "R1",
                         "--out", env.out("nodev"))
    expect(proc.returncode == 3, describe(proc))
    expect("/dev/ttyDOESNOTEXIST" in proc.stdout + proc.stderr, describe(proc))
    with open(env.out("nodev/report.json")) as f:
        report = json.load(f)
    expect(report["verdict"] == "error", report["verdict"])


def start_rigsim(env, link, *extra):
    log = open(env.out(os.path.basename(link) + ".log"), "w")
    proc = subprocess.Popen([env.rigsim, "--roller", env.roller("nominal-DR-192-0.50"), "--link", link, *extra],
                            stderr=log)
    for _ in range(500):
        if os.path.islink(link):
            return proc
        time.sleep(0.01)
    proc.kill()
    raise AssertionError(f"rigsim did not create {link}")


def test_a_device_path_works_like_sim(env):
    """rigsim served standalone on a link; bench opens it as any serial device."""
    link = env.out("standalone-rig")
    rig = start_rigsim(env, link)
    try:
        proc = env.run_bench("run", env.suite("DR-192-0.50"), "--rig", link, "--serial", "SIM-0001",
                             "--out", env.out("standalone"))
    finally:
        rig.send_signal(signal.SIGTERM)
        rig.wait(timeout=10)
    expect(proc.returncode == 0, describe(proc))
    with open(env.out("standalone/report.json")) as f:
        report = json.load(f)
    expect(report["roller"]["serial"] == "SIM-0001", report["roller"])
    expect(not os.path.lexists(link), "rigsim removes its link on exit")


def test_rigsim_killed_mid_run_exits_3_and_keeps_the_capture(env):
    link = env.out("doomed-rig")
    rig = start_rigsim(env, link, "--realtime")
    out = env.out("killed")
    bench = subprocess.Popen([env.bench, "run", env.suite("DR-192-0.50"), "--rig", link, "--serial", "SIM-0001",
                              "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Kill the rig once the roll is streaming (bench's progress on stderr says so); the capture is
    # written in 256 kB pieces, so its size on disk cannot tell.
    capture = os.path.join(out, "capture.drcap")
    seen = []
    streaming = threading.Event()

    def read_progress():  # a thread, so that a bench that prints nothing cannot hang the test
        for line in bench.stderr:
            seen.append(line)
            if "roll 0: 25 %" in line:
                streaming.set()

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    ok = streaming.wait(timeout=30)
    rig.kill()
    rig.wait()
    expect(ok, "bench reported the roll streaming within 30 s:\n" + "".join(seen))
    bench.wait(timeout=60)  # its stderr is the reader's; its stdout is a few lines
    stdout = bench.stdout.read()
    reader.join(timeout=10)
    stderr = "".join(seen)
    expect(bench.returncode == 3, f"exit {bench.returncode}\n{stdout}\n{stderr}")
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    expect(report["verdict"] == "error", report["verdict"])
    expect(report["error"] and "roll" in report["error"], report["error"])
    expect(os.path.getsize(capture) > 20000, "capture kept what was recorded")


def test_a_rig_past_its_calibration_due_date_measures_nothing(env):
    link = env.out("expired-rig")
    rig = start_rigsim(env, link, "--calibration-due", "2020-01-31")
    try:
        proc = env.run_bench("run", env.suite("DR-192-0.50"), "--rig", link, "--serial", "SIM-0001",
                             "--out", env.out("expired"))
    finally:
        rig.send_signal(signal.SIGTERM)
        rig.wait(timeout=10)
    expect(proc.returncode == 3, describe(proc))
    with open(env.out("expired/report.json")) as f:
        report = json.load(f)
    expect(report["verdict"] == "error" and "calibration expired on 2020-01-31" in report["error"], report["error"])
    expect(report["checks"] == [], "no check judged on an uncalibrated rig")


def test_a_roller_serial_that_is_not_utf8_does_not_crash_the_run(env):
    with open(env.roller("nominal-DR-192-0.50"), "rb") as f:
        text = f.read()
    bad = env.out("latin1/roller.yaml")
    os.makedirs(os.path.dirname(bad), exist_ok=True)
    import re
    with open(bad, "wb") as f:
        f.write(re.sub(rb"serial: *[^\n]*", b"serial: SIM-\xe9\xff", text, count=1))
    proc = env.run_bench("run", env.suite("DR-192-0.50"), "--rig", "sim", "--roller", bad,
                         "--out", env.out("latin1/out"))
    expect(proc.returncode == 0, describe(proc))  # judged like any roller, never a crash
    with open(env.out("latin1/out/report.json")) as f:
        report = json.load(f)  # valid JSON: the bad bytes are replaced
    expect(report["roller"]["serial"].startswith("SIM-"), report["roller"])


def test_a_run_whose_capture_cannot_be_written_in_full_is_not_a_pass(env):
    import resource

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))

    out = env.out("fsize")
    proc = subprocess.run([env.bench, "run", env.suite("DR-192-0.50"), "--rig", "sim", "--roller",
                           env.roller("nominal-DR-192-0.50"), "--out", out],
                          capture_output=True, text=True, timeout=300, preexec_fn=limit_file_size)
    expect(proc.returncode == 3, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-2000:]}")
    expect("capture file is incomplete" in proc.stdout + proc.stderr, proc.stdout)


if __name__ == "__main__":
    main(globals())
