#include "bench/store/schema.hpp"

namespace derma::store {

namespace {

// Version 1: runs and what they measured, the rollers, specs and rigs they involved, and the
// audit log. Times are ISO 8601 UTC text. The audit log is append-only: triggers refuse
// UPDATE and DELETE, and its hash chain (results_db.cpp, audit_hash) shows any change made
// by someone who removed the triggers. audit_head records the last entry appended, so a
// removed tail shows too.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE rollers (
  serial     TEXT PRIMARY KEY,
  model      TEXT NOT NULL DEFAULT '',
  first_seen TEXT NOT NULL
);
CREATE TABLE specs (
  sha256 TEXT PRIMARY KEY,
  model  TEXT NOT NULL,
  text   TEXT NOT NULL
);
CREATE TABLE rigs (
  serial           TEXT PRIMARY KEY,
  firmware_version TEXT NOT NULL DEFAULT '',
  calibration_date TEXT NOT NULL DEFAULT '',
  calibration_due  TEXT NOT NULL DEFAULT '',
  last_seen        TEXT NOT NULL
);
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'passed', 'failed',
                                  'error', 'aborted', 'cancelled', 'interrupted')),
  suite_file       TEXT NOT NULL DEFAULT '',
  suite_name       TEXT NOT NULL DEFAULT '',
  spec_model       TEXT NOT NULL DEFAULT '',
  spec_sha256      TEXT REFERENCES specs(sha256),
  roller_serial    TEXT NOT NULL DEFAULT '',
  requester        TEXT NOT NULL DEFAULT '',
  operator         TEXT NOT NULL DEFAULT '',
  rig_address      TEXT NOT NULL DEFAULT '',
  rig_serial       TEXT NOT NULL DEFAULT '',
  firmware_version TEXT NOT NULL DEFAULT '',
  calibration_due  TEXT NOT NULL DEFAULT '',
  software_version TEXT NOT NULL DEFAULT '',
  created_at       TEXT NOT NULL,
  started_at       TEXT NOT NULL DEFAULT '',
  finished_at      TEXT NOT NULL DEFAULT '',
  verdict          TEXT NOT NULL DEFAULT '',
  exit_code        INTEGER NOT NULL DEFAULT -1,
  error            TEXT NOT NULL DEFAULT '',
  out_dir          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_state ON runs(state);
CREATE INDEX runs_by_roller ON runs(roller_serial);
CREATE INDEX runs_by_spec ON runs(spec_model);
CREATE TABLE checks (
  run_id      INTEGER NOT NULL REFERENCES runs(id),
  roll        INTEGER NOT NULL,
  check_id    TEXT NOT NULL,
  verdict     TEXT NOT NULL,
  value       REAL,
  unit        TEXT NOT NULL DEFAULT '',
  lower_limit REAL,
  upper_limit REAL,
  summary     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX checks_by_run ON checks(run_id);
-- The checks' secondary figures (disc and needle NULL) and the mean channel depth of every
-- needle (name 'needle_mean_depth', n channels).
CREATE TABLE measurements (
  run_id   INTEGER NOT NULL REFERENCES runs(id),
  roll     INTEGER NOT NULL,
  check_id TEXT NOT NULL,
  name     TEXT NOT NULL,
  value    REAL NOT NULL,
  unit     TEXT NOT NULL DEFAULT '',
  disc     INTEGER,
  needle   INTEGER,
  n        INTEGER
);
CREATE INDEX measurements_by_run ON measurements(run_id);
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  role      TEXT NOT NULL,
  action    TEXT NOT NULL,
  subject   TEXT NOT NULL,
  origin    TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted');
END;
CREATE TABLE audit_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
)sql";

