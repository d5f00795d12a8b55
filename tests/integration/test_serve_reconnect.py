"""bench serve with a device rig: the daemon holds the link between runs and reconnects.

A standalone rigsim serves the virtual rig on a link path, as a real rig's /dev/ttyACM0 would
be; `bench serve --rig PATH` holds it open: /api/v1/rig shows the rig's identity before any
run, a run passes on the held link, killing rigsim (an unplug) turns the rig disconnected,
a run submitted meanwhile waits queued, and starting rigsim again on the same path makes the
daemon reconnect by itself, after which the waiting run passes and the audit log verifies.
(Each run rolls a fresh phantom lane: test_serve_lanes.py.)
A run that loses the rig mid-way ends `error` with exit code 3 and the daemon reconnects.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import expect  # noqa: E402

CI = "ci-secret-0123456789abcdef"
FINAL = {"passed", "failed", "error", "aborted", "cancelled", "interrupted"}
QUICK = "quick-DR-192-0.50.yaml"
ROLLER = "nominal-DR-192-0.50"
RIG_SERIAL = "RIGSIM-RECONNECT-7"


def start_rigsim(env, link, *extra):
    return subprocess.Popen([env.rigsim, "--roller", env.roller(ROLLER), "--link", link,
                             "--serial", RIG_SERIAL, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Daemon:
    def __init__(self, env, rig, data, extra_tokens=""):
        tokens = env.out("tokens.yaml")
        with open(tokens, "w") as f:
            f.write(f"tokens:\n  - {{name: ci-main, role: ci, token: \"{CI}\"}}\n" + extra_tokens)
        self.proc = subprocess.Popen(
            [env.bench, "serve", "--rig", rig, "--listen", "127.0.0.1:0", "--token-file", tokens,
             "--data", data, "--suites", env.path("fixtures", "suites")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # spdlog logs to stdout
        self.log = []
        self.port = None
        while self.port is None:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"bench serve exited: {''.join(self.log)}")
            self.log.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        self.drained = threading.Thread(target=self._drain, daemon=True)
        self.drained.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def json(self, method, path, body=None, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        ctype = resp.getheader("Content-Type", "")
        return resp.status, (json.loads(payload) if "json" in ctype else payload.decode())

    def rig(self):
        status, body = self.json("GET", "/api/v1/rig")
        expect(status == 200, f"GET /api/v1/rig: {status} {body}")
        return body

    def wait_rig(self, predicate, what, timeout=20):
        """Polls /api/v1/rig until predicate(body); the deadline only bounds a hang."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.rig()
            if predicate(body):
                return body
            expect(time.monotonic() < deadline, f"rig never became {what}: {body}\n"
                   + "".join(self.log[-20:]))
            time.sleep(0.1)

    def run_quick(self, serial):
        status, body = self.json("POST", "/api/v1/runs",
                                 {"suite": QUICK, "rollers": [serial]}, CI)
        expect(status == 201, f"submit: {status} {body}")
        return self.wait_final(body["runs"][0]["id"])

    def wait_final(self, run_id):
        deadline = time.monotonic() + 120
        while True:
            status, row = self.json("GET", f"/api/v1/runs/{run_id}")
            if row["state"] in FINAL:
                return row
            expect(time.monotonic() < deadline, f"run {run_id} not final: {row}")
            time.sleep(0.1)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def test_the_daemon_holds_a_device_rig_and_reconnects_when_it_comes_back(env):
    link = env.out("rig-tty")
    data = env.out("reconnect")
    rigsim = start_rigsim(env, link)
    daemon = None
    try:
        daemon = Daemon(env, link, data)
        rig = daemon.wait_rig(lambda r: r["state"] == "connected", "connected")
        expect(rig["rig_serial"] == RIG_SERIAL and rig["calibration_due"]
               and rig["firmware_version"] and rig["reconnects"] == 0,
               f"identity before any run: {rig}")
        status, health = daemon.json("GET", "/healthz")
        expect(health["rig"] == "connected", f"healthz: {health}")

        row = daemon.run_quick("LOT7-0001")
        expect(row["state"] == "passed", f"first run: {row}")
        expect(row["roller_serial"] == "LOT7-0001" and row["rig_serial"] == RIG_SERIAL,
               f"first run records roller and rig: {row}")
        # The run's row turns final a moment before its worker hands the rig back (busy).
        rig = daemon.wait_rig(lambda r: r["state"] != "busy", "free after the run")
        expect(rig["state"] == "connected", f"the link stays held after a run: {rig}")
        # The run re-sent Hello on the held link: its capture alone replays to the same result.
        replay = env.run_bench("analyze", os.path.join(data, "runs", str(row["id"]), "capture.drcap"),
                               "--out", env.out("replayed"))
        expect(replay.returncode == 0, f"bench analyze: {harness.describe(replay)}")
        with open(os.path.join(env.out("replayed"), "report.json")) as f:
            replayed = json.load(f)
        expect(replayed["verdict"] == "pass" and replayed["rig"]["serial"] == RIG_SERIAL,
               f"replayed report: {replayed['verdict']} {replayed.get('rig')}")

        rigsim.kill()  # the rig is unplugged
        rigsim.wait()
        rig = daemon.wait_rig(lambda r: r["state"] == "disconnected", "disconnected")
        expect(rig["last_error"], f"a lost rig says why: {rig}")
        status, metrics = daemon.json("GET", "/metrics")
        expect("dermabench_rig_connected 0\n" in metrics, "metrics: rig disconnected")

        # A run submitted while the rig is down waits in the queue instead of failing.
        status, body = daemon.json("POST", "/api/v1/runs", {"suite": QUICK, "rollers": ["LOT7-0002"]}, CI)
        expect(status == 201, f"submit while disconnected: {status} {body}")
        waiting = body["runs"][0]["id"]
        status, row = daemon.json("GET", f"/api/v1/runs/{waiting}")
        expect(row["state"] == "queued" and row["position_in_queue"] == 1, f"waits queued: {row}")

        rigsim = start_rigsim(env, link)  # plugged in again, on the same path
        rig = daemon.wait_rig(lambda r: r["state"] == "connected", "connected again")
        expect(rig["reconnects"] >= 1 and rig["rig_serial"] == RIG_SERIAL,
               f"reconnected by itself: {rig}")
        status, metrics = daemon.json("GET", "/metrics")
        expect("dermabench_rig_connected 1\n" in metrics, "metrics: rig connected")
        m = re.search(r"^dermabench_rig_reconnects_total (\d+)$", metrics, re.M)
        expect(m and int(m.group(1)) >= 1, f"metrics: reconnects counted: {metrics}")

        row = daemon.wait_final(waiting)
        expect(row["state"] == "passed", f"the waiting run, after the reconnect: {row}")
    finally:
        code = daemon.stop() if daemon else 0
        if daemon:
            daemon.drained.join(timeout=10)
        rigsim.kill()
        rigsim.wait()
    expect(code == 0, f"SIGTERM: exit {code}")
    log = "".join(daemon.log)
    expect(log.count("bench serve: rig") == 2 and " lost: " in log and " reconnected on " in log
           and "cannot open rig" not in log,
           f"one log line per change of state (lost, reconnected), not per attempt:\n{log}")
    verify = env.run_bench("audit", "verify", "--db", os.path.join(data, "dermabench.db"))
    expect(verify.returncode == 0, f"audit verify: {harness.describe(verify)}")



