// Certifying a lot and verifying a certificate afterwards.
//
// `certify` turns a lot's evidence into a signed certificate: the canonical record (a JSON
// text naming every fact of the decision and the digest of every database row behind each
// sampled roller's verdict) is signed with the signer's Ed25519 key, rendered as HTML and
// PDF, written as CERT.json (the envelope: record, digest, signature, public key, the copies'
// digests and a second signature over those), stored in the database and appended to the
// audit chain, in one transaction with closing the lot.
//
// `verify` checks all of it again: signatures, digests of the record and of the copies, the
// stored certificate, the enrolled key, every row digest recomputed from the database as it
// is now, the spec text, and the audit chain with its `lot.certify` entry.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "bench/lot/lot_evidence.hpp"
#include "bench/report/certificate.hpp"
#include "bench/store/results_db.hpp"

namespace derma::lot {

struct CertifyRequest {
  std::string lot;
  std::string signer;
  std::string meaning;   // meaning of the signature, e.g. "released"
  std::string key_file;  // the signer's secret key (created on first use)
  std::string out_dir;   // where CERT-LOT.json/.html/.pdf go
  std::string origin = "cli";
  // Counted runs made on the virtual rig may certify the lot, as a demonstration, and runs
  // judged by different analysis methods may be certified together, when allowed: the
  // certificate then declares it (lot_evidence.hpp, refusals).
  Allowances allowed;
};

struct Certified {
  report::Certificate certificate;
  std::string json_path, html_path, pdf_path;
};

// Why certification did not happen: refused (the lot cannot be certified now, with every
// reason) or failed (bad input, unreadable database, unwritable files).
struct CertifyError {
  bool refused = false;
  std::vector<std::string> reasons;
};

std::expected<Certified, CertifyError> certify(store::ResultsDb&, const CertifyRequest&);

struct Verification {
  std::string certificate_id;
  std::string lot;
  std::string decision;
  int virtual_rig_rollers = 0;  // > 0: a demonstration certificate (as signed)
  // The analysis methods of the sampled rollers and of the certifying bench, as signed; empty
  // and 0 for a certificate signed before certificates named them.
  std::vector<report::CertificateMethod> sampled_analysis_methods;
  int analysis_method = 0;
  std::vector<std::string> checked;   // what was verified, one line each
  std::vector<std::string> problems;  // empty when the certificate and its records hold
};

// `cert_json` is the path of CERT-LOT.json; the HTML and PDF copies are looked for beside it.
// `trusted_keys` (optional) is a file of "SIGNER PUBLIC-KEY-HEX" lines kept outside the
// database: with it, a signer row and audit chain rewritten by someone with write access to
// the database cannot vouch for a key of their own.
std::expected<Verification, std::string> verify(const store::ResultsDb&,
                                                const std::string& cert_json,
                                                const std::string& trusted_keys = "");

// Lot and signer names: letters, digits, '.', '_' and '-', 1 to 64 characters (they name files).
bool valid_name(const std::string&);

}  // namespace derma::lot