// Version 1 in PostgreSQL's words: the same tables and columns. Differences: 64-bit ids
// (BIGINT, GENERATED ALWAYS AS IDENTITY for AUTOINCREMENT), DOUBLE PRECISION for SQLite's
// 8-byte REAL, an explicit `rowid` identity on the tables read in insertion order (SQLite has
// one implicitly), and the append-only triggers as one plpgsql function raising an exception
// (plus TRUNCATE, which row triggers do not see).
constexpr const char* kVersion1Postgresql = R"sql(
CREATE TABLE rollers (
  serial     TEXT PRIMARY KEY,
  model      TEXT NOT NULL DEFAULT '',
  first_seen TEXT NOT NULL
);
CREATE TABLE specs (
  sha256 TEXT PRIMARY KEY,
  model  TEXT NOT NULL,
  text   TEXT NOT NULL
);
CREATE TABLE rigs (
  serial           TEXT PRIMARY KEY,
  firmware_version TEXT NOT NULL DEFAULT '',
  calibration_date TEXT NOT NULL DEFAULT '',
  calibration_due  TEXT NOT NULL DEFAULT '',
  last_seen        TEXT NOT NULL
);
CREATE TABLE runs (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'passed', 'failed',
                                  'error', 'aborted', 'cancelled', 'interrupted')),
  suite_file       TEXT NOT NULL DEFAULT '',
  suite_name       TEXT NOT NULL DEFAULT '',
  spec_model       TEXT NOT NULL DEFAULT '',
  spec_sha256      TEXT REFERENCES specs(sha256),
  roller_serial    TEXT NOT NULL DEFAULT '',
  requester        TEXT NOT NULL DEFAULT '',
  operator         TEXT NOT NULL DEFAULT '',
  rig_address      TEXT NOT NULL DEFAULT '',
  rig_serial       TEXT NOT NULL DEFAULT '',
  firmware_version TEXT NOT NULL DEFAULT '',
  calibration_due  TEXT NOT NULL DEFAULT '',
  software_version TEXT NOT NULL DEFAULT '',
  created_at       TEXT NOT NULL,
  started_at       TEXT NOT NULL DEFAULT '',
  finished_at      TEXT NOT NULL DEFAULT '',
  verdict          TEXT NOT NULL DEFAULT '',
  exit_code        INTEGER NOT NULL DEFAULT -1,
  error            TEXT NOT NULL DEFAULT '',
  out_dir          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_state ON runs(state);
CREATE INDEX runs_by_roller ON runs(roller_serial);
CREATE INDEX runs_by_spec ON runs(spec_model);
CREATE TABLE checks (
  rowid       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      BIGINT NOT NULL REFERENCES runs(id),
  roll        INTEGER NOT NULL,
  check_id    TEXT NOT NULL,
  verdict     TEXT NOT NULL,
  value       DOUBLE PRECISION,
  unit        TEXT NOT NULL DEFAULT '',
  lower_limit DOUBLE PRECISION,
  upper_limit DOUBLE PRECISION,
  summary     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX checks_by_run ON checks(run_id);
CREATE TABLE measurements (
  rowid    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id   BIGINT NOT NULL REFERENCES runs(id),
  roll     INTEGER NOT NULL,
  check_id TEXT NOT NULL,
  name     TEXT NOT NULL,
  value    DOUBLE PRECISION NOT NULL,
  unit     TEXT NOT NULL DEFAULT '',
  disc     INTEGER,
  needle   INTEGER,
  n        INTEGER
);
CREATE INDEX measurements_by_run ON measurements(run_id);
CREATE TABLE audit_log (
  seq       BIGINT PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  role      TEXT NOT NULL,
  action    TEXT NOT NULL,
  subject   TEXT NOT NULL,
  origin    TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE FUNCTION derma_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
  EXECUTE FUNCTION derma_refuse_change('audit_log is append-only: entries cannot be changed');
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
  EXECUTE FUNCTION derma_refuse_change('audit_log is append-only: entries cannot be deleted');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT
  EXECUTE FUNCTION derma_refuse_change('audit_log is append-only: entries cannot be deleted');
CREATE TABLE audit_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
)sql";

// Version 2: the phantom lanes `bench serve` has used on a held device rig. A lane rolled
// once holds that roll's channels; rolling it again lands on them (channel_density reads
// about double), so each run gets a lane of the tray no earlier run used. The set is per rig
// serial and phantom lot: a new lot is a fresh tray. Replacing a phantom deletes its rows
// (the audit log keeps the `phantom.replace` entry). run_id is not a foreign key: the lane
// stays used whatever becomes of the run.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE phantom_lanes (
  rig_serial  TEXT NOT NULL,
  phantom_lot TEXT NOT NULL,
  lane        INTEGER NOT NULL CHECK (lane >= 0),
  run_id      INTEGER NOT NULL,
  used_at     TEXT NOT NULL,
  PRIMARY KEY (rig_serial, phantom_lot, lane)
);
)sql";