def test_a_run_that_loses_the_rig_ends_in_error_and_the_daemon_reconnects(env):
    link = env.out("rig-tty-2")
    data = env.out("lost-mid-run")
    rigsim = start_rigsim(env, link, "--realtime")  # a roll takes seconds: time to unplug
    daemon = None
    try:
        daemon = Daemon(env, link, data)
        daemon.wait_rig(lambda r: r["state"] == "connected", "connected")
        status, body = daemon.json("POST", "/api/v1/runs", {"suite": QUICK, "rollers": ["LOT8"]}, CI)
        expect(status == 201, f"submit: {status} {body}")
        run_id = body["runs"][0]["id"]
        daemon.wait_rig(lambda r: r["state"] == "busy", "busy")
        rigsim.kill()  # unplugged mid-run
        rigsim.wait()
        row = daemon.wait_final(run_id)
        expect(row["state"] == "error" and row["exit_code"] == 3 and "disconnected" in row["error"],
               f"a run that lost the rig: {row}")
        rigsim = start_rigsim(env, link)
        rig = daemon.wait_rig(lambda r: r["state"] == "connected", "connected again")
        expect(rig["reconnects"] >= 1, f"reconnected after the lost run: {rig}")
    finally:
        code = daemon.stop() if daemon else 0
        rigsim.kill()
        rigsim.wait()
    expect(code == 0, f"SIGTERM: exit {code}")
    verify = env.run_bench("audit", "verify", "--db", os.path.join(data, "dermabench.db"))
    expect(verify.returncode == 0, f"audit verify: {harness.describe(verify)}")

if __name__ == "__main__":
    harness.main(globals())
