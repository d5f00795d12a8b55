"""bench serve: the daemon's HTTP API against the virtual rig (docs/api.md).

Starts `bench serve --rig sim --listen 127.0.0.1:0` on a private data directory, reads the
port from its stderr, and talks to it with http.client: auth and input errors change nothing,
concurrent submissions run one at a time with the right verdicts, event streams, cancel,
downloads, and a daemon killed mid-run leaves that run `interrupted` and the rest intact.
"""
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import expect  # noqa: E402

CI = "ci-secret-0123456789abcdef"
CI_OTHER = "other-ci-secret-0123456789"
OPERATOR = "operator-secret-0123456789"
FINAL = {"passed", "failed", "error", "aborted", "cancelled", "interrupted"}
NOMINAL = "SIM-N192-050"
BENT = "SIM-D-BENT"
VALIDATE = "validate-DR-192-0.50.yaml"
QUICK = "quick-DR-192-0.50.yaml"


def token_file(env):
    path = env.out("tokens.yaml")
    with open(path, "w") as f:
        f.write("tokens:\n"
                f"  - {{name: ci-main, role: ci, token: \"{CI}\"}}\n"
                f"  - {{name: ci-other, role: ci, token: \"{CI_OTHER}\"}}\n"
                f"  - {{name: alice, role: operator, token: \"{OPERATOR}\"}}\n")
    return path