constexpr const char* kVersion2Postgresql = R"sql(
CREATE TABLE phantom_lanes (
  rig_serial  TEXT NOT NULL,
  phantom_lot TEXT NOT NULL,
  lane        INTEGER NOT NULL CHECK (lane >= 0),
  run_id      BIGINT NOT NULL,
  used_at     TEXT NOT NULL,
  PRIMARY KEY (rig_serial, phantom_lot, lane)
);
)sql";

// Version 3: production lots and their certificates (bench lot). A run belongs to at most one
// lot (runs.lot); the run also keeps the phantom lot and the load-cell calibration it ran
// under, which a certificate names. A lot keeps the sampling plan it was created with and
// the SHA-256 of its spec, so a spec that changes during the lot is caught. Certificates
// and signers, like the audit log, are append-only: a certificate is re-issued, never
// edited, and every one is also an entry of the audit chain.
constexpr const char* kVersion3 = R"sql(
ALTER TABLE runs ADD COLUMN lot TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN phantom_lot TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN calibration_date TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN load_cell_factor REAL;
CREATE INDEX runs_by_lot ON runs(lot);
CREATE TABLE lots (
  lot           TEXT PRIMARY KEY,
  model         TEXT NOT NULL,
  spec_sha256   TEXT NOT NULL REFERENCES specs(sha256),
  spec_file     TEXT NOT NULL DEFAULT '',
  lot_size      INTEGER NOT NULL CHECK (lot_size > 0),
  aql           REAL NOT NULL,
  level         TEXT NOT NULL,
  severity      TEXT NOT NULL CHECK (severity IN ('normal', 'tightened', 'reduced')),
  code_letter   TEXT NOT NULL,
  sample_size   INTEGER NOT NULL,
  accept_number INTEGER NOT NULL,
  reject_number INTEGER NOT NULL,
  created_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected')),
  decided_at    TEXT NOT NULL DEFAULT '',
  nonconforming INTEGER
);
CREATE INDEX lots_by_model ON lots(model, created_at);
CREATE TABLE signers (
  name        TEXT PRIMARY KEY,
  public_key  TEXT NOT NULL,
  enrolled_at TEXT NOT NULL
);
CREATE TABLE certificates (
  id            TEXT PRIMARY KEY,
  lot           TEXT NOT NULL REFERENCES lots(lot),
  decision      TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected')),
  record        TEXT NOT NULL,
  record_sha256 TEXT NOT NULL,
  signature     TEXT NOT NULL,
  public_key    TEXT NOT NULL,
  signer        TEXT NOT NULL REFERENCES signers(name),
  signed_at     TEXT NOT NULL,
  files         TEXT NOT NULL DEFAULT '{}',
  audit_seq     INTEGER NOT NULL
);
CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates
BEGIN
  SELECT RAISE(ABORT, 'certificates are append-only: a certificate cannot be changed');
END;
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
BEGIN
  SELECT RAISE(ABORT, 'certificates are append-only: a certificate cannot be deleted');
END;
CREATE TRIGGER signers_no_update BEFORE UPDATE ON signers
BEGIN
  SELECT RAISE(ABORT, 'a signer key cannot be changed once enrolled');
END;
)sql";

constexpr const char* kVersion3Postgresql = R"sql(
ALTER TABLE runs ADD COLUMN lot TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN phantom_lot TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN calibration_date TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN load_cell_factor DOUBLE PRECISION;
CREATE INDEX runs_by_lot ON runs(lot);
CREATE TABLE lots (
  rowid         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  lot           TEXT PRIMARY KEY,
  model         TEXT NOT NULL,
  spec_sha256   TEXT NOT NULL REFERENCES specs(sha256),
  spec_file     TEXT NOT NULL DEFAULT '',
  lot_size      INTEGER NOT NULL CHECK (lot_size > 0),
  aql           DOUBLE PRECISION NOT NULL,
  level         TEXT NOT NULL,
  severity      TEXT NOT NULL CHECK (severity IN ('normal', 'tightened', 'reduced')),
  code_letter   TEXT NOT NULL,
  sample_size   INTEGER NOT NULL,
  accept_number INTEGER NOT NULL,
  reject_number INTEGER NOT NULL,
  created_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected')),
  decided_at    TEXT NOT NULL DEFAULT '',
  nonconforming INTEGER
);
CREATE INDEX lots_by_model ON lots(model, created_at);
CREATE TABLE signers (
  name        TEXT PRIMARY KEY,
  public_key  TEXT NOT NULL,
  enrolled_at TEXT NOT NULL
);
CREATE TABLE certificates (
  id            TEXT PRIMARY KEY,
  lot           TEXT NOT NULL REFERENCES lots(lot),
  decision      TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected')),
  record        TEXT NOT NULL,
  record_sha256 TEXT NOT NULL,
  signature     TEXT NOT NULL,
  public_key    TEXT NOT NULL,
  signer        TEXT NOT NULL REFERENCES signers(name),
  signed_at     TEXT NOT NULL,
  files         TEXT NOT NULL DEFAULT '{}',
  audit_seq     BIGINT NOT NULL
);
CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates FOR EACH ROW
  EXECUTE FUNCTION derma_refuse_change('certificates are append-only: a certificate cannot be changed');
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates FOR EACH ROW
  EXECUTE FUNCTION derma_refuse_change('certificates are append-only: a certificate cannot be deleted');
