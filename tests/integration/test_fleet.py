"""The fleet (docs/fleet.md): many daemons, one PostgreSQL store, one work queue.

Real parts only: a throwaway PostgreSQL cluster (DERMA_TEST_PG_URL, as test_postgres_store),
`bench serve` daemons each with its own virtual rig (distinct rig serials), `bench submit
--fleet` and `bench lot` against them, SIGKILL for a daemon dying mid-run, and a TCP relay
between a daemon and PostgreSQL that is cut mid-run for a network failure.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import describe, expect, main  # noqa: E402
from test_lot_certification import make_roller  # noqa: E402
from test_postgres_store import database  # noqa: E402
from test_serve import CI, FINAL, VALIDATE, Daemon, kill_leftover_rigsims  # noqa: E402

MODEL = "DR-192-0.50"
KIND = "dr-192"
# Short beats and leases keep the test quick; a lease is three beats at the least.
FAST = ("--heartbeat-ms", "200", "--lease", "3")


def fleet_daemon(env, url, name, *extra):
    data = env.out(f"fleet-{name}")
    os.makedirs(data, exist_ok=True)
    return Daemon(env, data, "--store", url, "--name", name, *FAST, *extra, rollers=env.out("rollers"))


def runs_of(db, where):
    rows = db.sql("SELECT id, state, daemon, rig_serial, roller_serial, COALESCE(fleet_job, 0), error "
                  f"FROM runs WHERE {where} ORDER BY id")
    keys = ("id", "state", "daemon", "rig_serial", "roller", "job", "error")
    return [dict(zip(keys, line.split("|", 6))) for line in rows.splitlines() if line]


def wait_for(what, predicate, timeout=90, log=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        expect(time.monotonic() < deadline, f"timed out waiting for {what}\n{log()}")
        time.sleep(0.1)


def test_a_lot_sampled_across_rigs_certifies_once_per_roller_even_when_a_rig_dies(env):
    db = database(env)
    url = db.url
    lot = "LOT-FLEET"
    # 26-50 rollers at level I: code C, sample 5 (enough rollers for the depth capability).
    create = env.run_bench("lot", "create", lot, "--model", MODEL, "--size", "40", "--level", "I",
                           "--aql", "10", "--spec", env.path("fixtures", "specs", f"{MODEL}.yaml"),
                           "--store", url, "--json")
    expect(create.returncode == 0, describe(create))
    plan = json.loads(create.stdout)
    expect(plan["sample_size"] == 5, plan)
    rollers = [f"{lot}-{i + 1:03d}" for i in range(plan["sample_size"])]
    for i, serial in enumerate(rollers):
        make_roller(env, serial, 2100 + i)

    # Two rigs of the kind, in real time so each run lasts ~10 s; a front daemon of no kind
    # takes the submission (a CI job knows one address) and runs nothing itself.
    front = fleet_daemon(env, url, "front")
    rig_a = fleet_daemon(env, url, "rig-a", "--fleet", KIND, "--sim-rig-serial", "SIM-A", "--realtime")
    rig_b = fleet_daemon(env, url, "rig-b", "--fleet", KIND, "--sim-rig-serial", "SIM-B", "--realtime")
    daemons = [front, rig_a, rig_b]
    logs = lambda: "".join("".join(d.log)[-2500:] for d in daemons)  # noqa: E731
    try:
        submit = subprocess.Popen([env.bench, "submit", VALIDATE, "--server", f"http://127.0.0.1:{front.port}",
                                 "--token", CI, "--fleet", KIND, "--lot", lot,
                                 *[a for r in rollers for a in ("--roller", r)], "--out", env.out("fleet-submit")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        both_running = wait_for(
            "both rigs to run a job",
            lambda: (lambda rs: rs if len(rs) == 2 else None)(
                runs_of(db, f"lot = '{lot}' AND state = 'running'")), log=logs)
        expect(sorted(r["daemon"] for r in both_running) == ["rig-a", "rig-b"],
               f"one job per rig, each claimed once: {both_running}")
        killed = next(r for r in both_running if r["daemon"] == "rig-a")

        # rig-a's daemon dies mid-run. The fleet marks its run interrupted and queues the job
        # again (a daemon on the same host sees the process gone; elsewhere its lease runs
        # out); rig-c, idle, takes it and the rest of the queue.
        os.kill(rig_a.proc.pid, signal.SIGKILL)
        rig_a.proc.wait()
        kill_leftover_rigsims(rig_a.data)
        rig_c = fleet_daemon(env, url, "rig-c", "--fleet", KIND, "--sim-rig-serial", "SIM-C")
        daemons.append(rig_c)

        out, err = submit.communicate(timeout=240)
        expect(submit.returncode == 0, f"bench submit: exit {submit.returncode}\n{out}\n{err}\n{logs()}")
        expect(f"run {killed['id']} was interrupted" in err and "queued its job again as run" in err,
               f"the client followed the job to its next run:\n{err}")
        for serial in rollers:
            files = sorted(os.listdir(env.out(f"fleet-submit/{serial}")))
            expect("report.json" in files and "junit.xml" in files,
                   f"{serial}: files fetched from the daemon that ran it: {files}")

        lot_runs = runs_of(db, f"lot = '{lot}'")
        by_job = {}
        for r in lot_runs:
            by_job.setdefault(r["job"], []).append(r)
        expect(len(by_job) == 5, f"five jobs: {lot_runs}")
        for job, attempts in by_job.items():
            finished = [r for r in attempts if r["state"] != "interrupted"]
            expect(len(finished) == 1 and finished[0]["state"] == "passed",
                   f"job {job} ran to its end exactly once: {attempts}")
        interrupted = [r for r in lot_runs if r["state"] == "interrupted"]
        expect([r["id"] for r in interrupted] == [killed["id"]], f"only rig-a's run: {lot_runs}")
        expect("rig-a" in interrupted[0]["error"] and "taken back" in interrupted[0]["error"],
               f"the interrupted run says why: {interrupted[0]}")
        retried = next(r for r in lot_runs if r["job"] == killed["job"] and r["state"] == "passed")
        expect(retried["daemon"] == "rig-c" and retried["rig_serial"] == "SIM-C", retried)
        jobs = db.sql("SELECT state, attempts FROM fleet_jobs ORDER BY id").splitlines()
        expect(sorted(jobs) == ["done|1"] * 4 + ["done|2"], f"jobs closed, one needed a second claim: {jobs}")

        status = env.run_bench("fleet", "status", "--store", url, "--json")
        expect(status.returncode == 0, describe(status))
        rigs = {r["name"]: r for r in json.loads(status.stdout)["rigs"]}
        expect(sorted(rigs) == ["front", "rig-a", "rig-b", "rig-c"], rigs)
        expect(rigs["rig-a"]["state"] == "lost", f"a silent daemon is shown lost: {rigs['rig-a']}")
        for name in ("rig-b", "rig-c"):
            r = rigs[name]
            expect(r["state"] == "idle" and r["kind"] == KIND and r["calibration_due"]
                   and r["heartbeat_age_s"] < 3, f"{name}: {r}")
        expect(rigs["rig-b"]["rig_serial"] == "SIM-B" and rigs["front"]["kind"] is None, rigs)
        table = env.run_bench("fleet", "status", "--store", url)
        expect(table.returncode == 0 and "lost" in table.stdout and "SIM-C" in table.stdout,
               describe(table))
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.stop()

    # Certification counts each roller once, by its finished run, and names the rig of each.
    certify = env.run_bench("lot", "certify", lot, "--signer", "qa.lead", "--meaning", "released",
                            "--key", env.out("keys/qa.lead.ed25519"), "--out", env.out("certs/fleet"),
                            "--store", url, "--allow-virtual-rig")
    expect(certify.returncode == 0 and "ACCEPTED" in certify.stdout, describe(certify))
    with open(env.out(f"certs/fleet/CERT-{lot}.json")) as f:
        cert = json.load(f)
    record = json.loads(cert["record"])
    rows = {r["serial"]: r for r in record["rollers"]}
    expect(sorted(rows) == rollers, f"every sampled roller once: {record['rollers']}")
    expect({r["rig_serial"] for r in rows.values()} == {"SIM-B", "SIM-C"},
           f"each roller names the rig that ran it: {record['rollers']}")
    expect(killed["id"] not in [r["run_id"] for r in rows.values()], "the interrupted run is not counted")
    expect(sorted(r["serial"] for r in record["rigs"]) == ["SIM-B", "SIM-C"]
           and sum(r["rollers"] for r in record["rigs"]) == 5, record["rigs"])
    verify = env.run_bench("lot", "verify", env.out(f"certs/fleet/CERT-{lot}.json"), "--store", url)
    expect(verify.returncode == 0, describe(verify))
    audit = env.run_bench("audit", "verify", "--store", url)
    expect(audit.returncode == 0, describe(audit))
    recoveries = db.sql("SELECT count(*) FROM audit_log WHERE action = 'fleet.recover'")
    expect(recoveries == "1", f"the recovery is audited once: {recoveries}")


def test_a_daemon_frozen_past_its_lease_loses_its_job_to_another_rig_and_never_finishes_it(env):
    """The lease, not the host, decides: a daemon that stops heartbeating (frozen here; on
    another machine, dead or cut off) has its job taken back once its lease runs out, and
    when it wakes it learns the job is gone and stops its run rather than finish it twice."""
    db = database(env)
    url = db.url
    kind = "dr-frozen"
    make_roller(env, "FROZEN-001", 2300)
    front = fleet_daemon(env, url, "front-2")
    frozen = fleet_daemon(env, url, "rig-frozen", "--fleet", kind, "--sim-rig-serial", "SIM-F", "--realtime")
    daemons = [front, frozen]
    logs = lambda: "".join("".join(d.log)[-2500:] for d in daemons)  # noqa: E731
    try:
        status, body = front.json("POST", "/api/v1/runs",
                                  {"suite": VALIDATE, "rollers": ["FROZEN-001"], "fleet": kind}, CI)
        expect(status == 201 and body["runs"][0]["fleet_job"], f"queued for the fleet: {status} {body}")
        first = body["runs"][0]["id"]
        wait_for("the frozen rig to start the job", lambda: front.run(first)["state"] == "running", log=logs)
        os.kill(frozen.proc.pid, signal.SIGSTOP)
        taker = fleet_daemon(env, url, "rig-taker", "--fleet", kind, "--sim-rig-serial", "SIM-T")
        daemons.append(taker)
        row = wait_for("the lease to run out and the job to be taken back",
                       lambda: (lambda r: r if r["state"] == "interrupted" else None)(front.run(first)),
                       timeout=60, log=logs)
        expect("rig-frozen" in row["error"] and "lease" in row["error"] and row.get("next_run"),
               f"interrupted for its lapsed lease, the job queued again: {row}")
        second = row["next_run"]
        done = front.wait_final(second)
        expect(done["state"] == "passed" and done["daemon"] == "rig-taker" and done["rig_serial"] == "SIM-T",
               f"the other rig ran the job: {done}")
        os.kill(frozen.proc.pid, signal.SIGCONT)
        # Awake, the frozen daemon's next heartbeat says the job is no longer its own: it stops
        # the run and records nothing over the interrupted one.
        wait_for("the woken daemon to stop its run",
                 lambda: frozen.json("GET", "/healthz")[1]["running"] is None, timeout=60, log=logs)
        again = front.run(first)
        expect(again["state"] == "interrupted", f"the first attempt stays interrupted: {again}")
        expect(db.sql(f"SELECT count(*) FROM checks WHERE run_id = {first}") == "0",
               "no verdict of the first attempt was recorded")
        job = db.sql(f"SELECT state, attempts, run_id FROM fleet_jobs WHERE id = {body['runs'][0]['fleet_job']}")
        expect(job == f"done|2|{second}", f"the job finished once, on its second claim: {job}")
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.stop()
    audit = env.run_bench("audit", "verify", "--store", url)
    expect(audit.returncode == 0, describe(audit))


class Relay:
    """A TCP relay in front of PostgreSQL: cut() closes every connection and refuses new ones,
    as a network failure looks to the daemon; mend() listens again on the same port."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.lock = threading.Lock()
        self.sockets = []
        self.server = None
        self.port = 0
        self.mend()

    def mend(self):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", self.port))
        self.port = self.server.getsockname()[1]
        self.server.listen(16)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server):
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        # shutdown() first: close() alone leaves a socket alive while another thread is
        # blocked on it (in accept or recv).
        for s in [self.server] + self.sockets:
            for step in (lambda: s.shutdown(socket.SHUT_RDWR), s.close):
                try:
                    step()
                except OSError:
                    pass
        with self.lock:
            self.sockets = []


