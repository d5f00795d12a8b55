// Lots, signers and certificates in the results database (schema version 3).
#include <cstdio>

#include "bench/store/results_db_impl.hpp"

namespace derma::store {

using sql::now_utc;
using sql::Statement;
using sql::WriteTransaction;

namespace {

std::optional<int> optional_int(const Statement& s, int col) {
  const auto v = s.real(col);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

constexpr const char* kLotColumns =
    "lot, model, spec_sha256, spec_file, lot_size, aql, level, severity, code_letter, "
    "sample_size, accept_number, reject_number, created_at, created_by, state, decided_at, "
    "nonconforming";

LotRow lot_from(const Statement& s) {
  LotRow r;
  r.lot = s.text(0);
  r.model = s.text(1);
  r.spec_sha256 = s.text(2);
  r.spec_file = s.text(3);
  r.lot_size = static_cast<int>(s.integer(4));
  r.aql = s.real(5).value_or(0);
  r.level = s.text(6);
  r.severity = s.text(7);
  r.code_letter = s.text(8);
  r.sample_size = static_cast<int>(s.integer(9));
  r.accept_number = static_cast<int>(s.integer(10));
  r.reject_number = static_cast<int>(s.integer(11));
  r.created_at = s.text(12);
  r.created_by = s.text(13);
  r.state = s.text(14);
  r.decided_at = s.text(15);
  r.nonconforming = optional_int(s, 16);
  return r;
}

constexpr const char* kCertificateColumns =
    "id, lot, decision, record, record_sha256, signature, public_key, signer, signed_at, "
    "files, audit_seq";

CertificateRow certificate_from(const Statement& s) {
  CertificateRow c;
  c.id = s.text(0);
  c.lot = s.text(1);
  c.decision = s.text(2);
  c.record = s.text(3);
  c.record_sha256 = s.text(4);
  c.signature = s.text(5);
  c.public_key = s.text(6);
  c.signer = s.text(7);
  c.signed_at = s.text(8);
  c.files = s.text(9);
  c.audit_seq = s.integer(10);
  return c;
}

// A JSON string literal for the small audit details written here (names and hashes).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::expected<LotRow, std::string> ResultsDb::create_lot(const NewLot& lot,
                                                         const std::string& actor,
                                                         const std::string& origin) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("lot " + lot.lot + ": " + why);
  };
  WriteTransaction tx(db);
  if (!tx.error().empty()) return failed(tx.error());
  {
    Statement exists(db, "SELECT state FROM lots WHERE lot = ?");
    exists.bind(lot.lot);
    if (exists.step()) return failed("exists already (" + exists.text(0) + ")");
    if (!exists.ok()) return failed(exists.error());
  }
  const std::string spec_sha = sha256_hex(lot.spec_text);
  Statement spec(db,
                 "INSERT INTO specs (sha256, model, text) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  spec.bind(spec_sha).bind(lot.model).bind(lot.spec_text);
  if (auto done = spec.run(); !done) return failed(done.error());

  Statement insert(db,
                   "INSERT INTO lots (lot, model, spec_sha256, spec_file, lot_size, aql, level, "
                   "severity, code_letter, sample_size, accept_number, reject_number, "
                   "created_at, created_by, state) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')");
  insert.bind(lot.lot)
      .bind(lot.model)
      .bind(spec_sha)
      .bind(lot.spec_file)
      .bind(lot.lot_size)
      .bind(lot.aql)
      .bind(lot.level)
      .bind(lot.severity)
      .bind(lot.code_letter)
      .bind(lot.sample_size)
      .bind(lot.accept_number)
      .bind(lot.reject_number)
      .bind(now_utc())
      .bind(lot.created_by);
  if (auto done = insert.run(); !done) return failed(done.error());

  char plan[160];
  std::snprintf(plan, sizeof plan,
                "\"lot_size\":%d,\"aql\":%g,\"severity\":\"%s\",\"sample_size\":%d,"
                "\"accept\":%d,\"reject\":%d",
                lot.lot_size, lot.aql, lot.severity.c_str(), lot.sample_size, lot.accept_number,
                lot.reject_number);
  const std::string detail = "{\"model\":" + json_string(lot.model) +
                             ",\"spec_sha256\":" + json_string(spec_sha) + "," + plan + "}";
  if (auto entry =
          append_audit_in(db, actor, "engineer", "lot.create", "lot " + lot.lot, origin, detail);
      !entry)
    return failed(entry.error());

  Statement read(db, (std::string("SELECT ") + kLotColumns + " FROM lots WHERE lot = ?").c_str());
  read.bind(lot.lot);
  if (!read.step()) return failed(read.ok() ? "vanished after insert" : read.error());
  LotRow row = lot_from(read);
  if (auto done = tx.commit(); !done) return failed(done.error());
  return row;
}

std::expected<std::optional<LotRow>, std::string> ResultsDb::get_lot(const std::string& lot) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db,
              (std::string("SELECT ") + kLotColumns + " FROM lots WHERE lot = ?").c_str());
  s.bind(lot);
  if (s.step()) return std::optional<LotRow>(lot_from(s));
  if (!s.ok()) return std::unexpected("lot " + lot + ": " + s.error());
  return std::optional<LotRow>();
}

std::expected<std::vector<LotRow>, std::string> ResultsDb::lots_of_model(
    const std::string& model) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db, (std::string("SELECT ") + kLotColumns +
                           " FROM lots WHERE model = ? ORDER BY created_at, rowid")
                              .c_str());
  s.bind(model);
  std::vector<LotRow> rows;
  while (s.step()) rows.push_back(lot_from(s));
  if (!s.ok()) return std::unexpected("lots of " + model + ": " + s.error());
  return rows;
}

