"""The results database on PostgreSQL (docs/storage.md): `--store postgresql://...`.

Two `bench serve` daemons, each with its own virtual rig, start at once against one fresh
PostgreSQL database (so they migrate it at the same moment) and record runs concurrently;
`bench history` sees every run of both, `bench audit verify` finds one intact chain; then a
production lot is created, sampled with `bench run --store URL --lot`, certified and verified
on PostgreSQL, and a verdict changed behind bench's back in the database is caught.

Needs DERMA_TEST_PG_URL (a database this test may create databases from; .ci/run starts a
throwaway cluster with scripts/pg-test-cluster and sets it). Without it, under CI the test
fails saying so; elsewhere it starts a throwaway cluster of its own.
"""
import atexit
import glob
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import describe, expect, main  # noqa: E402
from test_lot_certification import BENT as BENT_NEEDLE, make_roller  # noqa: E402
from test_serve import BENT, CI, NOMINAL, VALIDATE, Daemon  # noqa: E402

MODEL = "DR-192-0.50"


def psql_binary():
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True):
        return candidate
    found = shutil.which("psql")
    expect(found, "psql not found (apt-get install postgresql-client; scripts/setup)")
    return found


class Database:
    """A fresh database for this test in the cluster DERMA_TEST_PG_URL points at."""

    def __init__(self, env):
        self.cluster_dir = None
        base = os.environ.get("DERMA_TEST_PG_URL", "")
        if not base:
            expect(os.environ.get("CI") != "true",
                   "DERMA_TEST_PG_URL is not set: CI must start a PostgreSQL for this test "
                   "(.ci/run: eval \"$(scripts/pg-test-cluster start)\")")
            started = subprocess.run([os.path.join(env.src, "scripts", "pg-test-cluster"), "start"],
                                     capture_output=True, text=True)
            expect(started.returncode == 0, "could not start a throwaway PostgreSQL: " + started.stderr)
            exports = dict(line.replace("export ", "", 1).split("=", 1)
                           for line in started.stdout.splitlines() if line.startswith("export "))
            base = exports["DERMA_TEST_PG_URL"].strip("'")
            self.cluster_dir = exports["DERMA_PG_CLUSTER_DIR"].strip("'")
        self.psql = psql_binary()
        self.base = base
        self.name = f"derma_it_{os.getpid()}"
        self.sql(f"DROP DATABASE IF EXISTS {self.name}", url=base)
        self.sql(f"CREATE DATABASE {self.name}", url=base)
        parts = urllib.parse.urlsplit(base)
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))

    def sql(self, statement, url=None):
        proc = subprocess.run([self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-d", url or self.url, "-c", statement],
                              capture_output=True, text=True)
        expect(proc.returncode == 0, f"psql: {statement}: {proc.stderr}")
        return proc.stdout.strip()

    def drop(self):
        subprocess.run([self.psql, "-X", "-q", "-d", self.base, "-c",
                        f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"], capture_output=True)
        if self.cluster_dir:
            subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                         "scripts", "pg-test-cluster"), "stop", self.cluster_dir],
                           capture_output=True)


DB = None


def database(env):
    global DB
    if DB is None:
        DB = Database(env)
        atexit.register(DB.drop)
    return DB


