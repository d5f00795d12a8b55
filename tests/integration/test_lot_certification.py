"""A production lot certified end to end against the virtual rig (docs/lots.md).

Rollers of one lot (nominal ones with their own serials and seeds, and seeded defective ones)
are run with `bench run --db DB --lot LOT`; `bench lot certify` decides from the ISO 2859-1
plan and the depth capability, signs, and writes the certificate; `bench lot verify` must then
catch any change to the certificate files or to the database rows behind it.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import time

from harness import describe, expect, main
from test_serve import BENT as SERVE_BENT, CI, NOMINAL as SERVE_NOMINAL, VALIDATE, Daemon

MODEL = "DR-192-0.50"


def make_roller(env, serial, seed, defects=()):
    """A DR-192-0.50 roller file with its own serial and needle-length seed."""
    path = env.out(f"rollers/{serial}.yaml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    defect_text = "[" + ", ".join(defects) + "]"
    with open(path, "w") as f:
        f.write(f"model: {MODEL}\nserial: {serial}\n"
                "geometry: {discs: 8, needles_per_disc: 24, drum_diameter_mm: 20.0, width_mm: 20.0,\n"
                "           needle_length_mm: 0.50, needle_diameter_mm: 0.25}\n"
                f"variation: {{length_sd_um: 8}}\nseed: {seed}\ndefects: {defect_text}\n")
    return path


BENT = "{kind: bent, disc: 2, index: 5, length_loss_um: 150}"


def db_path(env):
    return env.out("lots.db")


def lot_create(env, lot, size, *extra):
    proc = env.run_bench("lot", "create", lot, "--model", MODEL, "--size", str(size), "--db", db_path(env),
                         "--spec", env.path("fixtures", "specs", f"{MODEL}.yaml"), "--json", *extra)
    expect(proc.returncode == 0, describe(proc))
    return json.loads(proc.stdout)


def run_roller(env, lot, serial, seed, defects=(), expect_code=None):
    roller = make_roller(env, serial, seed, defects)
    proc = env.run_bench("run", env.suite(MODEL), "--rig", "sim", "--roller", roller, "--out",
                         env.out(f"runs/{lot}/{serial}"), "--db", db_path(env), "--lot", lot, "--quiet")
    if expect_code is not None:
        expect(proc.returncode == expect_code, describe(proc))
    return proc


def certify(env, lot, signer="qa.lead", out_name=None, virtual_rig=True):
    """These lots are sampled on the virtual rig: a demonstration certificate unless told not."""
    return env.run_bench("lot", "certify", lot, "--signer", signer, "--meaning", "released",
                         "--key", env.out(f"keys/{signer}.ed25519"), "--out",
                         env.out(out_name or f"certs/{lot}"), "--db", db_path(env),
                         *(["--allow-virtual-rig"] if virtual_rig else []))


def production_blockers(status):
    """What blocks a lot other than its runs having been made on the virtual rig."""
    return [b for b in status["blocking"] if "virtual rig" not in b]


def verify(env, cert_json, db=None):
    return env.run_bench("lot", "verify", cert_json, "--db", db or db_path(env), "--json")


def copy_db(env, name):
    """A consistent copy of the results database (SQLite's backup API, WAL included)."""
    target = env.out(name)
    src = sqlite3.connect(db_path(env))
    dst = sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return target


def tamper(db, sql, *params):
    con = sqlite3.connect(db)
    con.execute(sql, params)
    con.commit()
    con.close()


def fill_sample(env, lot, plan, defective, seed0):
    """Runs plan['sample_size'] rollers of which the first `defective` are bent."""
    for i in range(plan["sample_size"]):
        serial = f"{lot}-{i + 1:03d}"
        defects = (BENT,) if i < defective else ()
        run_roller(env, lot, serial, seed0 + i, defects, expect_code=1 if defects else 0)


def test_a_lot_within_its_acceptance_number_is_accepted_and_its_certificate_verifies(env):
    # 26-50 rollers at level I is code C; at AQL 10 normal inspection samples 5, accept 1.
    plan = lot_create(env, "LOT-A", 40, "--level", "I", "--aql", "10")
    expect((plan["code_letter"], plan["sample_size"], plan["accept_number"], plan["reject_number"],
            plan["severity"]) == ("C", 5, 1, 2, "normal"), plan)
    fill_sample(env, "LOT-A", plan, defective=1, seed0=500)
    status = env.run_bench("lot", "status", "LOT-A", "--db", db_path(env), "--json")
    expect(status.returncode == 0, describe(status))
    s = json.loads(status.stdout)
    expect(s["sampled"] == 5 and s["nonconforming"] == 1 and production_blockers(s) == [], s)
    expect(s["virtual_rig_rollers"] == 5 and any("5 of the 5 counted runs were made on the virtual rig"
                                                  in b for b in s["blocking"]), s["blocking"])

    # Sampled on the virtual rig: no production release, only a declared demonstration.
    proc = certify(env, "LOT-A", virtual_rig=False)
    expect(proc.returncode == 5 and "simulated evidence cannot release a production lot" in proc.stderr,
           describe(proc))
    proc = certify(env, "LOT-A")
    expect(proc.returncode == 0, describe(proc))
    expect("ACCEPTED" in proc.stdout and "Demonstration only: 5 of the 5 sampled rollers" in proc.stdout,
           proc.stdout)
    cert = env.out("certs/LOT-A/CERT-LOT-A.json")
    for suffix in (".json", ".html", ".pdf"):
        expect(os.path.exists(cert.replace(".json", suffix)), f"certificate {suffix} written")
    with open(cert.replace(".json", ".pdf"), "rb") as f:
        expect(f.read(5) == b"%PDF-", "the PDF copy is a PDF")
    with open(cert) as f:
        envelope = json.load(f)
    record = json.loads(envelope["record"])
    expect(record["decision"] == "accepted" and record["nonconforming"] == 1, record)
    expect(record["virtual_rig_rollers"] == 5 and record["reasons"][0].startswith("Demonstration only"),
           record["reasons"])
    expect(len(record["rollers"]) == 5, "every sampled roller is named")
    failed = [r for r in record["rollers"] if r["verdict"] == "fail"]
    expect(len(failed) == 1 and failed[0]["serial"] == "LOT-A-001"
           and "penetration_depth" in failed[0]["failed_checks"], failed)
    expect(record["rigs"] and record["rigs"][0]["serial"] and record["rigs"][0]["calibration_due"],
           record["rigs"])
    expect(record["phantom_lots"] and record["operators"], record)
    expect(record["capability"]["cpk_lcb95"] is not None and record["capability"]["meets"], record["capability"])
    # Every run judged by this bench's analysis method: named, not mixed, no reason about it.
    method = record["analysis_method"]["certifying_bench"]
    expect(method >= 2 and all(r["analysis_method"] == method for r in record["rollers"])
           and record["analysis_method"]["sampled_rollers"] == [{"version": method, "rollers": 5}]
           and not record["analysis_method"]["mixed"], record["analysis_method"])
    expect(not any("analysis method" in r for r in record["reasons"]), record["reasons"])
    with open(cert.replace(".json", ".html")) as f:
        html = f.read()
    expect(f"<dt>Depths judged by</dt><dd>method {method}</dd>" in html, "the HTML names the runs' method")
    expect("LOT-A" in html and "qa.lead" in html and "released" in html, "the HTML names lot, signer, meaning")
    expect("Demonstration only" in html and "<h1>Demonstration certificate (virtual rig)</h1>" in html,
           "the HTML says the certificate is a demonstration")

    v = verify(env, cert)
    expect(v.returncode == 0, describe(v))
    expect(json.loads(v.stdout)["verified"] and json.loads(v.stdout)["virtual_rig_rollers"] == 5, v.stdout)
    expect(json.loads(v.stdout)["analysis_method"] == record["analysis_method"], v.stdout)

    # A certified lot takes no more runs.
    late = run_roller(env, "LOT-A", "LOT-A-LATE", 999)
    expect(late.returncode == 2 and "LOT-A" in late.stderr and "certified" in late.stderr, describe(late))
    again = certify(env, "LOT-A", out_name="certs/LOT-A-again")
    expect(again.returncode == 5 and "accepted already" in again.stderr, describe(again))


def test_tampering_with_a_verdict_the_certificate_or_the_spec_is_detected(env):
    cert = env.out("certs/LOT-A/CERT-LOT-A.json")
    expect(os.path.exists(cert), "needs the certificate of the first test")

    db = copy_db(env, "tampered-verdict.db")
    tamper(db, "UPDATE checks SET verdict = 'pass' WHERE run_id = "
               "(SELECT id FROM runs WHERE roller_serial = 'LOT-A-001')")
    tamper(db, "UPDATE runs SET verdict = 'pass', state = 'passed' WHERE roller_serial = 'LOT-A-001'")
    v = verify(env, cert, db)
    out = json.loads(v.stdout)
    expect(v.returncode == 1 and any("LOT-A-001" in p for p in out["problems"]), v.stdout)

    db = copy_db(env, "tampered-spec.db")
    tamper(db, "UPDATE specs SET text = text || '# loosened' WHERE sha256 = "
               "(SELECT spec_sha256 FROM lots WHERE lot = 'LOT-A')")
    v = verify(env, cert, db)
    expect(v.returncode == 1 and any("spec" in p for p in json.loads(v.stdout)["problems"]), v.stdout)

    db = copy_db(env, "tampered-plan.db")
    tamper(db, "UPDATE lots SET accept_number = 3, reject_number = 4 WHERE lot = 'LOT-A'")
    v = verify(env, cert, db)
    expect(v.returncode == 1 and any("sampling plan" in p for p in json.loads(v.stdout)["problems"]), v.stdout)

    copies = env.out("certs/LOT-A-edited")
    shutil.copytree(env.out("certs/LOT-A"), copies)
    html = os.path.join(copies, "CERT-LOT-A.html")
    with open(html) as f:
        text = f.read()
    with open(html, "w") as f:
        f.write(text.replace("LOT-A-001", "LOT-A-00l"))
    v = verify(env, os.path.join(copies, "CERT-LOT-A.json"))
    expect(v.returncode == 1 and any("CERT-LOT-A.html" in p for p in json.loads(v.stdout)["problems"]),
           v.stdout)

    edited = env.out("certs/LOT-A-edited/CERT-LOT-A.json")
    with open(edited) as f:
        envelope = json.load(f)
    envelope["record"] = envelope["record"].replace('"nonconforming":1', '"nonconforming":0')
    with open(edited, "w") as f:
        json.dump(envelope, f)
    v = verify(env, edited)
    problems = json.loads(v.stdout)["problems"]
    expect(v.returncode == 1 and any("signature" in p for p in problems), v.stdout)


def test_a_lot_at_its_rejection_number_is_rejected(env):
    plan = lot_create(env, "LOT-B", 40, "--level", "I", "--aql", "10")
    expect(plan["accept_number"] == 1 and plan["reject_number"] == 2, plan)
    # Rejection is certain once Re nonconforming rollers are found: the rest need not be run.
    fill_sample(env, "LOT-B", {"sample_size": 2}, defective=2, seed0=600)
    proc = certify(env, "LOT-B")
    expect(proc.returncode == 1 and "REJECTED" in proc.stdout, describe(proc))
    v = verify(env, env.out("certs/LOT-B/CERT-LOT-B.json"))
    expect(v.returncode == 0, describe(v))
    expect(json.loads(v.stdout)["decision"] == "rejected", v.stdout)


def test_two_rejected_lots_in_five_tighten_the_next_lot(env):
    # LOT-A was accepted, LOT-B rejected; one more rejection tightens inspection. (Runs
    # before the lots that later tests leave open or decide; the history is this model's.)
    plan = lot_create(env, "LOT-F", 40, "--level", "I", "--aql", "10")
    expect(plan["severity"] == "normal", plan)
    fill_sample(env, "LOT-F", {"sample_size": 2}, defective=2, seed0=1000)
    proc = certify(env, "LOT-F")
    expect(proc.returncode == 1, describe(proc))
    plan = lot_create(env, "LOT-G", 40, "--level", "I", "--aql", "10")
    expect(plan["severity"] == "tightened", plan)
    expect(plan["accept_number"] < 1 or plan["sample_size"] > 5, f"Table II-B is stricter: {plan}")


def test_certification_is_refused_while_the_sample_is_incomplete_or_a_run_is_not_final(env):
    plan = lot_create(env, "LOT-C", 40, "--level", "I", "--aql", "10")
    run_roller(env, "LOT-C", "LOT-C-001", 700, expect_code=0)
    proc = certify(env, "LOT-C")
    expect(proc.returncode == 5 and f"1 of {plan['sample_size']}" in proc.stderr, describe(proc))
    # A run still in progress (a daemon's, say) blocks certification.
    tamper(db_path(env), "INSERT INTO runs (state, spec_model, roller_serial, created_at, lot) "
                         "VALUES ('running', ?, 'LOT-C-002', '2026-01-01T00:00:00Z', 'LOT-C')", MODEL)
    proc = certify(env, "LOT-C")
    expect(proc.returncode == 5 and "LOT-C-002" in proc.stderr and "not final" in proc.stderr,
           describe(proc))


def test_certification_is_refused_when_the_spec_changed_during_the_lot(env):
    spec = env.out("spec-copy/DR-192-0.50.yaml")
    os.makedirs(os.path.dirname(spec), exist_ok=True)
    shutil.copy(env.path("fixtures", "specs", f"{MODEL}.yaml"), spec)
    proc = env.run_bench("lot", "create", "LOT-D", "--model", MODEL, "--size", "5", "--level", "S-1",
                         "--aql", "6.5", "--spec", spec, "--db", db_path(env), "--json")
    expect(proc.returncode == 0, describe(proc))
    plan = json.loads(proc.stdout)
    fill_sample(env, "LOT-D", plan, defective=0, seed0=800)
    with open(spec, "a") as f:
        f.write("# limits revised after the lot started\n")
    proc = certify(env, "LOT-D")
    expect(proc.returncode == 5 and "spec changed during the lot" in proc.stderr, describe(proc))


def test_certification_is_refused_when_the_rigs_calibration_is_past_due(env):
    plan = lot_create(env, "LOT-E", 5, "--level", "S-1", "--aql", "6.5")
    due = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    for i in range(plan["sample_size"]):
        link = env.out(f"rig-e-{i}")
        log = open(link + ".log", "w")
        rig = subprocess.Popen([env.rigsim, "--roller", make_roller(env, f"LOT-E-{i:03d}", 900 + i), "--link", link,
                                "--calibration-due", due], stderr=log)
        for _ in range(500):
            if os.path.islink(link):
                break
            time.sleep(0.01)
        try:
            proc = env.run_bench("run", env.suite(MODEL), "--rig", link, "--serial", f"LOT-E-{i:03d}", "--out",
                                 env.out(f"runs/LOT-E/{i}"), "--db", db_path(env), "--lot", "LOT-E", "--quiet")
        finally:
            rig.terminate()
            rig.wait(timeout=10)
        expect(proc.returncode == 0, describe(proc))
    # Three days later the calibration has lapsed: libfaketime shifts the clock of bench alone.
    environment = dict(os.environ, ASAN_OPTIONS="verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", ""))
    proc = subprocess.run(["faketime", "+3 days", env.bench, "lot", "certify", "LOT-E", "--signer", "qa.lead",
                           "--meaning", "released", "--key", env.out("keys/qa.lead.ed25519"), "--out",
                           env.out("certs/LOT-E"), "--db", db_path(env), "--allow-virtual-rig"],
                          capture_output=True, text=True, env=environment)
    expect(proc.returncode == 5 and "past due" in proc.stderr, describe(proc))
    # Today it certifies (two rollers are too few for the capability bound: rejected).
    proc = certify(env, "LOT-E")
    expect(proc.returncode in (0, 1) and "CERT-LOT-E" in proc.stdout, describe(proc))


