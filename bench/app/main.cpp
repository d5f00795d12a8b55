// `bench`: the command line of the dermaroller bench controller.
//   bench run SUITE --rig sim|DEVICE [--roller FILE | --serial SN] --out DIR
//   bench analyze CAPTURE --out DIR [--spec SPEC]
//   bench ports [--json]
//   bench history [--db FILE] [--state S] [--roller SN] [--spec MODEL] [--json]
//   bench show RUN [--db FILE] [--json];  bench audit verify|log [--db FILE]
//   (--db FILE and --store URL are one option: a SQLite file or postgresql://...)
//   bench analyze-scan FILE --spec SPEC --out DIR [--format x3p|csv] [--pitch-um P ...]
//   bench submit SUITE --server URL --roller SN [--roller SN ...] --token-file F --out DIR
//   bench lot create|status|certify|verify ...   (production lots, docs/lots.md)
// Exit codes (DESIGN section 6): 0 pass, 1 roller failed a check, 2 bad input or usage,
// 3 rig or link error, 4 aborted.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "bench/app/commands.hpp"
#include "bench/report/run_report.hpp"

int main(int argc, char** argv) {
  using namespace derma;
  CLI::App app{"bench: validates dermarollers on a test rig (real or virtual)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("bench ") + DERMA_VERSION);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();

  app::RunCommand run;
  CLI::App* run_cmd = app.add_subcommand("run", "run a validation suite on a rig");
  run_cmd->add_option("suite", run.suite_file, "suite file (YAML)")->required();
  run_cmd
      ->add_option("--rig", run.rig,
                   "sim (the virtual rig), a device path, usb:SERIAL, tcp://HOST:PORT or "
                   "rfc2217://HOST:PORT")
      ->required();
  run_cmd->add_option("--roller", run.roller_file,
                      "roller definition for the virtual rig (--rig sim only)");
  run_cmd->add_option("--serial", run.roller_serial,
                      "serial number of the roller mounted in a real rig");
  run_cmd
      ->add_option("--out", run.out_dir, "directory for report.json, junit.xml and capture.drcap")
      ->required();
  run_cmd->add_option("--spec", run.spec_override,
                      "judge against this spec instead of the suite's");
  run_cmd->add_option("--operator", run.operator_name, "who runs the test (default: $USER)");
  run_cmd->add_flag("--realtime", run.realtime, "run the virtual rig in real time");
  run_cmd->add_option("--faults", run.faults,
                      "--rig sim: faults the virtual rig injects, e.g. reboot@roll1+40% "
                      "(fixtures/rigsim/FAULTS.md)");
  run_cmd->add_option("--seed", run.seed, "--rig sim: replace the roller file's seed");
  run_cmd->add_flag("--quiet", run.quiet, "print only the summary");
  run_cmd->add_option("--db,--store", run.db_path,
                      "record the run in this results database, a SQLite file or a "
                      "postgresql://... URL (see bench history, docs/storage.md)");
  run_cmd->add_option("--lot", run.lot, "the production lot this roller samples (needs --db)");

  app::AnalyzeCommand analyze;
  CLI::App* analyze_cmd =
      app.add_subcommand("analyze", "re-analyse a recorded run from its capture, without a rig");
  analyze_cmd->add_option("capture", analyze.capture_file, "capture.drcap of a run")->required();
  analyze_cmd->add_option("--out", analyze.out_dir, "directory for the new report files")
      ->required();
  analyze_cmd->add_option("--spec", analyze.spec_override,
                          "re-judge against this spec instead of the one embedded in the capture");

  app::AnalyzeScanCommand scan;
  CLI::App* scan_cmd = app.add_subcommand(
      "analyze-scan", "judge a height map from another instrument (X3P or ASCII grid)");
  scan_cmd->add_option("scan", scan.scan_file, "height map: FILE.x3p or an ASCII grid")->required();
  scan_cmd->add_option("--spec", scan.spec_file, "product spec (fixtures/specs/MODEL.yaml)")
      ->required();
  scan_cmd->add_option("--out", scan.out_dir, "directory for report.json and junit.xml")
      ->required();
  scan_cmd->add_option("--format", scan.format, "x3p or csv (default: from the extension)");
  scan_cmd->add_option("--pitch-um", scan.pitch_um,
                       "grid pitch of an ASCII grid, um (default: from a Gwyddion header's "
                       "Width and Height, which this replaces)");
  scan_cmd->add_option("--pitch-x-um", scan.pitch_x_um, "ASCII grid pitch along X (lines), um");
  scan_cmd->add_option("--pitch-y-um", scan.pitch_y_um, "ASCII grid pitch along Y (cells), um");
  scan_cmd->add_option("--origin-x-mm", scan.origin_x_mm, "lane X of the first point, mm");
  scan_cmd->add_option("--origin-y-mm", scan.origin_y_mm, "lane Y of the first point, mm");
  scan_cmd->add_option("--unit", scan.unit,
                       "height unit of an ASCII grid: um, mm, nm or m (default: a Gwyddion "
                       "header's Value units, which this replaces, else um)");
  scan_cmd->add_flag("--transpose", scan.transpose,
                     "ASCII grid lines run along Y, not X (a Gwyddion header's Width then runs "
                     "along X)");
  scan_cmd->add_option("--serial", scan.roller_serial, "serial number of the roller");
  scan_cmd->add_option("--operator", scan.operator_name, "who runs the test (default: $USER)");
  scan_cmd->add_flag("--quiet", scan.quiet, "print only the summary");

  app::MsaCommand msa;
  CLI::App* msa_cmd = app.add_subcommand(
      "msa", "gauge R&R study of the bench: rollers x lanes x repeats on the virtual rig");
  msa_cmd->add_option("suite", msa.suite_file, "suite file (YAML); one roll, penetration_depth")
      ->required();
  msa_cmd->add_option("--rig", msa.rig, "sim (the study mounts each roller in the virtual rig)")
      ->required();
  msa_cmd->add_option("--roller", msa.roller_files, "a roller file: a part (repeat the option)")
      ->required();
  msa_cmd->add_option("--repeats", msa.repeats, "trials per roller and lane (>= 2)")
      ->capture_default_str();
  msa_cmd->add_option("--lanes", msa.lanes, "phantom lanes, the study's appraisers (1-8)")
      ->capture_default_str();
  msa_cmd
      ->add_option("--parts", msa.parts,
                   "rollers (measurand: mean depth) or needles (each needle's depth)")
      ->capture_default_str();
  msa_cmd->add_option("--out", msa.out_dir, "directory for msa.json and every run's report")
      ->required();
  msa_cmd->add_option("--operator", msa.operator_name, "who runs the study (default: $USER)");
  msa_cmd->add_flag("--realtime", msa.realtime, "run the virtual rig in real time");
  msa_cmd->add_flag("--quiet", msa.quiet, "print only the summary");

  app::ServeCommand serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "the bench daemon: one rig, a queue of runs, HTTP/JSON API for CI (docs/api.md)");
  serve_cmd
      ->add_option("--rig", serve.rig,
                   "sim (the virtual rig), a device path, usb:SERIAL, tcp://HOST:PORT or "
                   "rfc2217://HOST:PORT")
      ->required();
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  serve_cmd->add_option("--token-file", serve.token_file,
                        "API tokens (YAML); required to listen beyond loopback");
  serve_cmd->add_option("--data", serve.data_dir, "directory for runs/<id>/ and the database")
      ->capture_default_str();
  serve_cmd->add_option("--db,--store", serve.db_file,
                        "results database: a SQLite file (default DATA/dermabench.db) or a "
                        "postgresql://... URL shared by many daemons (docs/storage.md)");
  serve_cmd->add_option("--suites", serve.suites_dir, "directory submitted suite names resolve in")
      ->capture_default_str();
  serve_cmd->add_option("--rollers", serve.rollers_dir, "--rig sim: roller files, found by serial")
      ->capture_default_str();
  serve_cmd->add_option("--body-limit", serve.body_limit_bytes, "largest request body, bytes")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-connections", serve.max_connections,
                   "open connections (event streams too) beyond which new ones get 503")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve_cmd->add_flag("--realtime", serve.realtime, "run the virtual rig in real time");
  serve_cmd->add_option("--name", serve.name,
                        "this daemon's name in the fleet of its store, unique (default: the "
                        "name kept in DATA/daemon-name, first HOST:PORT; docs/fleet.md)");
  serve_cmd->add_option("--fleet", serve.fleet_kind,
                        "also take fleet jobs of this kind (bench submit --fleet KIND)");
  serve_cmd->add_option("--sim-rig-serial", serve.sim_rig_serial,
                        "--rig sim: the serial the virtual rig reports (default RIGSIM-01)");
  serve_cmd->add_option("--api-url", serve.api_url,
                        "where clients reach this daemon, told to the fleet (default "
                        "http://LISTEN-ADDRESS:PORT)");
  serve_cmd->add_option("--heartbeat-ms", serve.heartbeat_ms, "fleet heartbeat interval")
      ->capture_default_str()
      ->check(CLI::Range(50, 600000));
  serve_cmd
      ->add_option("--lease", serve.lease_s,
                   "seconds a fleet job stays claimed without a heartbeat (at least 3 "
                   "heartbeats)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  app::PortsCommand ports;
  CLI::App* ports_cmd =
      app.add_subcommand("ports", "list the serial ports with their USB identity");
  ports_cmd->add_flag("--json", ports.json, "machine-readable output");

  app::SubmitCommand submit;
  CLI::App* submit_cmd = app.add_subcommand(
      "submit", "run a suite on a bench server (bench serve) and wait for the verdicts (CI)");
  submit_cmd->add_option("suite", submit.suite, "suite name under the server's suites directory")
      ->required();
  submit_cmd->add_option("--server", submit.server, "http://HOST:PORT[/PREFIX] of the server")
      ->required()
      ->envname("BENCH_SERVER");
  submit_cmd->add_option("--roller", submit.roller_serials, "roller serial (repeat for several)")
      ->required();
  submit_cmd->add_option("--token-file", submit.token_file, "file holding the API token");
  submit_cmd->add_option("--token", submit.token, "API token (prefer --token-file)")
      ->envname("BENCH_TOKEN");
  submit_cmd->add_option("--requester", submit.requester, "who asks, e.g. the CI job");
  submit_cmd->add_option("--lot", submit.lot, "the production lot these rollers sample");
  submit_cmd->add_option("--fleet", submit.fleet,
                         "run on any free rig of this kind of the server's fleet "
                         "(docs/fleet.md)");
  submit_cmd
      ->add_option("--out", submit.out_dir,
                   "directory for report.json, junit.xml, report.html, capture.drcap "
                   "(DIR/SERIAL/ each with several rollers)")
      ->required();
  submit_cmd->add_option("--timeout", submit.timeout_s,
                         "seconds to wait for every run; then cancel them and exit 4");
  submit_cmd->add_flag("--quiet", submit.quiet, "print only the summary");

  // Views of the results database (default: $DERMABENCH_DB, else ./dermabench.db). --db and
  // --store are one option: a SQLite file or a postgresql:// URL (docs/storage.md).
  const char* const kStoreHelp =
      "results database: a SQLite file or a postgresql://... URL (docs/storage.md)";
  app::HistoryCommand history;
  CLI::App* history_cmd = app.add_subcommand("history", "list the recorded runs, newest first");
  history_cmd->add_option("--db,--store", history.db_path, kStoreHelp);
  history_cmd->add_option("--state", history.state, "only runs in this state (passed, ...)");
  history_cmd->add_option("--roller", history.roller_serial, "only runs of this roller serial");
  history_cmd->add_option("--spec", history.spec_model, "only runs against this spec model");
  history_cmd->add_option("--limit", history.limit, "at most this many runs")
      ->capture_default_str();
  history_cmd->add_flag("--json", history.json, "machine-readable output");

  app::ShowCommand show;
  CLI::App* show_cmd = app.add_subcommand("show", "one recorded run and its checks");
  show_cmd->add_option("run", show.run_id, "run id (bench history lists them)")->required();
  show_cmd->add_option("--db,--store", show.db_path, kStoreHelp);
  show_cmd->add_flag("--json", show.json, "machine-readable output");

  app::AuditCommand audit;
  CLI::App* audit_cmd = app.add_subcommand("audit", "the results database's audit log");
  audit_cmd->require_subcommand(1);
  CLI::App* audit_verify_cmd =
      audit_cmd->add_subcommand("verify", "check the hash chain: exit 0 intact, 1 tampered");
  audit_verify_cmd->add_option("--db,--store", audit.db_path, kStoreHelp);
  CLI::App* audit_log_cmd = audit_cmd->add_subcommand("log", "print the audit log, oldest first");
  audit_log_cmd->add_option("--db,--store", audit.db_path, kStoreHelp);
  audit_log_cmd->add_option("--limit", audit.limit, "the newest this many entries")
      ->capture_default_str();
  audit_log_cmd->add_flag("--json", audit.json, "machine-readable output");

  app::FleetCommand fleet;
  CLI::App* fleet_cmd = app.add_subcommand("fleet", "the daemons sharing a store (docs/fleet.md)");
  fleet_cmd->require_subcommand(1);
  CLI::App* fleet_status_cmd = fleet_cmd->add_subcommand(
      "status", "every rig's daemon: state, queue, calibration due, last heartbeat");
  fleet_status_cmd->add_option("--db,--store", fleet.db_path, kStoreHelp);
  fleet_status_cmd->add_flag("--json", fleet.json, "machine-readable output");

  // Production lots (docs/lots.md).
  app::LotCommand lot;
  CLI::App* lot_cmd = app.add_subcommand("lot", "production lots: sampling plan and certificate");
  lot_cmd->require_subcommand(1);
  CLI::App* lot_create_cmd =
      lot_cmd->add_subcommand("create", "create a lot with its ISO 2859-1 sampling plan");
  lot_create_cmd->add_option("lot", lot.lot, "lot number")->required();
  lot_create_cmd->add_option("--model", lot.model, "product model, e.g. DR-192-0.50")->required();
  lot_create_cmd->add_option("--size", lot.lot_size, "rollers in the lot")->required();
  lot_create_cmd->add_option("--aql", lot.aql, "acceptance quality limit, percent")
      ->capture_default_str();
  lot_create_cmd->add_option("--level", lot.level, "inspection level: S-1..S-4, I, II, III")
      ->capture_default_str();
  lot_create_cmd->add_flag("--approve-reduced", lot.approve_reduced,
                           "the responsible authority approves reduced inspection, should the "
                           "switching score allow it");
  lot_create_cmd->add_flag("--production-irregular", lot.production_irregular,
                           "production is not at a steady rate: no reduced inspection");
  lot_create_cmd->add_option("--spec", lot.spec_file,
                             "the model's spec (default fixtures/specs/MODEL.yaml)");
  CLI::App* lot_status_cmd = lot_cmd->add_subcommand("status", "a lot's progress against its plan");
  lot_status_cmd->add_option("lot", lot.lot, "lot number")->required();
  CLI::App* lot_certify_cmd =
      lot_cmd->add_subcommand("certify", "decide and sign: exit 0 accepted, 1 rejected, 5 refused");
  lot_certify_cmd->add_option("lot", lot.lot, "lot number")->required();
  lot_certify_cmd->add_option("--signer", lot.signer, "who signs")->required();
  lot_certify_cmd->add_option("--meaning", lot.meaning, "meaning of the signature, e.g. released")
      ->required();
  lot_certify_cmd->add_flag(
      "--allow-virtual-rig", lot.allow_virtual_rig,
      "let runs on the virtual rig count: a demonstration certificate, which says so");
  lot_certify_cmd->add_flag("--allow-mixed-methods", lot.allow_mixed_methods,
                            "certify runs judged by different analysis methods together: the "
                            "certificate says so");
  lot_certify_cmd->add_option("--key", lot.key_file,
                              "signer's Ed25519 key (default ~/.config/dermabench/keys/"
                              "SIGNER.ed25519, created on first use)");
  lot_certify_cmd->add_option("--out", lot.out_dir, "directory for CERT-LOT.json/.html/.pdf")
      ->capture_default_str();
  CLI::App* lot_verify_cmd = lot_cmd->add_subcommand(
      "verify", "check a certificate and the records behind it: exit 0 intact, 1 tampered");
  lot_verify_cmd->add_option("certificate", lot.certificate_file, "CERT-LOT.json")->required();
  lot_verify_cmd->add_option("--trusted-keys", lot.trusted_keys,
                             "file of 'SIGNER PUBLIC-KEY' lines kept outside the database");
  for (CLI::App* c : {lot_create_cmd, lot_status_cmd, lot_certify_cmd, lot_verify_cmd})
    c->add_option("--db,--store", lot.db_path, kStoreHelp);
  for (CLI::App* c : {lot_create_cmd, lot_status_cmd, lot_verify_cmd})
    c->add_flag("--json", lot.json, "machine-readable output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : report::kExitBadInput;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (run_cmd->parsed()) return app::run_suite_command(run);
  if (ports_cmd->parsed()) return app::list_ports_command(ports);
  if (analyze_cmd->parsed()) return app::analyze_capture_command(analyze);
  if (scan_cmd->parsed()) return app::analyze_scan_command(scan);
  if (msa_cmd->parsed()) return app::msa_command(msa);
  if (serve_cmd->parsed()) return app::serve_command(serve);
  if (submit_cmd->parsed()) return app::submit_command(submit);
  if (history_cmd->parsed()) return app::history_command(history);
  if (show_cmd->parsed()) return app::show_command(show);
  if (audit_verify_cmd->parsed()) return app::audit_verify_command(audit);
  if (audit_log_cmd->parsed()) return app::audit_log_command(audit);
  if (fleet_status_cmd->parsed()) return app::fleet_status_command(fleet);
  if (lot_create_cmd->parsed()) return app::lot_create_command(lot);
  if (lot_status_cmd->parsed()) return app::lot_status_command(lot);
  if (lot_certify_cmd->parsed()) return app::lot_certify_command(lot);
  if (lot_verify_cmd->parsed()) return app::lot_verify_command(lot);
  return report::kExitBadInput;
}