std::expected<std::vector<MeasurementRow>, std::string> ResultsDb::measurements_of(
    std::int64_t run_id) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db,
              "SELECT run_id, roll, check_id, name, value, unit, disc, needle, n "
              "FROM measurements WHERE run_id = ? ORDER BY rowid");
  s.bind(run_id);
  std::vector<MeasurementRow> rows;
  while (s.step()) {
    MeasurementRow m;
    m.run_id = s.integer(0);
    m.roll = static_cast<int>(s.integer(1));
    m.check_id = s.text(2);
    m.name = s.text(3);
    m.value = s.real(4).value_or(0);
    m.unit = s.text(5);
    m.disc = optional_int(s, 6);
    m.needle = optional_int(s, 7);
    m.n = optional_int(s, 8);
    rows.push_back(std::move(m));
  }
  if (!s.ok())
    return std::unexpected("run " + std::to_string(run_id) + ": measurements: " + s.error());
  return rows;
}

std::expected<std::optional<std::string>, std::string> ResultsDb::spec_text(
    const std::string& sha256) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db, "SELECT text FROM specs WHERE sha256 = ?");
  s.bind(sha256);
  if (s.step()) return std::optional<std::string>(s.text(0));
  if (!s.ok()) return std::unexpected("spec " + sha256 + ": " + s.error());
  return std::optional<std::string>();
}

std::expected<std::optional<std::string>, std::string> ResultsDb::signer_key(
    const std::string& signer) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db, "SELECT public_key FROM signers WHERE name = ?");
  s.bind(signer);
  if (s.step()) return std::optional<std::string>(s.text(0));
  if (!s.ok()) return std::unexpected("signer " + signer + ": " + s.error());
  return std::optional<std::string>();
}

std::expected<void, std::string> ResultsDb::enroll_signer(const std::string& signer,
                                                          const std::string& public_key_hex,
                                                          const std::string& origin) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("enrolling signer " + signer + ": " + why);
  };
  WriteTransaction tx(db);
  if (!tx.error().empty()) return failed(tx.error());
  Statement insert(db, "INSERT INTO signers (name, public_key, enrolled_at) VALUES (?, ?, ?)");
  insert.bind(signer).bind(public_key_hex).bind(now_utc());
  if (auto done = insert.run(); !done) return failed(done.error());
  const std::string detail = "{\"public_key\":" + json_string(public_key_hex) + "}";
  if (auto entry = append_audit_in(db, signer, "engineer", "signer.enroll", "signer " + signer,
                                   origin, detail);
      !entry)
    return failed(entry.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return {};
}

std::expected<CertificateRow, std::string> ResultsDb::record_certificate(
    CertificateRow cert, const std::string& origin, const std::string& detail_json) {
  std::lock_guard lock(impl_->mutex);
  sql::Connection& db = *impl_->db;
  const auto failed = [&](const std::string& why) {
    return std::unexpected("certificate " + cert.id + " of lot " + cert.lot + ": " + why);
  };
  WriteTransaction tx(db);
  if (!tx.error().empty()) return failed(tx.error());
  {
    Statement state(db, "SELECT state FROM lots WHERE lot = ?");
    state.bind(cert.lot);
    if (!state.step()) return failed(state.ok() ? "no such lot" : state.error());
    if (state.text(0) != "open")
      return failed("the lot is " + state.text(0) + " already: it was certified before");
  }
  auto entry = append_audit_in(db, cert.signer, "engineer", "lot.certify", "lot " + cert.lot,
                               origin, detail_json);
  if (!entry) return failed(entry.error());
  cert.audit_seq = entry->seq;
  Statement insert(db, (std::string("INSERT INTO certificates (") + kCertificateColumns +
                        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                           .c_str());
  insert.bind(cert.id)
      .bind(cert.lot)
      .bind(cert.decision)
      .bind(cert.record)
      .bind(cert.record_sha256)
      .bind(cert.signature)
      .bind(cert.public_key)
      .bind(cert.signer)
      .bind(cert.signed_at)
      .bind(cert.files)
      .bind(cert.audit_seq);
  if (auto done = insert.run(); !done) return failed(done.error());
  Statement close(db, "UPDATE lots SET state = ?, decided_at = ?, nonconforming = ? WHERE lot = ?");
  close.bind(cert.decision).bind(cert.signed_at).bind(cert.nonconforming).bind(cert.lot);
  if (auto done = close.run(); !done) return failed(done.error());
  if (auto done = tx.commit(); !done) return failed(done.error());
  return cert;
}

std::expected<std::optional<CertificateRow>, std::string> ResultsDb::get_certificate(
    const std::string& id) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(
      *impl_->db,
      (std::string("SELECT ") + kCertificateColumns + " FROM certificates WHERE id = ?").c_str());
  s.bind(id);
  if (s.step()) return std::optional<CertificateRow>(certificate_from(s));
  if (!s.ok()) return std::unexpected("certificate " + id + ": " + s.error());
  return std::optional<CertificateRow>();
}

std::expected<std::vector<CertificateRow>, std::string> ResultsDb::certificates_of(
    const std::string& lot) const {
  std::lock_guard lock(impl_->mutex);
  Statement s(*impl_->db, (std::string("SELECT ") + kCertificateColumns +
                           " FROM certificates WHERE lot = ? ORDER BY audit_seq")
                              .c_str());
  s.bind(lot);
  std::vector<CertificateRow> rows;
  while (s.step()) rows.push_back(certificate_from(s));
  if (!s.ok()) return std::unexpected("certificates of lot " + lot + ": " + s.error());
  return rows;
}

}  // namespace derma::store