def test_a_network_cut_to_the_database_mid_run_ends_the_run_in_a_clear_error_with_nothing_half_written(env):
    import urllib.parse
    db = database(env)
    parts = urllib.parse.urlsplit(db.url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    relayed = urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username or ''}"
                                                            f"{':' + parts.password if parts.password else ''}"
                                                            f"{'@' if parts.username else ''}127.0.0.1:{relay.port}"))
    make_roller(env, "CUT-001", 2200)
    daemon = fleet_daemon(env, relayed, "rig-cut", "--realtime")
    try:
        [run_id] = daemon.submit(VALIDATE, ["CUT-001"])
        wait_for("the run to start", lambda: daemon.run(run_id)["state"] == "running", log=lambda: "".join(daemon.log))
        time.sleep(1.0)
        relay.cut()
        # The run goes on without the store; at its end, its record cannot be written.
        report = os.path.join(daemon.data, "runs", str(run_id), "report.json")
        wait_for("the run to end on the rig", lambda: os.path.exists(report), timeout=120,
                 log=lambda: "".join(daemon.log))
        time.sleep(2.0)  # several heartbeats: none of them reaches the store either
        rows = runs_of(db, f"id = {run_id}")
        expect(rows[0]["state"] == "running", f"nothing recorded while the store was away: {rows}")
        checks = db.sql(f"SELECT count(*) FROM checks WHERE run_id = {run_id}")
        expect(checks == "0", f"no half of the report in the database: {checks} checks")
        relay.mend()
        final = wait_for("the run's end to be recorded once the store is back",
                         lambda: (lambda r: r if r["state"] in FINAL else None)(runs_of(db, f"id = {run_id}")[0]),
                         timeout=60, log=lambda: "".join(daemon.log))
        expect(final["state"] == "error" and "results database" in final["error"],
               f"a clear error naming the store: {final}")
        expect(db.sql(f"SELECT count(*) FROM checks WHERE run_id = {run_id}") == "0",
               "still no half-written report")
        expect(db.sql(f"SELECT count(*) FROM measurements WHERE run_id = {run_id}") == "0",
               "no measurements either")
        expect(os.path.exists(report), f"the run's own files are kept: {report}")
        row = daemon.run(run_id)
        expect(row["state"] == "error", f"the API says so too: {row}")
    finally:
        daemon.stop()
        relay.cut()
    audit = env.run_bench("audit", "verify", "--store", db.url)
    expect(audit.returncode == 0, describe(audit))


if __name__ == "__main__":
    main(globals())