def test_a_run_cannot_join_a_lot_of_another_model_or_a_missing_lot(env):
    proc = env.run_bench("run", env.suite("DR-192-1.00"), "--rig", "sim", "--roller", env.roller("nominal-DR-192-1.00"),
                         "--out", env.out("wrong-model"), "--db", db_path(env), "--lot", "LOT-C")
    expect(proc.returncode == 2 and "LOT-C is of model DR-192-0.50" in proc.stderr, describe(proc))
    proc = run_roller(env, "NO-SUCH-LOT", "X-1", 1)
    expect(proc.returncode == 2 and "no such lot" in proc.stderr, describe(proc))
    proc = env.run_bench("run", env.suite(MODEL), "--rig", "sim", "--roller", env.roller("nominal-DR-192-0.50"),
                         "--out", env.out("no-db"), "--lot", "LOT-C")
    expect(proc.returncode == 2 and "--lot needs --db" in proc.stderr, describe(proc))


def test_runs_submitted_to_the_daemon_join_a_lot_and_the_api_reports_its_status(env):
    data = env.out("serve-data")
    os.makedirs(data, exist_ok=True)
    db = os.path.join(data, "dermabench.db")
    proc = env.run_bench("lot", "create", "LOT-S", "--model", MODEL, "--size", "40", "--level", "I",
                         "--aql", "10", "--spec", env.path("fixtures", "specs", f"{MODEL}.yaml"), "--db", db)
    expect(proc.returncode == 0, describe(proc))
    daemon = Daemon(env, data)
    try:
        status, body = daemon.json("POST", "/api/v1/runs",
                                   {"suite": VALIDATE, "rollers": [SERVE_NOMINAL], "lot": "NO-SUCH"}, CI)
        expect(status == 409 and "no such lot" in body["error"]["message"], f"{status} {body}")
        status, body = daemon.json("GET", "/api/v1/runs")
        expect(status == 200 and body["runs"] == [], "a refused submission created no run")

        status, body = daemon.json("POST", "/api/v1/runs",
                                   {"suite": VALIDATE, "rollers": [SERVE_BENT], "lot": "LOT-S"}, CI)
        expect(status == 201, f"{status} {body}")
        daemon.wait_final(body["runs"][0]["id"])
        ci_token = env.out("ci.token")
        with open(ci_token, "w") as f:
            f.write(CI + "\n")
        proc = env.run_bench("submit", VALIDATE, "--server", f"http://127.0.0.1:{daemon.port}", "--roller",
                             SERVE_NOMINAL, "--token-file", ci_token, "--out", env.out("submit-lot"),
                             "--lot", "LOT-S", "--quiet")
        expect(proc.returncode == 0, describe(proc))

        status, lot = daemon.json("GET", "/api/v1/lots/LOT-S")
        expect(status == 200, f"{status} {lot}")
        expect(lot["sampled"] == 2 and lot["nonconforming"] == 1 and lot["sample_size"] == 5, lot)
        expect(any("incomplete: 2 of 5" in b for b in lot["blocking"]), lot["blocking"])
        status, _ = daemon.json("GET", "/api/v1/lots/LOT-NONE")
        expect(status == 404, f"unknown lot: {status}")
    finally:
        daemon.stop()


