"""Remote rigs: a real ser2net serves rigsim's pty on loopback, as a serial server on a
factory floor serves a rig's UART, both as a raw TCP port and as a Telnet RFC 2217 port.

A run over tcp:// and one over rfc2217:// give the same verdicts, checks and channels as a
local run of the same roller; ser2net killed mid-run ends the run in a rig error (exit 3)
naming the address; `bench serve --rig tcp://...` sees the rig go and reconnects by itself
when ser2net comes back.

ser2net is a test dependency (scripts/setup installs it): without it this test FAILS.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import expect  # noqa: E402

QUICK = "quick-DR-192-0.50.yaml"
ROLLER = "nominal-DR-192-0.50"
CI = "ci-secret-0123456789abcdef"
FINAL = {"passed", "failed", "error", "aborted", "cancelled", "interrupted"}


def ser2net_binary():
    found = shutil.which("ser2net") or ("/usr/sbin/ser2net" if os.path.exists("/usr/sbin/ser2net")
                                        else None)
    expect(found, "ser2net is not installed (looked on PATH and in /usr/sbin): it is a test "
                  "dependency of the remote-rig tests; run scripts/setup (apt-get install ser2net)")
    return found


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True once something listens on 127.0.0.1:port, seen in /proc without connecting (a
    probe connection would make ser2net open the rig's device and close it again)."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(wanted) and fields[3] == "0A":  # 0A = LISTEN
                        return True
        except FileNotFoundError:
            pass
    return False


def wait_for(predicate, what, timeout=20):
    """Waits for a condition; the deadline only bounds a hang."""
    deadline = time.monotonic() + timeout
    while not predicate():
        expect(time.monotonic() < deadline, f"timed out waiting for {what}")
        time.sleep(0.05)


class Rigsim:
    def __init__(self, env, link, *extra):
        self.link = link
        self.proc = subprocess.Popen([env.rigsim, "--roller", env.roller(ROLLER), "--link", link,
                                      *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(link) or self.proc.poll() is not None, f"rigsim on {link}")
        expect(self.proc.poll() is None, f"rigsim on {link} exited with {self.proc.returncode}")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Ser2net:
    """ser2net in the foreground with its own YAML config, pid file and log in the temp dir.
    `ports` maps a name to (accepter kind, port, device link): kind "tcp" or "rfc2217"."""

    def __init__(self, env, name, ports):
        self.env = env
        self.name = name
        self.ports = ports
        self.config = env.out(f"{name}.yaml")
        self.pid_file = env.out(f"{name}.pid")
        self.log_path = env.out(f"{name}.log")
        lines = ["%YAML 1.1", "---"]
        for conn, (kind, port, link) in ports.items():
            accepter = (f"tcp,127.0.0.1,{port}" if kind == "tcp"
                        else f"telnet(rfc2217),tcp,127.0.0.1,{port}")
            lines += [f"connection: &{conn}",
                      f"  accepter: {accepter}",
                      f"  connector: serialdev,{link},921600n81,local"]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.start()

    def start(self):
        log = open(self.log_path, "a")
        # -n: stay in the foreground; -u: no UUCP lock files (the pty is ours alone).
        self.proc = subprocess.Popen([ser2net_binary(), "-n", "-u", "-c", self.config,
                                      "-P", self.pid_file],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            for _, port, _ in self.ports.values():
                wait_for(lambda: listening(port) or self.proc.poll() is not None,
                         f"ser2net listening on port {port}")
                expect(self.proc.poll() is None,
                       f"ser2net exited with {self.proc.returncode}: {self.log()}")
        except Exception:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self):
        self.proc.kill()  # no goodbye to anyone: the server vanishes
        self.proc.wait()
        wait_for(lambda: all(not listening(p) for _, p, _ in self.ports.values()),
                 "ser2net's ports to close")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-2000:]


def load_report(out):
    path = os.path.join(out, "report.json")
    expect(os.path.exists(path), f"no report.json in {out}")
    with open(path) as f:
        return json.load(f)


def summary(report):
    """What must not depend on how the rig is reached: verdicts, check values, channels."""
    checks = [(c["id"], c["verdict"], c["value"], c["unit"]) for c in report["checks"]]
    channels = [len(roll["channels"]) for roll in report["rolls"]]
    return {"verdict": report["verdict"], "checks": checks, "channels": channels}


def stop_all(*things):
    for thing in things:
        if thing is not None:
            thing.stop()


def test_runs_over_tcp_and_rfc2217_match_a_local_run_of_the_same_roller(env):
    ser2net_binary()
    suite = env.path("fixtures", "suites", QUICK)
    local_out = env.out("local")
    local = env.run_bench("run", suite, "--rig", "sim", "--roller", env.roller(ROLLER),
                          "--out", local_out)
    expect(local.returncode == 0, f"local run: {harness.describe(local)}")
    expected = summary(load_report(local_out))
    expect(expected["channels"] and expected["channels"][0] > 50,
           f"the local run detected channels: {expected}")

    # One rigsim per link, so each remote run rolls the same first lane as the local run.
    raw_rig = telnet_rig = server = None
    try:
        raw_rig = Rigsim(env, env.out("rig-raw"))
        telnet_rig = Rigsim(env, env.out("rig-telnet"))
        ports = {"raw": ("tcp", free_port(), raw_rig.link),
                 "telnet": ("rfc2217", free_port(), telnet_rig.link)}
        server = Ser2net(env, "ser2net-match", ports)
        for conn, (scheme, port, _) in ports.items():
            address = f"{scheme}://127.0.0.1:{port}"
            out = env.out(f"remote-{conn}")
            serial = load_report(local_out)["roller"]["serial"]
            proc = env.run_bench("run", suite, "--rig", address, "--serial", serial, "--out", out)
            expect(proc.returncode == 0, f"run over {address}: {harness.describe(proc)}\n"
                                         f"ser2net: {server.log()}")
            report = load_report(out)
            expect(report["rig"]["port"] == address,
                   f"the report names the link {address}: {report['rig']}")
            link = report["link"]
            expect(link["crc_errors"] == 0 and link["cobs_errors"] == 0 and link["frames_ok"] > 100,
                   f"every frame over {address} arrived intact: {link}")
            got = summary(report)
            expect(got == expected, f"run over {address} differs from the local run:\n"
                                    f"remote {got}\nlocal  {expected}")
    finally:
        stop_all(server, raw_rig, telnet_rig)


def test_ser2net_killed_mid_run_ends_the_run_with_a_rig_error_naming_the_address(env):
    ser2net_binary()
    suite = env.path("fixtures", "suites", QUICK)
    for scheme in ("tcp", "rfc2217"):
        port = free_port()
        address = f"{scheme}://127.0.0.1:{port}"
        out = env.out(f"killed-{scheme}")
        rig = server = None
        try:
            rig = Rigsim(env, env.out(f"rig-kill-{scheme}"), "--realtime")  # a roll takes seconds
            server = Ser2net(env, f"ser2net-kill-{scheme}", {"rig": (scheme, port, rig.link)})
            proc = subprocess.Popen([env.bench, "run", suite, "--rig", address, "--serial", "K-1",
                                     "--out", out],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    errors="replace")
            progress = []
            for line in proc.stderr:  # progress lines; kill ser2net once the rig is rolling
                progress.append(line)
                if line.startswith("connected to rig"):
                    break
            expect(any(l.startswith("connected to rig") for l in progress),
                   f"the run over {address} never connected: {''.join(progress)}")
            time.sleep(0.5)  # into the motion steps (not a timing assertion: any point will do)
            server.kill()
            stdout, rest = proc.communicate(timeout=120)
            stderr = "".join(progress) + rest
        finally:
            stop_all(server, rig)
        expect(proc.returncode == 3, f"run over {address} with ser2net killed: exit "
                                     f"{proc.returncode}\n{stdout}\n{stderr}")
        report = load_report(out)
        expect(report["verdict"] == "error", f"verdict: {report['verdict']}")
        expect(address in report["error"] and "disconnected" in report["error"],
               f"the error names the address and says what happened: {report['error']!r}")
        expect(address in stdout + stderr, f"the console names the address:\n{stdout}\n{stderr}")


class Daemon:
    def __init__(self, env, rig, data):
        tokens = env.out("remote-tokens.yaml")
        with open(tokens, "w") as f:
            f.write(f"tokens:\n  - {{name: ci-main, role: ci, token: \"{CI}\"}}\n")
        self.proc = subprocess.Popen(
            [env.bench, "serve", "--rig", rig, "--listen", "127.0.0.1:0", "--token-file", tokens,
             "--data", data, "--suites", env.path("fixtures", "suites")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log = []
        self.port = None
        while self.port is None:
            line = self.proc.stdout.readline()
            expect(line, f"bench serve exited: {''.join(self.log)}")
            self.log.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        self.drained = threading.Thread(target=self._drain, daemon=True)
        self.drained.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def json(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {CI}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        return resp.status, json.loads(payload)

    def wait_rig(self, predicate, what, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.json("GET", "/api/v1/rig")
            expect(status == 200, f"GET /api/v1/rig: {status} {body}")
            if predicate(body):
                return body
            expect(time.monotonic() < deadline, f"rig never became {what}: {body}\n"
                   + "".join(self.log[-20:]))
            time.sleep(0.1)

    def run_quick(self, serial):
        status, body = self.json("POST", "/api/v1/runs", {"suite": QUICK, "rollers": [serial]})
        expect(status == 201, f"submit: {status} {body}")
        run_id = body["runs"][0]["id"]
        deadline = time.monotonic() + 120
        while True:
            status, row = self.json("GET", f"/api/v1/runs/{run_id}")
            if row["state"] in FINAL:
                return row
            expect(time.monotonic() < deadline, f"run {run_id} not final: {row}")
            time.sleep(0.1)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.drained.join(timeout=10)
        return code


def test_bench_serve_on_a_tcp_rig_reconnects_when_ser2net_comes_back(env):
    ser2net_binary()
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    rig = server = daemon = None
    try:
        rig = Rigsim(env, env.out("rig-serve"))
        server = Ser2net(env, "ser2net-serve", {"rig": ("tcp", port, rig.link)})
        daemon = Daemon(env, address, env.out("serve-remote"))
        body = daemon.wait_rig(lambda r: r["state"] == "connected", "connected")
        expect(body["port"] == address and body["reconnects"] == 0, f"held link: {body}")
        row = daemon.run_quick("REMOTE-0001")
        expect(row["state"] == "passed", f"a run on the remote rig: {row}")

        server.kill()  # the serial server goes away
        body = daemon.wait_rig(lambda r: r["state"] == "disconnected", "disconnected")
        expect(address in (body.get("last_error") or ""),
               f"a lost rig names its address: {body}")

        server.start()  # back, on the same port
        body = daemon.wait_rig(lambda r: r["state"] == "connected", "connected again")
        expect(body["reconnects"] >= 1, f"reconnected by itself: {body}")
        row = daemon.run_quick("REMOTE-0002")
        expect(row["state"] == "passed", f"a run after the reconnect: {row}")
    finally:
        code = daemon.stop() if daemon else 0
        stop_all(server, rig)
    expect(code == 0, f"SIGTERM: exit {code}")
    log = "".join(daemon.log)
    expect(" lost: " in log and " reconnected on " in log,
           f"the daemon logs the loss and the reconnect:\n{log}")


if __name__ == "__main__":
    harness.main(globals())