class Daemon:
    def __init__(self, env, data, *extra, rollers=None):
        self.data = data
        self.proc = subprocess.Popen(
            [env.bench, "serve", "--rig", "sim", "--listen", "127.0.0.1:0", "--token-file",
             token_file(env), "--data", data, "--suites", env.path("fixtures", "suites"),
             "--rollers", rollers or env.path("fixtures", "rollers"), *extra],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.log = []
        deadline = time.monotonic() + 30
        self.port = None
        while self.port is None:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError(f"bench serve exited: {''.join(self.log)}")
            self.log.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
            expect(time.monotonic() < deadline, "bench serve did not start listening")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def request(self, method, path, body=None, token=None, raw=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        return resp.status, resp.getheader("Content-Type", ""), payload

    def json(self, method, path, body=None, token=None, **kw):
        status, ctype, payload = self.request(method, path, body, token, **kw)
        return status, (json.loads(payload) if payload and "json" in ctype else payload)

    def submit(self, suite, rollers, token=CI, requester="ci job 1"):
        status, body = self.json("POST", "/api/v1/runs",
                                 {"suite": suite, "rollers": rollers, "requester": requester}, token)
        expect(status == 201, f"submit: {status} {body}")
        return [r["id"] for r in body["runs"]]

    def run(self, run_id):
        status, body = self.json("GET", f"/api/v1/runs/{run_id}")
        expect(status == 200, f"GET run {run_id}: {status} {body}")
        return body

    def wait_final(self, run_id, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            row = self.run(run_id)
            if row["state"] in FINAL:
                return row
            expect(time.monotonic() < deadline, f"run {run_id} not final: {row}")
            time.sleep(0.1)

    def wait_idle(self, timeout=10):
        """The worker lets go of a run just after recording its end (a known window, in which
        the API still shows it running): waits for /healthz to show nothing running."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.json("GET", "/healthz")
            if (status == 200 and body["running"] is None) or time.monotonic() > deadline:
                return status, body
            time.sleep(0.05)

    def events(self, run_id, until=None):
        """Reads the run's event stream; returns [(event, data)] when it closes, or as soon
        as `until(event, data)` is true."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", f"/api/v1/runs/{run_id}/events")
        resp = conn.getresponse()
        expect(resp.status == 200, f"events: {resp.status}")
        expect(resp.getheader("Content-Type") == "text/event-stream", "events: content type")
        events, name = [], None
        while True:
            line = resp.fp.readline()
            if not line:
                break
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                events.append((name, data))
                if until and until(name, data):
                    break
        conn.close()
        return events

    def stop(self, sig=signal.SIGTERM, timeout=60):
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        return code


def kill_leftover_rigsims(data):
    """A daemon killed with SIGKILL cannot stop the rigsim of its run: find it by its data
    directory (its --truth path lies under it) and end it by pid."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if "rigsim" in cmdline and data in cmdline:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def test_requests_without_rights_or_with_bad_input_change_nothing(env):
    d = Daemon(env, env.out("refusals"))
    try:
        status, body = d.json("GET", "/healthz")
        expect(status == 200 and body["status"] == "ok" and body["queue_length"] == 0
               and body["running"] is None, f"healthz: {status} {body}")
        good = {"suite": VALIDATE, "rollers": [NOMINAL]}
        status, body = d.json("POST", "/api/v1/runs", good)
        expect(status == 401 and body["error"]["code"] == "unauthorized", f"no token: {status} {body}")
        status, body = d.json("POST", "/api/v1/runs", good, token="not-a-token-at-all-xx")
        expect(status == 401, f"unknown token: {status} {body}")
        status, body = d.json("POST", "/api/v1/runs", raw="{suite:", token=CI)
        expect(status == 400 and body["error"]["code"] == "bad_request", f"bad JSON: {status} {body}")
        status, body = d.json("POST", "/api/v1/runs", {"suite": "no-such-suite.yaml",
                                                       "rollers": [NOMINAL]}, token=CI)
        expect(status == 400 and "no-such-suite.yaml" in body["error"]["message"],
               f"unknown suite: {status} {body}")
        for bad in ("../specs/DR-192-0.50.yaml", "/etc/passwd", "x/../../suites/" + VALIDATE):
            status, body = d.json("POST", "/api/v1/runs", {"suite": bad, "rollers": [NOMINAL]},
                                  token=CI)
            expect(status == 400, f"path {bad}: {status} {body}")
        status, body = d.json("POST", "/api/v1/runs", {"suite": VALIDATE,
                                                       "rollers": [NOMINAL, "NO-SUCH-ROLLER"]},
                              token=CI)
        expect(status == 400 and "NO-SUCH-ROLLER" in body["error"]["message"],
               f"unknown roller: {status} {body}")
        status, body = d.json("POST", "/api/v1/runs", raw="suite=x", token=CI,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        expect(status == 415, f"form body: {status} {body}")
        status, body = d.json("POST", "/api/v1/runs", raw="x" * (2 << 20), token=CI)
        expect(status == 413, f"2 MiB body: {status} {body}")
        status, body = d.json("GET", "/api/v1/runs")
        expect(status == 200 and body["runs"] == [], f"nothing may have changed: {body}")
        status, body = d.json("GET", "/api/v1/runs/1")
        expect(status == 404, f"no run 1: {status} {body}")

        # A ci token may not cancel someone else's run (403); the operator may (202).
        status, body = d.json("POST", "/api/v1/runs",
                              {"suite": VALIDATE, "rollers": [NOMINAL, NOMINAL]}, token=OPERATOR)
        expect(status == 201 and len(body["runs"]) == 2, f"operator submit: {status} {body}")
        second = body["runs"][1]["id"]
        status, body = d.json("POST", f"/api/v1/runs/{second}/cancel", token=CI)
        expect(status == 403 and body["error"]["code"] == "forbidden", f"ci cancel: {status} {body}")
        status, body = d.json("POST", f"/api/v1/runs/{second}/cancel")
        expect(status == 401, f"anonymous cancel: {status} {body}")
        status, body = d.json("POST", f"/api/v1/runs/{second}/cancel", token=OPERATOR)
        expect(status == 202 and body["state"] in ("cancelled", "cancelling"),
               f"operator cancel: {status} {body}")
    finally:
        code = d.stop()
    expect(code == 0, f"SIGTERM: exit {code}\n{''.join(d.log)}")


def raw_exchange(port, request):
    """Sends bytes as they are (http.client would refuse a non-ASCII URL); the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        answer = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return answer
            answer += chunk


def test_a_url_with_bytes_that_are_not_utf8_is_refused_and_the_daemon_goes_on(env):
    d = Daemon(env, env.out("bad-bytes"))
    try:
        for method in (b"GET", b"DELETE"):  # 404 and 405 both quote the URL
            answer = raw_exchange(d.port, method + b" /\xff\xfe HTTP/1.1\r\nHost: x\r\n"
                                  b"Connection: close\r\n\r\n")
            head, _, body = answer.partition(b"\r\n\r\n")
            expect(head.startswith(b"HTTP/1.1 404") or head.startswith(b"HTTP/1.1 405"),
                   f"{method}: {answer!r}")
            message = json.loads(body)["error"]["message"]
            expect("/\ufffd\ufffd" in message, f"invalid bytes replaced: {message!r}")
        status, body = d.json("GET", "/healthz")
        expect(status == 200 and body["status"] == "ok", f"still serving: {status} {body}")
    finally:
        code = d.stop()
    expect(code == 0, f"SIGTERM: exit {code}\n{''.join(d.log)}")


def test_a_run_whose_report_cannot_be_recorded_ends_as_an_error(env):
    data = env.out("unrecordable")
    d = Daemon(env, data)  # creates the database
    expect(d.stop() == 0, "first start")
    # The fault, injected from outside: the database refuses every final record of a run
    # (its verdict), while plain state changes still go through.
    db = sqlite3.connect(os.path.join(data, "dermabench.db"))
    db.execute("CREATE TRIGGER refuse_reports BEFORE UPDATE OF verdict ON runs "
               "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END")
    db.commit()
    db.close()
    d = Daemon(env, data)
    try:
        (run,) = d.submit(VALIDATE, [NOMINAL])
        events = d.events(run)
        expect(events and events[-1][0] == "end" and events[-1][1]["state"] == "error",
               f"the stream ends with the error: {events[-3:]}")
        row = d.wait_final(run, timeout=60)
        expect(row["state"] == "error" and "cannot record the report" in row["error"]
               and "the disk is full" in row["error"], f"the run: {row}")
        status, body = d.wait_idle()
        expect(status == 200 and body["running"] is None, f"nothing left running: {body}")
    finally:
        code = d.stop()
    expect(code == 0, f"SIGTERM: exit {code}")
    db = sqlite3.connect(os.path.join(data, "dermabench.db"))
    details = [json.loads(r[0]) for r in db.execute(
        "SELECT detail FROM audit_log WHERE action = 'run.finish' AND subject = ?",
        (f"run {run}",))]
    db.close()
    expect(details and details[-1]["state"] == "error", f"audited: {details}")


def test_a_malformed_rig_address_is_bad_usage(env):
    result = env.run_bench("serve", "--rig", "usb:", "--listen", "127.0.0.1:0",
                           "--data", env.out("bad-rig"))
    expect(result.returncode == 2 and "--rig" in result.stderr,
           f"bad --rig: {harness.describe(result)}")


def test_concurrent_submissions_run_one_at_a_time_and_a_killed_daemon_loses_nothing(env):
    data = env.out("serve-data")
    d = Daemon(env, data)
    try:
        # Three clients at once: each gets its own run, all run in turn.
        ids, errors = {}, []
        def client(name, serial):
            try:
                ids[name] = d.submit(VALIDATE, [serial], requester=f"ci job {name}")[0]
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=client, args=a)
                   for a in (("a", NOMINAL), ("b", BENT), ("c", NOMINAL))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expect(not errors, f"submissions failed: {errors}")
        expect(len(set(ids.values())) == 3, f"three distinct runs: {ids}")

        # A late subscriber to the last run sees its state, progress and end.
        last = max(ids.values())
        events = d.events(last)
        names = [e for e, _ in events]
        expect(names[0] == "state" and names[-1] == "end", f"event order: {names}")
        lines = [data["line"] for e, data in events if e == "progress"]
        expect(any(line.startswith("step 4/6: roll") for line in lines), f"progress: {lines}")
        expect(events[-1][1]["id"] == last and events[-1][1]["state"] in FINAL, "end has the run")

        rows = [d.wait_final(i) for i in ids.values()]
        for name, serial in (("a", NOMINAL), ("b", BENT), ("c", NOMINAL)):
            row = d.run(ids[name])
            want = "passed" if serial == NOMINAL else "failed"
            expect(row["state"] == want and row["roller_serial"] == serial,
                   f"run {name}: {row['state']} {row['roller_serial']} {row.get('error')}")
            expect(row["requester"] == f"ci job {name}", f"requester: {row['requester']}")
            expect(len(row["checks"]) >= 6, f"checks of run {name}: {row['checks']}")
        rows.sort(key=lambda r: r["started_at"])
        for before, after in zip(rows, rows[1:]):
            expect(before["finished_at"] <= after["started_at"],
                   f"runs overlap: {before['id']} ends {before['finished_at']}, "
                   f"{after['id']} starts {after['started_at']}")

        # Downloads.
        status, ctype, payload = d.request("GET", f"/api/v1/runs/{ids['b']}/report.json")
        expect(status == 200 and json.loads(payload)["verdict"] == "fail", "report.json")
        # The run names the analysis method that judged it, as its report.json does.
        method = json.loads(payload)["analysis_method"]["version"]
        expect(d.run(ids['b'])["analysis_method"] == method, f"analysis method of run b: {method}")
        status, ctype, payload = d.request("GET", f"/api/v1/runs/{ids['b']}/junit.xml")
        expect(status == 200 and b"<failure" in payload, "junit.xml shows the failure")
        status, ctype, payload = d.request("GET", f"/api/v1/runs/{ids['a']}/capture")
        expect(status == 200 and ctype == "application/octet-stream" and len(payload) > 1000,
               "capture")
        status, body = d.json("GET", f"/api/v1/runs?state=failed&roller={BENT}")
        expect([r["id"] for r in body["runs"]] == [ids["b"]], f"filtered list: {body}")

        status, body = d.json("GET", "/api/v1/rig")
        expect(status == 200 and body["rig_serial"] and body["firmware_version"], f"rig: {body}")
        status, ctype, payload = d.request("GET", "/metrics")
        text = payload.decode()
        expect('dermabench_runs_total{state="passed"} 2' in text and
               "dermabench_queue_length 0" in text and
               'dermabench_http_requests_total{code="201"} 3' in text, f"metrics:\n{text}")

        # Cancel a queued run: at once; a final run cannot be cancelled.
        first, second = d.submit(VALIDATE, [NOMINAL, NOMINAL])
        status, body = d.json("POST", f"/api/v1/runs/{second}/cancel", token=CI)
        expect(status == 202 and body["state"] == "cancelled", f"cancel queued: {status} {body}")
        expect(d.run(second)["state"] == "cancelled", "the queued run is cancelled")
        d.wait_final(first)
        d.wait_idle()  # a cancel in the worker's last moment with the run is still accepted
        status, body = d.json("POST", f"/api/v1/runs/{first}/cancel", token=CI)
        expect(status == 409 and body["error"]["code"] == "conflict", f"final: {status} {body}")
    finally:
        code = d.stop()
    expect(code == 0, f"SIGTERM: exit {code}")

    # A real-time rig: cancel mid-roll, then kill the daemon mid-run.
    d = Daemon(env, data, "--realtime")
    killed = None
    try:
        (run,) = d.submit(QUICK, [NOMINAL])
        d.events(run, until=lambda e, data: e == "progress" and data["line"].startswith("step 4"))
        status, body = d.json("POST", f"/api/v1/runs/{run}/cancel", token=CI)
        expect(status == 202 and body["state"] == "cancelling", f"cancel running: {status} {body}")
        row = d.wait_final(run)
        expect(row["state"] == "cancelled", f"cancelled mid-roll: {row}")

        (killed,) = d.submit(QUICK, [NOMINAL])
        d.events(killed, until=lambda e, data: e == "progress" and data["line"].startswith("step 4"))
    finally:
        d.stop(signal.SIGKILL)
        kill_leftover_rigsims(data)

    d = Daemon(env, data)
    try:
        row = d.run(killed)
        expect(row["state"] == "interrupted", f"the killed run: {row}")
        for name, want in (("a", "passed"), ("b", "failed"), ("c", "passed")):
            expect(d.run(ids[name])["state"] == want, f"run {name} kept its result")
        status, ctype, payload = d.request("GET", f"/api/v1/runs/{ids['a']}/report.json")
        expect(status == 200 and json.loads(payload)["verdict"] == "pass", "earlier report kept")
    finally:
        code = d.stop()
    expect(code == 0, f"SIGTERM after restart: exit {code}")
    verify = env.run_bench("audit", "verify", "--db", os.path.join(data, "dermabench.db"))
    expect(verify.returncode == 0, f"audit verify: {harness.describe(verify)}")


if __name__ == "__main__":
    harness.main(globals())