def test_a_lot_sampled_with_the_quick_suite_is_refused(env):
    plan = lot_create(env, "LOT-Q", 5, "--level", "S-1", "--aql", "6.5")
    quick = env.path("fixtures", "suites", "quick-DR-192-0.50.yaml")
    for i in range(plan["sample_size"]):
        roller = make_roller(env, f"LOT-Q-{i}", 1200 + i)
        proc = env.run_bench("run", quick, "--rig", "sim", "--roller", roller, "--out",
                             env.out(f"runs/LOT-Q/{i}"), "--db", db_path(env), "--lot", "LOT-Q", "--quiet")
        expect(proc.returncode == 0, describe(proc))
    proc = certify(env, "LOT-Q")
    expect(proc.returncode == 5 and "without the checks missing_channels" in proc.stderr, describe(proc))


def test_a_signer_key_swapped_in_the_database_is_caught(env):
    cert = env.out("certs/LOT-A/CERT-LOT-A.json")
    db = copy_db(env, "swapped-key.db")
    con = sqlite3.connect(db)
    try:
        con.execute("DELETE FROM signers WHERE name = 'qa.lead'")
        raise AssertionError("an enrolled signer could be deleted")
    except sqlite3.DatabaseError as e:
        expect("cannot be removed" in str(e), str(e))
    con.close()
    # With the trusted keys kept outside the database, another key is reported.
    with open(cert) as f:
        key = json.load(f)["public_key"]
    trusted = env.out("trusted-keys")
    with open(trusted, "w") as f:
        f.write(f"qa.lead {key}\n")
    v = env.run_bench("lot", "verify", cert, "--db", db_path(env), "--trusted-keys", trusted, "--json")
    expect(v.returncode == 0, describe(v))
    with open(trusted, "w") as f:
        f.write("# the quality manual's list\nqa.lead " + "ab" * 32 + "\n")
    v = env.run_bench("lot", "verify", cert, "--db", db_path(env), "--trusted-keys", trusted, "--json")
    expect(v.returncode == 1 and any("trusts" in p for p in json.loads(v.stdout)["problems"]), v.stdout)


