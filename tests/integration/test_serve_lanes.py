"""bench serve with a held device rig gives every run a phantom lane no earlier run rolled.

A lane rolled once holds that roll's channels: rolled again, a good roller reads double the
channel density and fails. The shipped suites all say `lane: 0`; the daemon overrides it with
the lowest lane of the rig's phantom lot not used yet. A standalone rigsim with a tray of two
lanes: two nominal runs pass on lanes 0 and 1; the third waits queued with
`phantom_exhausted` until the phantom changes. rigsim's phantom cannot be replaced while it
runs, so the new phantom is a restarted rigsim with another `--phantom-lot`: the daemon
reconnects, starts a fresh lane set and the waiting run passes on lane 0. Replacing the
phantom over the API needs an operator or engineer token and is audited.
"""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import expect  # noqa: E402
from test_serve_reconnect import CI, QUICK, ROLLER, Daemon  # noqa: E402

import subprocess  # noqa: E402

OPERATOR = "operator-secret-0123456789ab"
RIG_SERIAL = "RIGSIM-LANES-3"


def start_rigsim(env, link, lot):
    return subprocess.Popen([env.rigsim, "--roller", env.roller(ROLLER), "--link", link,
                             "--serial", RIG_SERIAL, "--lanes", "2", "--phantom-lot", lot],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def submit(daemon, serial):
    status, body = daemon.json("POST", "/api/v1/runs", {"suite": QUICK, "rollers": [serial]}, CI)
    expect(status == 201, f"submit: {status} {body}")
    return body["runs"][0]["id"]


def lanes_of(daemon, run_id):
    status, report = daemon.json("GET", f"/api/v1/runs/{run_id}/report.json")
    expect(status == 200, f"report of run {run_id}: {status} {report}")
    return [roll["lane"] for roll in report["rolls"]]


def test_each_run_on_a_held_rig_rolls_a_fresh_lane_until_the_phantom_is_used_up(env):
    link = env.out("lanes-tty")
    data = env.out("lanes")
    rigsim = start_rigsim(env, link, "LOT-A")
    daemon = None
    try:
        daemon = Daemon(env, link, data,
                        f"  - {{name: alice, role: operator, token: \"{OPERATOR}\"}}\n")
        rig = daemon.wait_rig(lambda r: r["state"] == "connected", "connected")
        expect(rig["phantom_lot"] == "LOT-A" and rig["phantom_lanes"] == 2
               and rig["phantom_lanes_used"] == [] and rig["phantom_exhausted"] is False,
               f"a fresh tray of two lanes: {rig}")

        first = daemon.wait_final(submit(daemon, "LANE-0001"))
        second = daemon.wait_final(submit(daemon, "LANE-0002"))
        expect(first["state"] == "passed" and second["state"] == "passed",
               f"both runs pass, though the suite says lane 0 for both: {first} {second}")
        expect(lanes_of(daemon, first["id"]) == [0] and lanes_of(daemon, second["id"]) == [1],
               f"lanes: {lanes_of(daemon, first['id'])} {lanes_of(daemon, second['id'])}")

        waiting = submit(daemon, "LANE-0003")
        rig = daemon.wait_rig(lambda r: r["phantom_exhausted"], "exhausted")
        expect([u["lane"] for u in rig["phantom_lanes_used"]] == [0, 1]
               and [u["run_id"] for u in rig["phantom_lanes_used"]] == [first["id"], second["id"]],
               f"the used lanes name their runs: {rig}")
        status, health = daemon.json("GET", "/healthz")
        expect(health["phantom_exhausted"] is True and health["queue_length"] == 1,
               f"healthz: {health}")
        status, row = daemon.json("GET", f"/api/v1/runs/{waiting}")
        expect(row["state"] == "queued", f"the third run waits instead of failing: {row}")

        status, body = daemon.json("POST", "/api/v1/rig/phantom")
        expect(status == 401, f"replacing the phantom without a token: {status} {body}")
        status, body = daemon.json("POST", "/api/v1/rig/phantom", token=CI)
        expect(status == 403, f"a ci token may not replace the phantom: {status} {body}")

        # A new phantom: rigsim's can only be replaced by restarting it, with another lot.
        rigsim.kill()
        rigsim.wait()
        rigsim = start_rigsim(env, link, "LOT-B")
        row = daemon.wait_final(waiting)
        expect(row["state"] == "passed" and lanes_of(daemon, waiting) == [0],
               f"after the new lot, the waiting run passes on lane 0: {row}")
        rig = daemon.rig()
        expect(rig["phantom_lot"] == "LOT-B" and not rig["phantom_exhausted"]
               and [u["lane"] for u in rig["phantom_lanes_used"]] == [0], f"lot B: {rig}")

        # An operator says the phantom was replaced (same lot name): its lanes are fresh.
        status, body = daemon.json("POST", "/api/v1/rig/phantom", {}, OPERATOR)
        expect(status == 200 and body["phantom_lot"] == "LOT-B" and body["lanes_released"] == 1
               and body["phantom_exhausted"] is False, f"replace: {status} {body}")
        expect(daemon.rig()["phantom_lanes_used"] == [], "no lane used after the replacement")
        status, body = daemon.json("POST", "/api/v1/rig/phantom", {"phantom_lot": "LOT-A"},
                                   OPERATOR)
        expect(status == 200 and body["lanes_released"] == 2, f"replace lot A: {status} {body}")
    finally:
        code = daemon.stop() if daemon else 0
        if daemon:
            daemon.drained.join(timeout=10)
        rigsim.kill()
        rigsim.wait()
    expect(code == 0, f"SIGTERM: exit {code}")

    db = sqlite3.connect(os.path.join(data, "dermabench.db"))
    replaced = [json.loads(detail) | {"actor": actor, "role": role} for actor, role, detail in
                db.execute("SELECT actor, role, detail FROM audit_log "
                           "WHERE action = 'phantom.replace' ORDER BY seq")]
    lanes = [json.loads(d)["lane"] for (d,) in
             db.execute("SELECT detail FROM audit_log WHERE action = 'phantom.lane' ORDER BY seq")]
    db.close()
    expect([(r["actor"], r["role"], r["phantom_lot"], r["rig_serial"]) for r in replaced]
           == [("alice", "operator", "LOT-B", RIG_SERIAL), ("alice", "operator", "LOT-A", RIG_SERIAL)],
           f"phantom.replace audited: {replaced}")
    expect(lanes == [0, 1, 0], f"every lane claim audited: {lanes}")
    verify = env.run_bench("audit", "verify", "--db", os.path.join(data, "dermabench.db"))
    expect(verify.returncode == 0, f"audit verify: {harness.describe(verify)}")


if __name__ == "__main__":
    harness.main(globals())