def start_daemons_at_once(env, url, names):
    """Starts one daemon per name, all at the same moment, each on its own data directory."""
    daemons, errors = {}, []

    def start(name):
        try:
            data = env.out(f"serve-{name}")
            os.makedirs(data, exist_ok=True)
            daemons[name] = Daemon(env, data, "--store", url)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{name}: {e}")

    threads = [threading.Thread(target=start, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for d in daemons.values():
            d.stop()
        raise AssertionError("daemons did not start: " + "; ".join(errors))
    return daemons


def test_two_daemons_share_one_database_and_every_run_is_recorded_once(env):
    db = database(env)
    daemons = start_daemons_at_once(env, db.url, ["rig-a", "rig-b"])
    try:
        submitted = {}
        for name, daemon in daemons.items():
            submitted[name] = daemon.submit(VALIDATE, [NOMINAL, BENT], requester=f"ci {name}")
        for name, daemon in daemons.items():
            rows = [daemon.wait_final(run_id) for run_id in submitted[name]]
            states = [r["state"] for r in rows]
            expect(states == ["passed", "failed"], f"{name}: {states}\n{''.join(daemon.log)[-3000:]}")
        ids = [i for ids in submitted.values() for i in ids]
        expect(len(set(ids)) == 4, f"every run has its own id across daemons: {submitted}")
    finally:
        codes = {name: d.stop() for name, d in daemons.items()}
    expect(all(code == 0 for code in codes.values()), f"daemons stopped cleanly: {codes}")

    history = env.run_bench("history", "--store", db.url, "--json")
    expect(history.returncode == 0, describe(history))
    runs = json.loads(history.stdout)["runs"]
    expect(len(runs) == 4, f"history sees the runs of both daemons: {runs}")
    by_requester = {}
    for r in runs:
        by_requester.setdefault(r["requester"], []).append(r["state"])
    expect(sorted(by_requester) == ["ci rig-a", "ci rig-b"], by_requester)
    for requester, states in by_requester.items():
        expect(sorted(states) == ["failed", "passed"], f"{requester}: {states}")
    expect(all(r["verdict"] and r["spec_sha256"] for r in runs), "every run was recorded in full")

    show = env.run_bench("show", str(ids[-1]), "--store", db.url, "--json")
    expect(show.returncode == 0, describe(show))

    verify = env.run_bench("audit", "verify", "--store", db.url)
    expect(verify.returncode == 0, describe(verify))
    log = env.run_bench("audit", "log", "--store", db.url, "--json", "--limit", "0")
    expect(log.returncode == 0, describe(log))
    entries = json.loads(log.stdout)["entries"]
    starts = [e for e in entries if e["action"] == "daemon.start"]
    expect(len(starts) == 2, f"both daemons' starts are in the one chain: {starts}")
    expect([e["seq"] for e in entries] == list(range(1, len(entries) + 1)), "one gapless chain")


def test_a_lot_is_sampled_certified_and_verified_on_postgresql(env):
    db = database(env)
    url = db.url
    # 2-8 rollers at level S-1 is code A: sample 2, accept 0 at AQL 6.5 (a short lot keeps CI
    # fast); its bent roller rejects it.
    create = env.run_bench("lot", "create", "LOT-PG", "--model", MODEL, "--size", "5", "--level", "S-1",
                           "--aql", "6.5", "--spec", env.path("fixtures", "specs", f"{MODEL}.yaml"),
                           "--store", url, "--json")
    expect(create.returncode == 0, describe(create))
    plan = json.loads(create.stdout)
    expect((plan["sample_size"], plan["accept_number"]) == (2, 0), plan)
    for i in range(plan["sample_size"]):
        serial = f"LOT-PG-{i + 1:03d}"
        defects = (BENT_NEEDLE,) if i == 0 else ()
        roller = make_roller(env, serial, 1500 + i, defects)
        proc = env.run_bench("run", env.suite(MODEL), "--rig", "sim", "--roller", roller, "--out",
                             env.out(f"runs/LOT-PG/{serial}"), "--store", url, "--lot", "LOT-PG", "--quiet")
        expect(proc.returncode == (1 if defects else 0), describe(proc))

    status = env.run_bench("lot", "status", "LOT-PG", "--store", url, "--json")
    expect(status.returncode == 0, describe(status))
    s = json.loads(status.stdout)
    expect(s["sampled"] == 2 and s["nonconforming"] == 1
           and [b for b in s["blocking"] if "virtual rig" not in b] == [], s)

    certify = env.run_bench("lot", "certify", "LOT-PG", "--signer", "qa.lead", "--meaning", "released",
                            "--key", env.out("keys/qa.lead.ed25519"), "--out", env.out("certs/LOT-PG"),
                            "--store", url, "--allow-virtual-rig")
    expect(certify.returncode == 1 and "REJECTED" in certify.stdout, describe(certify))
    cert = env.out("certs/LOT-PG/CERT-LOT-PG.json")
    verify = env.run_bench("lot", "verify", cert, "--store", url, "--json")
    expect(verify.returncode == 0 and json.loads(verify.stdout)["verified"], describe(verify))
    # The runs' analysis method, kept in runs.analysis_method, is the one the certificate names.
    with open(cert) as f:
        record = json.loads(json.load(f)["record"])
    for roller in record["rollers"]:
        show = env.run_bench("show", str(roller["run_id"]), "--store", url, "--json")
        expect(show.returncode == 0
               and json.loads(show.stdout)["analysis_method"] == roller["analysis_method"]
               == record["analysis_method"]["certifying_bench"], describe(show))
    audit = env.run_bench("audit", "verify", "--store", url)
    expect(audit.returncode == 0, describe(audit))

    # The certificate row is append-only in PostgreSQL too.
    refused = subprocess.run([db.psql, "-X", "-q", "-d", url, "-c",
                              "UPDATE certificates SET decision = 'rejected'"], capture_output=True, text=True)
    expect(refused.returncode != 0 and "append-only" in refused.stderr, refused.stderr)
    # A stored verdict changed behind bench's back is caught by lot verify.
    db.sql("UPDATE checks SET verdict = 'pass' WHERE run_id = "
           "(SELECT id FROM runs WHERE roller_serial = 'LOT-PG-001')")
    db.sql("UPDATE runs SET verdict = 'pass', state = 'passed' WHERE roller_serial = 'LOT-PG-001'")
    tampered = env.run_bench("lot", "verify", cert, "--store", url, "--json")
    problems = json.loads(tampered.stdout)["problems"]
    expect(tampered.returncode == 1 and any("LOT-PG-001" in p for p in problems), tampered.stdout)
    # So is a run relabelled as judged by another analysis method.
    db.sql("UPDATE runs SET analysis_method = 1 WHERE roller_serial = 'LOT-PG-002'")
    relabelled = env.run_bench("lot", "verify", cert, "--store", url, "--json")
    problems = json.loads(relabelled.stdout)["problems"]
    expect(relabelled.returncode == 1 and any("LOT-PG-002" in p for p in problems), relabelled.stdout)


def test_a_store_url_naming_no_server_is_a_clear_error_without_the_password(env):
    proc = env.run_bench("history", "--store", "postgresql://bench:s3cret@127.0.0.1:1/none?connect_timeout=5")
    expect(proc.returncode != 0, describe(proc))
    expect("postgresql://bench:***@127.0.0.1:1/none" in proc.stderr and "s3cret" not in proc.stderr,
           describe(proc))


if __name__ == "__main__":
    main(globals())