def test_a_lot_judged_by_two_analysis_methods_is_refused_unless_mixing_is_allowed(env):
    plan = lot_create(env, "LOT-M", 2)
    for i in range(plan["sample_size"]):
        run_roller(env, "LOT-M", f"LOT-M-{i + 1:03d}", 3100 + i, expect_code=0)
    # The first roller as a bench before the upgrade would have recorded it: method 1.
    tamper(db_path(env), "UPDATE runs SET analysis_method = 1 WHERE roller_serial = 'LOT-M-001'")

    status = json.loads(env.run_bench("lot", "status", "LOT-M", "--db", db_path(env), "--json").stdout)
    expect(any("more than one analysis method" in b for b in status["blocking"])
           and status["analysis_method"]["mixed"], status)
    current = status["analysis_method"]["certifying_bench"]  # this bench's method, 2 or later
    proc = certify(env, "LOT-M")
    expect(proc.returncode == 5 and "judged by more than one analysis method (method 1 judged 1 run"
           in proc.stderr and "--allow-mixed-methods" in proc.stderr, describe(proc))

    proc = env.run_bench("lot", "certify", "LOT-M", "--signer", "qa.lead", "--meaning", "released",
                         "--key", env.out("keys/qa.lead.ed25519"), "--out", env.out("certs/LOT-M"),
                         "--db", db_path(env), "--allow-virtual-rig", "--allow-mixed-methods")
    expect(proc.returncode in (0, 1) and "Mixed analysis methods: the 2 sampled rollers were judged by "
           f"method 1 (1 roller) and method {current} (1 roller)" in proc.stdout, describe(proc))
    cert = env.out("certs/LOT-M/CERT-LOT-M.json")
    with open(cert) as f:
        record = json.loads(json.load(f)["record"])
    expect(record["analysis_method"]["mixed"]
           and [r["analysis_method"] for r in record["rollers"]] == [1, current], record["analysis_method"])
    expect(record["reasons"][0].startswith("Demonstration only")
           and record["reasons"][1].startswith("Mixed analysis methods"), record["reasons"])
    v = env.run_bench("lot", "verify", cert, "--db", db_path(env))
    expect(v.returncode == 0 and "note: the sampled rollers were judged by different analysis methods: "
           f"method 1 (1 roller) and method {current} (1 roller)" in v.stdout, describe(v))


