"""bench submit: the CI client against the real daemon (`bench serve --rig sim`).

Starts `bench serve --rig sim --listen 127.0.0.1:0` on a private data directory, reads its
port from stderr, and runs `bench submit` as a CI job would: a nominal roller passes with
its files downloaded, a defective one fails, two rollers share one submit, a wrong token
and an unknown suite are bad input, a server nobody listens on is exit 3, and a run past
--timeout is cancelled on the server (exit 4).
"""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import describe, expect  # noqa: E402

CI_TOKEN = "ci-submit-secret-0123456789abcdef"
NOMINAL = "SIM-N192-050"
BENT = "SIM-D-BENT"
QUICK = "quick-DR-192-0.50.yaml"
VALIDATE = "validate-DR-192-0.50.yaml"
FILES = ["report.json", "junit.xml", "report.html", "capture.drcap"]


class Daemon:
    """One `bench serve` for the whole file; stopped at the end by its pid."""

    def __init__(self, env):
        tokens = env.out("tokens.yaml")
        with open(tokens, "w") as f:
            f.write(f"tokens:\n  - {{name: ci-main, role: ci, token: \"{CI_TOKEN}\"}}\n")
        self.proc = subprocess.Popen(
            [env.bench, "serve", "--rig", "sim", "--listen", "127.0.0.1:0", "--token-file", tokens,
             "--data", env.out("serve-data"), "--suites", env.path("fixtures", "suites"),
             "--rollers", env.path("fixtures", "rollers")],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.log = []
        self.url = None
        deadline = time.monotonic() + 30
        while self.url is None:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError(f"bench serve exited: {''.join(self.log)}")
            self.log.append(line)
            m = re.search(r"listening on (http://[^\s]+)", line)
            if m:
                self.url = m.group(1)
            expect(time.monotonic() < deadline, "bench serve did not start listening")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def run(self, run_id):
        with urllib.request.urlopen(f"{self.url}/api/v1/runs/{run_id}", timeout=30) as resp:
            return json.load(resp)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


_daemon = None


def daemon(env):
    global _daemon
    if _daemon is None:
        _daemon = Daemon(env)
        atexit.register(lambda: _daemon.proc.poll() is None and _daemon.proc.kill())
    return _daemon


def token_file(env):
    path = env.out("ci-token")
    with open(path, "w") as f:
        f.write(CI_TOKEN + "\n")
    return path


def submit(env, suite, rollers, out_name, *extra, server=None, token_args=None, timeout=300):
    args = ["submit", suite, "--server", server or daemon(env).url, "--requester", "integration test",
            "--out", env.out(out_name)]
    for serial in rollers:
        args += ["--roller", serial]
    args += token_args if token_args is not None else ["--token-file", token_file(env)]
    return env.run_bench(*args, *extra, timeout=timeout)


def load_report(directory):
    with open(os.path.join(directory, "report.json")) as f:
        return json.load(f)


def test_a_nominal_roller_passes_and_its_files_are_downloaded(env):
    proc = submit(env, QUICK, [NOMINAL], "nominal")
    expect(proc.returncode == 0, describe(proc))
    out = env.out("nominal")
    for name in FILES:
        expect(os.path.getsize(os.path.join(out, name)) > 0, f"{name} missing or empty")
    report = load_report(out)
    expect(report["verdict"] == "pass", report["verdict"])
    expect(report["roller"]["serial"] == NOMINAL, report["roller"])
    with open(os.path.join(out, "capture.drcap"), "rb") as f:
        expect(f.read(8) == b"DRCAP\x00\x01\n", "capture magic")
    with open(os.path.join(out, "junit.xml")) as f:
        expect("<testsuite" in f.read(), "junit.xml is not JUnit")
    expect("step 4/6: roll" in proc.stderr, f"no progress streamed:\n{proc.stderr}")
    expect("verdict: PASS (exit 0)" in proc.stdout, proc.stdout)
    expect(re.search(r"penetration_depth\s+PASS", proc.stdout), proc.stdout)


def test_a_defective_roller_fails_with_the_needle_named(env):
    proc = submit(env, VALIDATE, [BENT], "bent")
    expect(proc.returncode == 1, describe(proc))
    report = load_report(env.out("bent"))
    expect(report["verdict"] == "fail", report["verdict"])
    expect(re.search(r"penetration_depth\s+FAIL", proc.stdout), proc.stdout)
    expect("needle d1 i0" in proc.stdout, proc.stdout)


def test_two_rollers_in_one_submit_get_a_folder_each_and_the_worst_exit_code(env):
    proc = submit(env, VALIDATE, [NOMINAL, BENT], "two")
    expect(proc.returncode == 1, describe(proc))
    verdicts = {}
    for serial in (NOMINAL, BENT):
        directory = os.path.join(env.out("two"), serial)
        for name in FILES:
            expect(os.path.exists(os.path.join(directory, name)), f"{serial}/{name} missing")
        report = load_report(directory)
        expect(report["roller"]["serial"] == serial, report["roller"])
        verdicts[serial] = report["verdict"]
    expect(verdicts == {NOMINAL: "pass", BENT: "fail"}, verdicts)
    expect(f"[{BENT}] step" in proc.stderr, f"progress not labelled by roller:\n{proc.stderr}")


def test_a_wrong_token_is_bad_input_with_the_servers_message(env):
    proc = submit(env, QUICK, [NOMINAL], "wrong-token", token_args=["--token", "not-a-token"])
    expect(proc.returncode == 2, describe(proc))
    expect("401" in proc.stderr and "unauthorized" in proc.stderr, proc.stderr)
    expect(not os.path.exists(env.out("wrong-token")), "files written for a refused submit")


def test_an_unknown_suite_is_bad_input_naming_it(env):
    proc = submit(env, "no-such-suite.yaml", [NOMINAL], "unknown-suite")
    expect(proc.returncode == 2, describe(proc))
    expect("no-such-suite.yaml" in proc.stderr, proc.stderr)


def test_a_server_nobody_listens_on_is_exit_3(env):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = submit(env, QUICK, [NOMINAL], "unreachable", server=url)
    expect(proc.returncode == 3, describe(proc))
    expect(f"cannot connect to {url}" in proc.stderr, proc.stderr)


def submitted_run_ids(stderr):
    return [int(m) for m in re.findall(r"run (\d+) \(SIM-[^)]*\) queued", stderr)]


# Eight full validations one after the other (each scans 70 x 20 mm): the virtual rig runs
# one in about 0.1-0.2 s (docs/performance.md), so the last is still queued or running half
# a second after submission, or when an interrupt lands during the first.
MANY = [NOMINAL, BENT] * 4


def test_runs_past_the_timeout_are_cancelled_on_the_server_and_exit_4(env):
    proc = submit(env, VALIDATE, MANY, "timeout", "--timeout", "0.5")
    expect(proc.returncode == 4, describe(proc))
    expect("timed out after 0.5 s" in proc.stderr, proc.stderr)
    ids = submitted_run_ids(proc.stderr)
    expect(len(ids) == len(MANY), proc.stderr)
    last = daemon(env).run(ids[-1])
    expect(last["state"] == "cancelled", last)


def test_ctrl_c_cancels_the_run_on_the_server_and_exits_4(env):
    # A single run could end before the signal lands; the later ones of MANY are still queued.
    args = [env.bench, "submit", VALIDATE, "--server", daemon(env).url]
    for roller in MANY:
        args += ["--roller", roller]
    args += ["--token-file", token_file(env), "--out", env.out("ctrl-c")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # interrupt once the first run is on the rig
        seen.append(line)
        # (its first steps may be over before the client follows its events: any will do)
        if ": running" in line or re.search(r"step \d+/\d+: ", line):
            proc.send_signal(signal.SIGINT)
            break
    stdout, rest = proc.communicate(timeout=120)
    stderr = "".join(seen) + rest
    expect(proc.returncode == 4, f"exit {proc.returncode}\n{stdout}\n{stderr}")
    expect("interrupted: cancelling" in stderr, stderr)
    ids = submitted_run_ids(stderr)
    expect(len(ids) == len(MANY), stderr)
    row = daemon(env).run(ids[-1])
    expect(row["state"] == "cancelled", row)


def test_the_daemon_stops_cleanly(env):
    # Last: ends the daemon the tests above shared (by its pid) and checks it went quietly.
    if _daemon is not None:
        _daemon.stop()
        expect(_daemon.proc.returncode == 0, f"bench serve exit {_daemon.proc.returncode}:\n"
               + "".join(_daemon.log[-20:]))


if __name__ == "__main__":
    harness.main(globals())
