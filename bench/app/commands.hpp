// The subcommands of `bench`, each a function from parsed options to an exit code.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace derma::store {
class ResultsDb;
}

namespace derma::app {

struct RunCommand {
  std::string suite_file;
  std::string rig;
  std::string roller_file;
  std::string roller_serial;
  std::string out_dir;
  std::string spec_override;
  std::string operator_name;
  std::string db_path;  // record the run in this results database (empty: don't)
  std::string lot;      // the production lot the run samples (needs db_path)
  bool realtime = false;
  bool quiet = false;
  std::string faults;  // --rig sim: faults the virtual rig injects (fixtures/rigsim/FAULTS.md)
  std::optional<std::uint64_t> seed;  // --rig sim: rigsim --seed (roller and fault draws)
};
int run_suite_command(const RunCommand&);

struct AnalyzeCommand {
  std::string capture_file;
  std::string out_dir;
  std::string spec_override;
};
int analyze_capture_command(const AnalyzeCommand&);

// Judges a height map measured on another instrument; NaN = option not given.
struct AnalyzeScanCommand {
  std::string scan_file;
  std::string spec_file;
  std::string out_dir;
  std::string format;  // x3p, csv, or empty: from the extension
  std::string unit;    // ASCII grids: um (default), mm, nm
  double pitch_um = std::numeric_limits<double>::quiet_NaN();
  double pitch_x_um = std::numeric_limits<double>::quiet_NaN();
  double pitch_y_um = std::numeric_limits<double>::quiet_NaN();
  double origin_x_mm = std::numeric_limits<double>::quiet_NaN();
  double origin_y_mm = std::numeric_limits<double>::quiet_NaN();
  bool transpose = false;
  std::string roller_serial;
  std::string operator_name;
  bool quiet = false;
};
int analyze_scan_command(const AnalyzeScanCommand&);

// A gauge R&R study of the bench on the virtual rig (bench/runner/msa_runner.hpp).
struct MsaCommand {
  std::string suite_file;
  std::string rig;
  std::vector<std::string> roller_files;
  int repeats = 2;
  int lanes = 2;
  std::string parts = "rollers";  // rollers or needles
  std::string out_dir;
  std::string operator_name;
  bool realtime = false;
  bool quiet = false;
};
int msa_command(const MsaCommand&);

// The daemon: one rig, many clients, over HTTP/JSON (bench/api, docs/api.md).
struct ServeCommand {
  std::string listen = "127.0.0.1:8735";
  std::string rig;
  std::string token_file;
  std::string data_dir = "bench-data";
  std::string db_file;  // default DATA/dermabench.db
  std::string suites_dir = "fixtures/suites";
  std::string rollers_dir = "fixtures/rollers";
  std::size_t body_limit_bytes = 1 << 20;
  std::size_t max_connections = 256;  // open connections and event streams together
  bool realtime = false;
  std::string name;        // fleet name (default HOST:PORT)
  std::string fleet_kind;  // take fleet jobs of this kind
  std::string sim_rig_serial;
  std::string api_url;  // default http://LISTEN-ADDRESS:PORT
  int heartbeat_ms = 1000;
  double lease_s = 15;
};
int serve_command(const ServeCommand&);

struct PortsCommand {
  bool json = false;
};
int list_ports_command(const PortsCommand&);

// Submits a suite to a bench server (`bench serve`) and waits for the runs
// (bench/client/submit.hpp).
struct SubmitCommand {
  std::string suite;  // name/relative path under the server's suites directory
  std::string server;
  std::vector<std::string> roller_serials;
  std::string token_file;
  std::string token;
  std::string requester;
  std::string lot;    // production lot the runs sample (bench lot)
  std::string fleet;  // any free rig of this kind (docs/fleet.md)
  std::string out_dir;
  double timeout_s = std::numeric_limits<double>::infinity();
  bool quiet = false;
};
int submit_command(const SubmitCommand&);

// Views of the results database (bench/store/results_db.hpp). db_path empty: $DERMABENCH_DB,
// else ./dermabench.db.
std::string resolve_db_path(const std::string& given);
// Opens an existing database for a view or a lot command: a mistyped path is an error (said
// on stderr, prefixed "bench COMMAND"), not a new empty database. nullptr then.
std::unique_ptr<store::ResultsDb> open_existing(const char* command, const std::string& path);

struct HistoryCommand {
  std::string db_path;
  std::string state;
  std::string roller_serial;
  std::string spec_model;
  int limit = 50;
  bool json = false;
};
int history_command(const HistoryCommand&);

// bench fleet status: the store's daemons and fleet queue (docs/fleet.md).
struct FleetCommand {
  std::string db_path;
  bool json = false;
};
int fleet_status_command(const FleetCommand&);

struct ShowCommand {
  std::string db_path;
  long long run_id = 0;
  bool json = false;
};
int show_command(const ShowCommand&);

// bench audit verify: 0 intact, 1 tampered (the first broken entry named), 2 no database.
struct AuditCommand {
  std::string db_path;
  int limit = 1000;
  bool json = false;
};
int audit_verify_command(const AuditCommand&);
int audit_log_command(const AuditCommand&);

// Production lots (bench/lot, docs/lots.md): create with a sampling plan, follow progress,
// certify with a signed certificate, verify a certificate against the database.
// certify exits 0 accepted, 1 rejected, 5 refused (the lot cannot be certified now),
// 2 bad input; verify exits 0 verified, 1 a problem found, 2 bad input.
struct LotCommand {
  std::string db_path;
  std::string lot;
  std::string model;
  std::string spec_file;  // default fixtures/specs/MODEL.yaml
  int lot_size = 0;
  std::string aql = "1.0";
  std::string level = "II";
  bool approve_reduced = false;       // the responsible authority allows reduced inspection
  bool production_irregular = false;  // production not at a steady rate (back to normal)
  std::string signer;
  std::string meaning;
  std::string key_file;  // default ~/.config/dermabench/keys/SIGNER.ed25519
  std::string out_dir = ".";
  std::string certificate_file;
  std::string trusted_keys;          // verify: "SIGNER KEY" lines kept outside the database
  bool allow_virtual_rig = false;    // certify: a demonstration on the virtual rig's runs
  bool allow_mixed_methods = false;  // certify: runs judged by different analysis methods
  bool json = false;
};
constexpr int kExitRefused = 5;
int lot_create_command(const LotCommand&);
int lot_status_command(const LotCommand&);
int lot_certify_command(const LotCommand&);
int lot_verify_command(const LotCommand&);

}  // namespace derma::app