def test_a_certificate_signed_before_certificates_named_the_method_still_verifies(env):
    """fixtures/certificates/v6: a schema version 6 store and its certificate, as a bench of that
    version wrote them; today's bench migrates the store and verifies the certificate."""
    fixture = env.path("fixtures", "certificates", "v6")
    db = env.out("lots-v6.db")
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    with open(os.path.join(fixture, "lots-v6.sql")) as f:
        con.executescript(f.read())
    con.close()

    v = verify(env, os.path.join(fixture, "CERT-LOT-V6.json"), db)
    expect(v.returncode == 0, describe(v))
    result = json.loads(v.stdout)
    expect(result["verified"] and result["problems"] == [] and result["analysis_method"] is None
           and result["virtual_rig_rollers"] == 2, result)
    text = env.run_bench("lot", "verify", os.path.join(fixture, "CERT-LOT-V6.json"), "--db", db)
    expect(text.returncode == 0 and "signed before certificates named the analysis method" in text.stdout,
           describe(text))
    # Its runs, migrated, read as judged by method 1.
    for run in (1, 2):
        show = env.run_bench("show", str(run), "--db", db, "--json")
        expect(show.returncode == 0 and json.loads(show.stdout)["analysis_method"] == 1, describe(show))
    con = sqlite3.connect(db)
    expect(con.execute("PRAGMA user_version").fetchone()[0] == 7, "the store is migrated to version 7")
    con.close()


if __name__ == "__main__":
    main(globals())