CREATE TRIGGER certificates_no_truncate BEFORE TRUNCATE ON certificates FOR EACH STATEMENT
  EXECUTE FUNCTION derma_refuse_change('certificates are append-only: a certificate cannot be deleted');
CREATE TRIGGER signers_no_update BEFORE UPDATE ON signers FOR EACH ROW
  EXECUTE FUNCTION derma_refuse_change('a signer key cannot be changed once enrolled');
)sql";

// Version 4: which process runs a run (process_identity.hpp: host, pid and the process's
// start time), set when the run starts. With many daemons on one store, a daemon starting up
// marks `interrupted` only the runs whose process is gone from its own host. The same SQL in
// both dialects.
constexpr const char* kVersion4 = R"sql(
ALTER TABLE runs ADD COLUMN runner TEXT NOT NULL DEFAULT '';
)sql";

// Version 5: an enrolled signer cannot be removed either (a removed row could be enrolled
// again with another key); bench lot verify also checks each key against its audit entry.
constexpr const char* kVersion5 = R"sql(
CREATE TRIGGER signers_no_delete BEFORE DELETE ON signers
BEGIN
  SELECT RAISE(ABORT, 'an enrolled signer cannot be removed');
END;
)sql";

constexpr const char* kVersion5Postgresql = R"sql(
CREATE TRIGGER signers_no_delete BEFORE DELETE ON signers FOR EACH ROW
  EXECUTE FUNCTION derma_refuse_change('an enrolled signer cannot be removed');
CREATE TRIGGER signers_no_truncate BEFORE TRUNCATE ON signers FOR EACH STATEMENT
  EXECUTE FUNCTION derma_refuse_change('an enrolled signer cannot be removed');
)sql";

// Version 6: the fleet (docs/fleet.md). Every daemon of a store says who it is and how it is
// in fleet_rigs, heartbeat after heartbeat; fleet_jobs is the work queue for "any free rig of
// this kind" (bench submit --fleet), claimed with FOR UPDATE SKIP LOCKED on PostgreSQL. A
// claim is a lease that the claiming daemon's heartbeats renew: a job whose lease ran out is
// taken back by whichever daemon sees it first. Each claim of a job runs as its own run
// (runs.fleet_job names the job), so an interrupted attempt stays on record beside the one
// that finished. runs.daemon is the daemon that holds a run (it re-queues only its own).
// Times compared across machines (heartbeat_ms, lease_expires_ms) are milliseconds since the
// epoch by the database's clock.
constexpr const char* kVersion6 = R"sql(
ALTER TABLE runs ADD COLUMN daemon TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN fleet_job INTEGER;
CREATE TABLE fleet_rigs (
  name            TEXT PRIMARY KEY,
  kind            TEXT NOT NULL DEFAULT '',
  rig_address     TEXT NOT NULL DEFAULT '',
  api_url         TEXT NOT NULL DEFAULT '',
  runner          TEXT NOT NULL DEFAULT '',
  state           TEXT NOT NULL,
  rig_serial      TEXT NOT NULL DEFAULT '',
  calibration_due TEXT NOT NULL DEFAULT '',
  current_run     INTEGER,
  queue_length    INTEGER NOT NULL DEFAULT 0,
  started_at      TEXT NOT NULL,
  heartbeat_at    TEXT NOT NULL,
  heartbeat_ms    INTEGER NOT NULL,
  lease_ms        INTEGER NOT NULL
);
CREATE TABLE fleet_jobs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  kind             TEXT NOT NULL,
  state            TEXT NOT NULL
                   CHECK (state IN ('queued', 'claimed', 'done', 'failed', 'cancelled')),
  run_id           INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  claimed_by       TEXT NOT NULL DEFAULT '',
  lease_expires_ms INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at       TEXT NOT NULL,
  finished_at      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX fleet_jobs_by_state ON fleet_jobs(state, kind, id);
CREATE INDEX fleet_jobs_by_run ON fleet_jobs(run_id);
CREATE INDEX runs_by_fleet_job ON runs(fleet_job);
)sql";

constexpr const char* kVersion6Postgresql = R"sql(
ALTER TABLE runs ADD COLUMN daemon TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN fleet_job BIGINT;
CREATE TABLE fleet_rigs (
  name            TEXT PRIMARY KEY,
  kind            TEXT NOT NULL DEFAULT '',
  rig_address     TEXT NOT NULL DEFAULT '',
  api_url         TEXT NOT NULL DEFAULT '',
  runner          TEXT NOT NULL DEFAULT '',
  state           TEXT NOT NULL,
  rig_serial      TEXT NOT NULL DEFAULT '',
  calibration_due TEXT NOT NULL DEFAULT '',
  current_run     BIGINT,
  queue_length    INTEGER NOT NULL DEFAULT 0,
  started_at      TEXT NOT NULL,
  heartbeat_at    TEXT NOT NULL,
  heartbeat_ms    BIGINT NOT NULL,
  lease_ms        BIGINT NOT NULL
);
CREATE TABLE fleet_jobs (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             TEXT NOT NULL,
  state            TEXT NOT NULL
                   CHECK (state IN ('queued', 'claimed', 'done', 'failed', 'cancelled')),
  run_id           BIGINT NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  claimed_by       TEXT NOT NULL DEFAULT '',
  lease_expires_ms BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at       TEXT NOT NULL,
  finished_at      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX fleet_jobs_by_state ON fleet_jobs(state, kind, id);
CREATE INDEX fleet_jobs_by_run ON fleet_jobs(run_id);
CREATE INDEX runs_by_fleet_job ON runs(fleet_job);
)sql";

// Version 7: which analysis method judged a run (bench/analysis/method.hpp), so a run's figures
// can be told apart from those a later method would give. Runs recorded before the version
// read as method 1, the method of every bench before it but the last few (docs/storage.md).
// The same SQL in both dialects.
constexpr const char* kVersion7 = R"sql(
ALTER TABLE runs ADD COLUMN analysis_method INTEGER NOT NULL DEFAULT 1;
)sql";

// Each migration in both dialects, side by side: the same tables, columns and rules.
constexpr Migration kMigrations[] = {{kVersion1, kVersion1Postgresql},
                                     {kVersion2, kVersion2Postgresql},
                                     {kVersion3, kVersion3Postgresql},
                                     {kVersion4, kVersion4},
                                     {kVersion5, kVersion5Postgresql},
                                     {kVersion6, kVersion6Postgresql},
                                     {kVersion7, kVersion7}};

}  // namespace

std::span<const Migration> schema_migrations() {
  return kMigrations;
}

std::expected<int, std::string> migrate(sql::Connection& db) {
  // One write transaction: the writer lock makes two processes opening a new database at
  // once (two daemons starting) migrate one after the other; the second finds it done.
  // Both engines' DDL is transactional, so a failed migration leaves the previous version.
  sql::WriteTransaction tx(db);
  if (!tx.error().empty()) return std::unexpected(tx.error());
  auto found = db.read_schema_version();
  if (!found) return std::unexpected(found.error());
  const auto migrations = schema_migrations();
  const int known = static_cast<int>(migrations.size());
  if (*found > known)
    return std::unexpected("schema version " + std::to_string(*found) +
                           " is newer than this bench knows (" + std::to_string(known) +
                           "): it was written by a newer bench; upgrade bench to use it");
  for (int v = *found; v < known; ++v) {
    const Migration& m = migrations[static_cast<std::size_t>(v)];
    if (auto done = db.exec(m.sql(db.dialect())); !done)
      return std::unexpected("migration to schema version " + std::to_string(v + 1) +
                             " failed: " + done.error());
  }
  if (*found < known)
    if (auto done = db.write_schema_version(known); !done) return std::unexpected(done.error());
  if (auto done = tx.commit(); !done) return std::unexpected(done.error());
  return known;
}

}  // namespace derma::store
