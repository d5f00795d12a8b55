#include "bench/api/daemon.hpp"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/api/routes.hpp"
#include "bench/lot/lot_plan.hpp"
#include "bench/lot/lot_status.hpp"
#include "bench/runner/runner.hpp"
#include "bench/suite/suite.hpp"
#include "drivers/transport/rig_address.hpp"

namespace derma::api {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Every JSON the daemon sends or records goes through here: invalid UTF-8 (a URL's bytes, a
// suite file's name) becomes U+FFFD, where the plain dump() would throw and take the daemon
// down.
std::string json_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse json_response(unsigned status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = json_text(body) + "\n";
  return response;
}

json text_or_null(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

// The rig identity fields of /api/v1/rig (from the last run's report or the held link's
// handshake: both carry the same names), null until the rig has said who it is.
template <typename Identity>
void put_rig_identity(json& body, const Identity* identity) {
  body["rig_serial"] = identity ? json(identity->rig_serial) : json(nullptr);
  body["firmware_version"] = identity ? json(identity->firmware_version) : json(nullptr);
  body["protocol_version"] = identity ? json(identity->protocol_version) : json(nullptr);
  body["calibration_date"] = identity ? json(identity->calibration_date) : json(nullptr);
  body["calibration_due"] = identity ? json(identity->calibration_due) : json(nullptr);
  body["phantom_lot"] = identity ? json(identity->phantom_lot) : json(nullptr);
}

json optional_number(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

// Whether the run got as far as starting a roll (report.steps follows the suite's steps).
bool roll_started(const suite::Suite& suite, const report::RunReport& report) {
  for (std::size_t i = 0; i < suite.steps.size() && i < report.steps.size(); ++i)
    if (std::holds_alternative<suite::RollStep>(suite.steps[i].action) &&
        report.steps[i].status != "skipped")
      return true;
  return false;
}

std::string subject_of(std::int64_t id) {
  return "run " + std::to_string(id);
}

}  // namespace

bool is_safe_relative_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos)
    return false;
  for (const auto& part : fs::path(path))
    if (part == "..") return false;
  return true;
}

std::optional<std::string> find_roller_file(const std::string& dir, const std::string& serial) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".yaml" || entry.path().extension() == ".yml")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());  // the same file wins every time
  for (const fs::path& file : files) {
    try {
      const YAML::Node root = YAML::LoadFile(file.string());
      if (root.IsMap() && root["serial"] && root["serial"].IsScalar() &&
          root["serial"].Scalar() == serial)
        return file.string();
    } catch (const YAML::Exception&) {
      // Not a roller file (or a broken one): it cannot be the roller asked for.
    }
  }
  return std::nullopt;
}

std::expected<std::unique_ptr<Daemon>, std::string> Daemon::open(DaemonConfig config,
                                                                 boost::asio::io_context& io) {
  std::error_code ec;
  fs::create_directories(fs::path(config.data_dir) / "runs", ec);
  if (ec) return std::unexpected("cannot create " + config.data_dir + "/runs: " + ec.message());
  if (config.db_file.empty())
    config.db_file = (fs::path(config.data_dir) / "dermabench.db").string();
  auto db = store::ResultsDb::open(config.db_file);
  if (!db) return std::unexpected(db.error());  // it names the store (a URL without password)
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(config), io, std::move(*db)));
  if (daemon->config_.rig != "sim") {
    auto address = transport::parse_rig_address(daemon->config_.rig);
    if (!address) return std::unexpected("--rig: " + address.error().message);
    daemon->rig_owner_ = std::make_unique<RigOwner>(*address, daemon->config_.rig);
  }

  auto interrupted = daemon->db_->mark_interrupted_runs();
  if (!interrupted) return std::unexpected("cannot mark interrupted runs: " + interrupted.error());
  daemon->interrupted_ = *interrupted;
  for (int i = 0; i < *interrupted; ++i) daemon->metrics_.count_run_state("interrupted");
  return daemon;
}

std::expected<void, std::string> Daemon::start(const std::string& default_name,
                                               const std::string& api_url) {
  if (config_.name.empty()) {
    auto remembered = remembered_name(default_name);
    if (!remembered) return std::unexpected(remembered.error());
    config_.name = *remembered;
  }
  api_url_ = api_url;
  // Joining first: a live daemon already under this name is refused here, before anything
  // it holds is touched.
  if (auto joined = db_->fleet_heartbeat(member()); !joined) return std::unexpected(joined.error());
  last_renewal_ = std::chrono::steady_clock::now().time_since_epoch().count();
  // Fleet jobs a previous life of this daemon claimed (it died, or was killed): taken back
  // now rather than after their leases run out.
  auto recovered = db_->recover_fleet_jobs(config_.name, config_.name);
  if (!recovered) return std::unexpected(recovered.error());
  for (const store::FleetRecovery& r : *recovered)
    spdlog::warn("bench serve: fleet job {} held by a previous life of {}: run {} {}", r.job_id,
                 config_.name, r.run_id, r.run_state);
  if (auto requeued = requeue_own_runs(); !requeued) return requeued;
  audit("daemon", "system", "daemon.start", 0, "daemon",
        json_text(json{{"rig", config_.rig},
                       {"name", config_.name},
                       {"fleet_kind", config_.fleet_kind},
                       {"api_url", api_url_},
                       {"interrupted_runs", interrupted_},
                       {"requeued_runs", requeued_},
                       {"recovered_fleet_jobs", recovered->size()},
                       {"version", DERMA_VERSION}}));
  if (rig_owner_) rig_owner_->start();
  worker_ = std::thread([this] { work(); });
  fleet_thread_ = std::thread([this] { fleet_loop(); });
  lease_watchdog_ = std::thread([this] { watch_lease(); });
  return {};
}

// A daemon is its data directory: without --name, the name it first took (HOST:PORT) is kept
// in DATA/daemon-name, so a restart on another port still owns its runs and claims.
std::expected<std::string, std::string> Daemon::remembered_name(const std::string& default_name) {
  const fs::path file = fs::path(config_.data_dir) / "daemon-name";
  std::ifstream in(file);
  std::string name;
  if (in && std::getline(in, name) && !name.empty()) return name;
  std::ofstream out(file, std::ios::trunc);
  out << default_name << "\n";
  if (!out.flush()) return std::unexpected("cannot write " + file.string());
  return default_name;
}

// Runs still queued for this daemon when it last stopped wait again, in their original order.
// Other daemons of a shared store keep theirs; runs from before schema version 6 (no daemon
// recorded) are taken by the daemon of their rig address.
std::expected<void, std::string> Daemon::requeue_own_runs() {
  store::RunFilter filter;
  filter.state = store::RunState::Queued;
  filter.limit = 100000;
  auto queued = db_->list_runs(filter);
  if (!queued) return std::unexpected("cannot list queued runs: " + queued.error());
  for (auto it = queued->rbegin(); it != queued->rend(); ++it) {
    const bool mine = it->daemon == config_.name ||
                      (it->daemon.empty() && !it->fleet_job && it->rig_address == config_.rig);
    if (!mine || it->fleet_job) continue;  // a fleet run of a previous life was recovered above
    queue_.push(it->id);
    ++requeued_;
  }
  return {};
}

Daemon::Daemon(DaemonConfig config, boost::asio::io_context& io,
               std::unique_ptr<store::ResultsDb> db)
    : config_(std::move(config)), io_(io), db_(std::move(db)) {}

Daemon::~Daemon() {
  queue_.close();
  {
    std::lock_guard lock(mutex_);
    fleet_stopping_ = true;
  }
  fleet_wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (fleet_thread_.joinable()) fleet_thread_.join();
  if (lease_watchdog_.joinable()) lease_watchdog_.join();
}

void Daemon::stop() {
  queue_.close();
  if (worker_.joinable()) worker_.join();
  {
    std::lock_guard lock(mutex_);
    fleet_stopping_ = true;
  }
  fleet_wake_.notify_all();
  if (fleet_thread_.joinable()) fleet_thread_.join();
  if (lease_watchdog_.joinable()) lease_watchdog_.join();
  if (rig_owner_) rig_owner_->stop();
  settle_pending_ends();  // a last try: the store may be back
  // Fleet jobs claimed but not started go back to the fleet for another rig.
  auto released = db_->leave_fleet(config_.name);
  if (!released) spdlog::error("bench serve: {}", released.error());
  audit("daemon", "system", "daemon.stop", 0, "daemon",
        json_text(json{{"queued_runs_kept", queue_.length()},
                       {"fleet_jobs_released", released ? *released : 0}}));
}

void Daemon::audit(const std::string& actor, const std::string& role, const std::string& action,
                   std::int64_t id, const std::string& origin, const std::string& detail_json) {
  auto entry =
      db_->append_audit(actor, role, action, id ? subject_of(id) : "daemon", origin, detail_json);
  if (!entry) spdlog::error("bench serve: audit log: {}", entry.error());
}

std::string Daemon::run_dir(std::int64_t id) const {
  return (fs::path(config_.data_dir) / "runs" / std::to_string(id)).string();
}

// ---------------------------------------------------------------- HTTP

Reply Daemon::handle(const HttpRequest& request) {
  const Route route = match_route(request.method, request.target);
  if (route.endpoint == Endpoint::NotFound)
    return error_response(404, "not_found", "no such endpoint: " + request.target);
  if (route.endpoint == Endpoint::MethodNotAllowed)
    return error_response(405, "bad_request",
                          request.method + " is not allowed on " + request.target);

  const Caller caller = identify(request.authorization, config_.tokens);
  // The owner is looked up (possibly in the audit log) only for a caller with a valid token:
  // anonymous requests must not make the daemon read the log.
  const std::string owner =
      route.endpoint == Endpoint::CancelRun && caller.token ? owner_of(route.run_id) : "";
  switch (authorize(route.endpoint, caller, config_.loopback_only, owner)) {
    case Access::Unauthorized:
      return error_response(
          401, "unauthorized",
          caller.bad_token ? "unknown token" : "this request needs 'Authorization: Bearer TOKEN'");
    case Access::Forbidden:
      if (route.endpoint == Endpoint::ReplacePhantom)
        return error_response(403, "forbidden",
                              std::string("role ") + to_string(caller.token->role) +
                                  " may not replace the phantom (operator or engineer may)");
      return error_response(403, "forbidden",
                            std::string("role ") + to_string(caller.token->role) +
                                " may cancel only the runs it submitted");
    case Access::Allowed:
      break;
  }

  try {
    switch (route.endpoint) {
      case Endpoint::Health:
        return health();
      case Endpoint::Metrics:
        return metrics();
      case Endpoint::Rig:
        return rig();
      case Endpoint::ReplacePhantom:
        return replace_phantom(request, *caller.token);
      case Endpoint::ListRuns:
        return list_runs(route.query);
      case Endpoint::GetRun:
        return get_run(route.run_id);
      case Endpoint::GetLot:
        return get_lot(route.lot);
      case Endpoint::SubmitRuns:
        return submit(request, *caller.token);
      case Endpoint::CancelRun:
        return cancel(route.run_id, *caller.token, request.remote_address);
      case Endpoint::RunEvents:
        return events(route.run_id);
      case Endpoint::RunFile:
        return run_file(route.run_id, route.file);
      default:
        break;
    }
  } catch (const std::exception& e) {
    spdlog::error("bench serve: {} {}: {}", request.method, request.target, e.what());
    return error_response(500, "internal", e.what());
  }
  return error_response(404, "not_found", "no such endpoint: " + request.target);
}

HttpResponse Daemon::health() {
  const auto running = queue_.running();
  return json_response(200, {{"status", "ok"},
                             {"queue_length", queue_.length()},
                             {"running", running ? json(*running) : json(nullptr)},
                             {"rig", rig_state()},
                             {"phantom_exhausted", phantom_exhausted()},
                             {"version", DERMA_VERSION}});
}

std::string Daemon::rig_state() {
  if (rig_owner_) return to_string(rig_owner_->status().state);
  std::lock_guard lock(mutex_);
  return queue_.running() ? "busy" : (rig_connected_ ? "connected" : "disconnected");
}

HttpResponse Daemon::metrics() {
  bool connected = false;
  std::uint64_t reconnects = 0;
  if (rig_owner_) {
    const RigOwnerStatus status = rig_owner_->status();
    connected = status.state != RigLinkState::Disconnected;
    reconnects = status.reconnects;
  } else {
    std::lock_guard lock(mutex_);
    connected = rig_connected_;
  }
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = metrics_.render(queue_.length(), connected, reconnects);
  return response;
}

HttpResponse Daemon::rig() {
  if (rig_owner_) return held_rig();
  std::lock_guard lock(mutex_);
  json body = {
      {"address", config_.rig},
      {"state", queue_.running() ? "busy" : (rig_connected_ ? "connected" : "disconnected")},
      {"last_error", text_or_null(last_rig_error_)}};
  put_rig_identity(body, last_rig_ && !last_rig_->rig_serial.empty() ? &*last_rig_ : nullptr);
  return json_response(200, body);
}

// A device rig the daemon holds: what the RigOwner knows, live.
HttpResponse Daemon::held_rig() {
  const RigOwnerStatus status = rig_owner_->status();
  json body = {{"address", config_.rig},
               {"state", to_string(status.state)},
               {"port", text_or_null(status.port)},
               {"reconnects", status.reconnects},
               {"last_error", text_or_null(status.last_error)},
               {"phantom_lanes", nullptr},
               {"phantom_lanes_used", json::array()},
               {"phantom_exhausted", false}};
  put_rig_identity(body, status.identity ? &*status.identity : nullptr);
  if (status.identity) {
    const proto::HelloReply& hello = *status.identity;
    body["phantom_lanes"] = hello.lanes;
    if (hello.lanes > 0) {
      auto used = db_->phantom_lanes(hello.rig_serial, hello.phantom_lot);
      if (!used) throw std::runtime_error("results database: " + used.error());
      json lanes = json::array();
      for (const store::PhantomLane& lane : *used)
        lanes.push_back({{"lane", lane.lane}, {"run_id", lane.run_id}, {"used_at", lane.used_at}});
      body["phantom_exhausted"] = static_cast<int>(used->size()) >= hello.lanes;
      body["phantom_lanes_used"] = std::move(lanes);
    }
  }
  return json_response(200, body);
}

std::optional<Daemon::TrayState> Daemon::tray_state() {
  if (!rig_owner_) return std::nullopt;
  const RigOwnerStatus status = rig_owner_->status();
  if (!status.identity || status.identity->lanes == 0) return std::nullopt;
  TrayState tray{status.identity->rig_serial, status.identity->phantom_lot, status.identity->lanes,
                 0};
  auto used = db_->phantom_lanes(tray.rig_serial, tray.phantom_lot);
  if (!used) throw std::runtime_error("results database: " + used.error());
  tray.used = static_cast<int>(used->size());
  return tray;
}

// An operator put a new phantom on the rig: its lanes are all fresh again.
HttpResponse Daemon::replace_phantom(const HttpRequest& request, const ApiToken& caller) {
  if (!rig_owner_)
    return error_response(409, "conflict",
                          "the daemon holds no device rig: with --rig sim every run starts a "
                          "fresh virtual rig and phantom");
  json body = json::object();
  if (!request.body.empty()) {
    try {
      body = json::parse(request.body);
    } catch (const json::parse_error& e) {
      return error_response(400, "bad_request", std::string("body is not JSON: ") + e.what());
    }
    if (!body.is_object()) return error_response(400, "bad_request", "body must be a JSON object");
    if (body.contains("phantom_lot") &&
        (!body["phantom_lot"].is_string() || body["phantom_lot"].get<std::string>().empty()))
      return error_response(400, "bad_request", "phantom_lot: must be a non-empty string");
  }
  const RigOwnerStatus status = rig_owner_->status();
  if (!status.identity)
    return error_response(409, "conflict",
                          "the rig has not been connected yet: its serial is unknown");
  const std::string rig_serial = status.identity->rig_serial;
  const std::string lot = body.contains("phantom_lot") ? body["phantom_lot"].get<std::string>()
                                                       : status.identity->phantom_lot;
  auto released = db_->reset_phantom_lanes(rig_serial, lot);
  if (!released) throw std::runtime_error("results database: " + released.error());
  audit(caller.name, to_string(caller.role), "phantom.replace", 0, request.remote_address,
        json_text(
            json{{"rig_serial", rig_serial}, {"phantom_lot", lot}, {"lanes_released", *released}}));
  spdlog::info("bench serve: phantom {} of rig {} replaced by {} ({} used lanes released)", lot,
               rig_serial, caller.name, *released);
  phantom_replaced_.notify_all();
  const auto tray = tray_state();
  return json_response(200, {{"rig_serial", rig_serial},
                             {"phantom_lot", lot},
                             {"lanes_released", *released},
                             {"phantom_exhausted", tray && tray->exhausted()}});
}

std::optional<std::string> Daemon::run_json(std::int64_t id) {
  auto row = db_->get_run(id);
  if (!row) throw std::runtime_error("results database: " + row.error());
  if (!*row) return std::nullopt;
  const store::RunRow& r = **row;
  json body = {{"id", r.id},
               {"state", store::to_string(r.state)},
               {"suite_file", r.suite_file},
               {"suite_name", r.suite_name},
               {"spec_model", r.spec_model},
               {"spec_sha256", text_or_null(r.spec_sha256)},
               {"roller_serial", r.roller_serial},
               {"requester", r.requester},
               {"operator", text_or_null(r.operator_name)},
               {"rig_address", r.rig_address},
               {"rig_serial", text_or_null(r.rig_serial)},
               {"firmware_version", text_or_null(r.firmware_version)},
               {"calibration_due", text_or_null(r.calibration_due)},
               {"software_version", text_or_null(r.software_version)},
               {"analysis_method", r.analysis_method},
               {"created_at", text_or_null(r.created_at)},
               {"started_at", text_or_null(r.started_at)},
               {"finished_at", text_or_null(r.finished_at)},
               {"verdict", text_or_null(r.verdict)},
               {"exit_code", r.exit_code >= 0 ? json(r.exit_code) : json(nullptr)},
               {"error", text_or_null(r.error)},
               {"daemon", text_or_null(r.daemon)},
               {"fleet_job", r.fleet_job ? json(*r.fleet_job) : json(nullptr)},
               {"url", "/api/v1/runs/" + std::to_string(r.id)}};
  // Another daemon of the fleet holds the run's files; an interrupted fleet attempt names the
  // job's next run, so a client can follow the job.
  if (!r.daemon.empty() && r.daemon != config_.name)
    body["files_url"] = text_or_null(daemon_url(r.daemon));
  if (r.fleet_job && r.state == store::RunState::Interrupted) {
    auto job = db_->fleet_job_of_run(r.id);
    if (!job) throw std::runtime_error("results database: " + job.error());
    if (*job && (*job)->run_id != r.id) body["next_run"] = (*job)->run_id;
  }
  if (r.state == store::RunState::Queued) {
    const auto position = queue_.position(id);
    body["position_in_queue"] = position ? json(*position) : json(nullptr);
  }
  if (store::is_final(r.state)) {
    auto checks = db_->checks_of(id);
    if (!checks) throw std::runtime_error("results database: " + checks.error());
    json list = json::array();
    for (const store::CheckRow& c : *checks)
      list.push_back({{"id", c.id},
                      {"roll", c.roll},
                      {"verdict", c.verdict},
                      {"value", optional_number(c.value)},
                      {"unit", c.unit},
                      {"lower_limit", optional_number(c.lower_limit)},
                      {"upper_limit", optional_number(c.upper_limit)},
                      {"summary", c.summary}});
    body["checks"] = std::move(list);
  }
  return json_text(body);
}

HttpResponse Daemon::get_run(std::int64_t id) {
  auto body = run_json(id);
  if (!body) return error_response(404, "not_found", "no run " + std::to_string(id));
  HttpResponse response;
  response.body = *body + "\n";
  return response;
}

HttpResponse Daemon::get_lot(const std::string& lot) {
  auto lot_row = db_->get_lot(lot);
  if (!lot_row) throw std::runtime_error("results database: " + lot_row.error());
  if (!*lot_row) return error_response(404, "not_found", "no lot " + lot);
  auto status = lot::lot_status(*db_, lot);
  if (!status) throw std::runtime_error("results database: " + status.error());
  HttpResponse response;
  response.body = json_text(status->json) + "\n";
  return response;
}

HttpResponse Daemon::list_runs(const std::map<std::string, std::string>& query) {
  store::RunFilter filter;
  if (auto it = query.find("state"); it != query.end()) {
    filter.state = store::run_state_from(it->second);
    if (!filter.state)
      return error_response(400, "bad_request", "state: '" + it->second + "' is not a run state");
  }
  if (auto it = query.find("roller"); it != query.end()) filter.roller_serial = it->second;
  if (auto it = query.find("limit"); it != query.end()) {
    try {
      std::size_t used = 0;
      filter.limit = std::stoi(it->second, &used);
      if (used != it->second.size() || filter.limit < 1 || filter.limit > 1000)
        throw std::invalid_argument("range");
    } catch (const std::exception&) {
      return error_response(400, "bad_request", "limit: must be a whole number from 1 to 1000");
    }
  }
  auto rows = db_->list_runs(filter);
  if (!rows) throw std::runtime_error("results database: " + rows.error());
  json list = json::array();
  for (const store::RunRow& row : *rows)
    if (auto body = run_json(row.id)) list.push_back(json::parse(*body));
  return json_response(200, {{"runs", list}});
}

HttpResponse Daemon::submit(const HttpRequest& request, const ApiToken& caller) {
  if (!request.content_type.empty() &&
      request.content_type.find("application/json") == std::string::npos)
    return error_response(415, "unsupported_media_type",
                          "Content-Type must be application/json, got " + request.content_type);
  json body;
  try {
    body = json::parse(request.body);
  } catch (const json::parse_error& e) {
    return error_response(400, "bad_request", std::string("body is not JSON: ") + e.what());
  }
  if (!body.is_object()) return error_response(400, "bad_request", "body must be a JSON object");
  if (!body.contains("suite") || !body["suite"].is_string())
    return error_response(400, "bad_request", "suite: missing or not a string");
  if (!body.contains("rollers") || !body["rollers"].is_array() || body["rollers"].empty())
    return error_response(400, "bad_request", "rollers: must be a non-empty list of serials");
  if (body.contains("requester") && !body["requester"].is_string())
    return error_response(400, "bad_request", "requester: must be a string");
  if (body.contains("lot") && !body["lot"].is_string())
    return error_response(400, "bad_request", "lot: must be a string (a lot number)");
  if (body.contains("fleet") &&
      (!body["fleet"].is_string() || body["fleet"].get<std::string>().empty()))
    return error_response(400, "bad_request",
                          "fleet: must be the kind of rig to run on (bench serve --fleet KIND)");
  const std::string fleet_kind = body.value("fleet", std::string());

  const std::string suite_name = body["suite"];
  if (!is_safe_relative_path(suite_name))
    return error_response(400, "bad_request",
                          "suite: '" + suite_name +
                              "' must be a path relative to the suites directory, without '..'");
  const std::string suite_path = (fs::path(config_.suites_dir) / suite_name).string();
  if (!fs::is_regular_file(suite_path))
    return error_response(400, "bad_request",
                          "suite: no suite '" + suite_name + "' in " + config_.suites_dir);
  auto suite = suite::load_suite(suite_path);
  if (!suite) return error_response(400, "bad_request", "suite: " + suite.error().to_string());

  // Every serial is checked before any run is created: a bad request changes nothing.
  std::vector<std::string> serials;
  for (const json& serial : body["rollers"]) {
    if (!serial.is_string() || serial.get<std::string>().empty())
      return error_response(400, "bad_request", "rollers: every entry must be a serial (string)");
    serials.push_back(serial);
    // A fleet run's roller is looked up by the daemon that claims it.
    if (fleet_kind.empty() && config_.rig == "sim" &&
        !find_roller_file(config_.rollers_dir, serials.back()))
      return error_response(
          400, "bad_request",
          "rollers: no roller file with serial '" + serials.back() + "' in " + config_.rollers_dir);
  }
  if (!fleet_kind.empty()) {
    // A kind no daemon ever joined with is most likely a typo: the jobs would wait for ever.
    auto members = db_->fleet_rigs();
    if (!members) throw std::runtime_error("results database: " + members.error());
    if (std::ranges::none_of(*members,
                             [&](const store::FleetRig& r) { return r.kind == fleet_kind; }))
      return error_response(409, "conflict",
                            "fleet: no daemon of kind '" + fleet_kind +
                                "' has joined this store (bench serve --fleet KIND)");
  }
  const std::string lot_name = body.value("lot", std::string());
  if (!lot_name.empty())
    if (auto joins = lot::lot_accepts_runs(*db_, lot_name, suite->spec.model); !joins)
      return error_response(409, "conflict", "lot: " + joins.error());
  if (queue_.closed()) return error_response(409, "conflict", "the daemon is stopping");

  const std::string requester =
      body.contains("requester") ? body["requester"].get<std::string>() : caller.name;
  json runs = json::array();
  for (const std::string& serial : serials) {
    store::NewRun run;
    run.suite_file = suite_name;
    run.suite_name = suite->name;
    run.spec_model = suite->spec.model;
    run.roller_serial = serial;
    run.requester = requester;
    run.rig_address = config_.rig;
    run.out_dir = (fs::path(config_.data_dir) / "runs").string();  // + "/<id>"
    run.lot = lot_name;
    run.daemon = config_.name;
    std::int64_t id = 0;
    std::optional<std::int64_t> job;
    if (fleet_kind.empty()) {
      auto created = db_->create_run(run);
      if (!created) throw std::runtime_error("results database: " + created.error());
      id = *created;
    } else {  // for any free rig of that kind: the fleet's queue, not this daemon's
      auto queued = db_->submit_fleet_job(run, fleet_kind);
      if (!queued) throw std::runtime_error("results database: " + queued.error());
      id = queued->run_id;
      job = queued->job_id;
    }
    {
      std::lock_guard lock(mutex_);
      owners_[id] = caller.name;
    }
    json detail = {
        {"suite", suite_name}, {"roller", serial}, {"requester", requester}, {"lot", lot_name}};
    if (job) detail.update({{"fleet", fleet_kind}, {"fleet_job", *job}});
    audit(caller.name, to_string(caller.role), "run.submit", id, request.remote_address,
          json_text(detail));
    metrics_.count_run_state("queued");
    if (!job) queue_.push(id);
    json entry = {{"id", id}, {"state", "queued"}, {"url", "/api/v1/runs/" + std::to_string(id)}};
    if (job) entry["fleet_job"] = *job;
    runs.push_back(std::move(entry));
  }
  return json_response(201, {{"runs", runs}});
}

std::string Daemon::owner_of(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = owners_.find(id); it != owners_.end()) return it->second;
  }
  // Submitted before a restart, or to another daemon of the fleet: the audit log says who.
  // A later attempt of a fleet job belongs to whoever submitted the job (its first run).
  std::int64_t submitted = id;
  if (auto row = db_->get_run(id); row && *row && (*row)->fleet_job) {
    store::RunFilter filter;
    filter.limit = 100000;
    filter.roller_serial = (*row)->roller_serial;
    if (auto runs = db_->list_runs(filter))
      for (const store::RunRow& r : *runs)
        if (r.fleet_job == (*row)->fleet_job) submitted = std::min(submitted, r.id);
  }
  auto log = db_->audit_log(100000);
  if (log)
    for (const store::AuditEntry& entry : *log)
      if (entry.action == "run.submit" && entry.subject == subject_of(submitted))
        return entry.actor;
  return "";
}

HttpResponse Daemon::cancel(std::int64_t id, const ApiToken& caller, const std::string& origin) {
  auto row = db_->get_run(id);
  if (!row) throw std::runtime_error("results database: " + row.error());
  if (!*row) return error_response(404, "not_found", "no run " + std::to_string(id));
  const json detail = {{"previous_state", store::to_string((*row)->state)}};
  switch (queue_.cancel(id)) {
    case CancelOutcome::CancelledInQueue: {
      auto set = db_->set_state(id, store::RunState::Cancelled, "cancelled by " + caller.name);
      if (!set) throw std::runtime_error("results database: " + set.error());
      if (is_fleet_run(id)) finish_fleet_job(id, false);  // a claimed job waiting here
      audit(caller.name, to_string(caller.role), "run.cancel", id, origin, json_text(detail));
      metrics_.count_run_state("cancelled");
      publish(id, "state", json_text(json{{"id", id}, {"state", "cancelled"}}));
      publish_end(id);
      return json_response(202, {{"id", id}, {"state", "cancelled"}});
    }
    case CancelOutcome::StopRequested:
      audit(caller.name, to_string(caller.role), "run.cancel", id, origin, json_text(detail));
      publish(id, "state", json_text(json{{"id", id}, {"state", "cancelling"}}));
      return json_response(202, {{"id", id}, {"state", "cancelling"}});
    case CancelOutcome::NotActive:
      break;
  }
  // A fleet job's run: waiting in the fleet's queue, or held by another daemon, which stops
  // it at its next heartbeat.
  auto fleet = db_->cancel_fleet_run(id, "cancelled by " + caller.name);
  if (!fleet) throw std::runtime_error("results database: " + fleet.error());
  if (*fleet == store::FleetCancel::CancelledQueued || *fleet == store::FleetCancel::Requested) {
    audit(caller.name, to_string(caller.role), "run.cancel", id, origin, json_text(detail));
    const char* state = *fleet == store::FleetCancel::CancelledQueued ? "cancelled" : "cancelling";
    if (*fleet == store::FleetCancel::CancelledQueued) metrics_.count_run_state("cancelled");
    return json_response(202, {{"id", id}, {"state", state}});
  }
  return error_response(409, "conflict",
                        "run " + std::to_string(id) + " is " + store::to_string((*row)->state) +
                            ": only queued or running runs can be cancelled");
}

HttpResponse Daemon::run_file(std::int64_t id, const std::string& file) {
  auto row = db_->get_run(id);
  if (!row) throw std::runtime_error("results database: " + row.error());
  if (!*row) return error_response(404, "not_found", "no run " + std::to_string(id));
  if (!holds(**row)) {
    // Its files are on the daemon of the fleet that ran it.
    const std::string url = (*row)->daemon.empty() ? "" : daemon_url((*row)->daemon);
    if (url.empty())
      return error_response(404, "not_found",
                            "run " + std::to_string(id) + " has not been run by any daemon yet");
    HttpResponse moved = error_response(
        307, "moved", "run " + std::to_string(id) + " was run by " + (*row)->daemon + ": " + url);
    moved.headers.emplace_back("Location", url + "/api/v1/runs/" + std::to_string(id) + "/" + file);
    return moved;
  }
  const std::string name = file == "capture" ? "capture.drcap" : file;
  const fs::path path = fs::path(run_dir(id)) / name;
  // A capture grows during the run; it is served only once the run is final.
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || (file == "capture" && !store::is_final((*row)->state)))
    return error_response(404, "not_found",
                          "run " + std::to_string(id) + " has no " + name + " (yet)");
  HttpResponse response;
  response.body_file = path.string();  // streamed: memory stays flat for large captures
  if (file == "report.json")
    response.content_type = "application/json";
  else if (file == "junit.xml")
    response.content_type = "application/xml";
  else if (file == "report.html")
    response.content_type = "text/html; charset=utf-8";
  else
    response.content_type = "application/octet-stream";
  if (file == "capture")
    response.headers.emplace_back(
        "Content-Disposition",
        "attachment; filename=\"run-" + std::to_string(id) + "-capture.drcap\"");
  return response;
}

Reply Daemon::events(std::int64_t id) {
  auto row = db_->get_run(id);
  if (!row) throw std::runtime_error("results database: " + row.error());
  if (!*row) return error_response(404, "not_found", "no run " + std::to_string(id));
  const bool held_here = holds(**row);
  return EventStreamReply{[this, id, held_here](std::shared_ptr<EventStream> stream) {
    // A late subscriber first learns where the run is; a final run ends at once.
    try {
      const auto state = send_state(id, *stream, "");
      if (!state) return;
      if (held_here)
        subscribers_[id].push_back(std::move(stream));
      else
        follow_from_store(id, std::move(stream), *state);
    } catch (const std::exception& e) {
      spdlog::error("bench serve: events of run {}: {}", id, e.what());
      stream->finish();
    }
  }};
}

bool Daemon::holds(const store::RunRow& run) {
  if (run.daemon == config_.name) return true;
  return run.daemon.empty() && !run.fleet_job;  // from before the fleet, or bench run --db
}

std::string Daemon::daemon_url(const std::string& name) {
  auto rigs = db_->fleet_rigs();
  if (!rigs) throw std::runtime_error("results database: " + rigs.error());
  for (const store::FleetRig& rig : *rigs)
    if (rig.name == name) return rig.api_url;
  return "";
}

std::optional<std::string> Daemon::send_state(std::int64_t id, EventStream& stream,
                                              const std::string& last_state) {
  const std::string current = run_json(id).value_or("{}");
  const std::string state = json::parse(current).value("state", "queued");
  if (state != last_state)
    stream.send_event("state", json_text(json{{"id", id}, {"state", state}}));
  const auto parsed = store::run_state_from(state);
  if (parsed && store::is_final(*parsed)) {
    stream.send_event("end", current);
    stream.finish();
    return std::nullopt;
  }
  return state;
}

void Daemon::follow_from_store(std::int64_t id, std::shared_ptr<EventStream> stream,
                               std::string last_state) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(500));
  timer->async_wait([this, id, stream, timer, last_state](const boost::system::error_code& ec) {
    if (ec || !stream->is_open()) return;
    try {
      if (const auto state = send_state(id, *stream, last_state))
        follow_from_store(id, stream, *state);
    } catch (const std::exception& e) {
      // The store is out of reach for now: the stream stays open and the next poll retries.
      stream->send_comment(std::string("results database: ") + e.what());
      follow_from_store(id, stream, last_state);
    }
  });
}

// ---------------------------------------------------------------- events (io thread)

void Daemon::publish(std::int64_t id, const std::string& event, const std::string& data) {
  auto it = subscribers_.find(id);
  if (it == subscribers_.end()) return;
  auto& streams = it->second;
  std::erase_if(streams, [](const auto& s) { return !s->is_open(); });
  for (const auto& stream : streams) stream->send_event(event, data);
  if (streams.empty()) subscribers_.erase(it);
}

void Daemon::publish_end(std::int64_t id) {
  auto it = subscribers_.find(id);
  if (it == subscribers_.end()) return;
  const auto body = run_json(id).value_or("{}");
  for (const auto& stream : it->second) {
    stream->send_event("end", body);
    stream->finish();
  }
  subscribers_.erase(it);
}

void Daemon::post_event(std::int64_t id, std::string event, std::string data) {
  boost::asio::post(io_, [this, id, event = std::move(event), data = std::move(data)] {
    publish(id, event, data);
  });
}

void Daemon::post_end(std::int64_t id) {
  boost::asio::post(io_, [this, id] {
    try {
      publish_end(id);
    } catch (const std::exception& e) {
      spdlog::error("bench serve: end of run {}: {}", id, e.what());
    }
  });
}

// ---------------------------------------------------------------- worker thread

void Daemon::work() {
  while (queue_.wait_for_work()) {
    // Every lane of a held rig's phantom holds an earlier roll's channels: a run now would
    // fail for the phantom's sake, so the runs wait queued until the phantom is replaced or
    // the rig comes back with a new lot. The rig is not borrowed meanwhile: its owner keeps
    // polling it and sees the new identity.
    if (phantom_exhausted()) {
      wait_for_phantom();
      continue;
    }
    // A device rig is borrowed before the next run is taken: while the rig is down the run
    // stays queued (and can be cancelled as queued) until the owner has reconnected.
    std::optional<RigOwner::Lease> lease =
        rig_owner_ ? rig_owner_->acquire([this] { return queue_.closed() || queue_.length() == 0; })
                   : std::nullopt;
    if (rig_owner_ && !lease) continue;  // stopping, or every waiting run was cancelled
    if (phantom_exhausted()) continue;   // the rig reconnected meanwhile, with a used phantom
    const auto id = queue_.try_take();
    if (!id) continue;
    try {
      execute(*id, lease ? &lease->client() : nullptr);
    } catch (const std::exception& e) {
      spdlog::error("bench serve: run {}: {}", *id, e.what());
    }
    lease.reset();  // the owner reconnects now if the run lost the link
    if (is_fleet_run(*id)) {
      // A fleet run its daemon stopped (a daemon stop, a lost store), not one a client
      // cancelled, has no verdict: its job is queued again for another rig.
      auto row = db_->get_run(*id);
      const bool stopped_unjudged =
          !queue_.cancel_requested() && row && *row && (*row)->state == store::RunState::Aborted;
      finish_fleet_job(*id, stopped_unjudged);
    }
    queue_.finish(*id);
  }
}

bool Daemon::phantom_exhausted() {
  try {
    const auto tray = tray_state();
    return tray && tray->exhausted();
  } catch (const std::exception& e) {
    spdlog::error("bench serve: {}", e.what());
    return false;  // the claim, when the run starts, reports the database's problem
  }
}

void Daemon::wait_for_phantom() {
  std::unique_lock lock(mutex_);
  phantom_replaced_.wait_for(lock, std::chrono::milliseconds(250),
                             [this] { return queue_.closed(); });
}

void Daemon::fail_run(std::int64_t id, const std::string& message) {
  // A run that already reached a final state (the failure came after its report was
  // recorded) keeps it; a running one becomes `error` with the reason.
  auto row = db_->get_run(id);
  if (!row) {
    // The store is out of reach: the run's end is kept and recorded once it is back.
    spdlog::error(
        "bench serve: run {}: {}; its end will be recorded when the results database "
        "answers again: {}",
        id, message, row.error());
    std::lock_guard lock(mutex_);
    pending_ends_.push_back({id, message});
    return;
  }
  std::string state = "error";
  if (*row && store::is_final((*row)->state)) {
    state = store::to_string((*row)->state);
  } else {
    auto set = db_->set_state(id, store::RunState::Error, message);
    if (!set) {
      spdlog::error("bench serve: run {}: cannot mark it error: {}", id, set.error());
      std::lock_guard lock(mutex_);
      pending_ends_.push_back({id, message});
      return;
    }
  }
  metrics_.count_run_state(state);
  audit("daemon", "system", "run.finish", id, "daemon",
        json_text(json{{"state", state}, {"error", message}}));
  post_event(id, "state", json_text(json{{"id", id}, {"state", state}}));
  post_end(id);
}

void Daemon::execute(std::int64_t id, rig::RigClient* held_rig) {
  auto row = db_->get_run(id);
  if (!row || !*row || (*row)->state != store::RunState::Queued) return;  // cancelled meanwhile
  const store::RunRow run = **row;
  {
    std::lock_guard lock(mutex_);
    lost_claim_reason_.clear();
  }
  if (run.fleet_job) {
    // Started only while this daemon still holds the job, in one transaction: a job taken
    // back meanwhile (this daemon missed heartbeats) is another rig's now.
    auto started = db_->start_fleet_run(id, config_.name);
    if (!started) throw std::runtime_error("results database: " + started.error());
    if (!*started) {
      spdlog::warn("bench serve: run {}: the fleet took its job back before it started", id);
      post_end(id);  // its subscribers here follow it from the store again
      return;
    }
  } else if (auto started = db_->set_state(id, store::RunState::Running); !started) {
    throw std::runtime_error("results database: " + started.error());
  }
  metrics_.count_run_state("running");
  audit("daemon", "system", "run.start", id, "daemon",
        json_text(
            json{{"suite", run.suite_file}, {"roller", run.roller_serial}, {"rig", config_.rig}}));
  post_event(id, "state", json_text(json{{"id", id}, {"state", "running"}}));

  // From here on the run is `running`: whatever goes wrong must still end it, or it would
  // stay running with its subscribers waiting for an end that never comes.
  try {
    run_started(id, run, held_rig);
  } catch (const std::exception& e) {
    spdlog::error("bench serve: run {}: {}", id, e.what());
    fail_run(id, std::string("the daemon could not complete the run: ") + e.what());
  }
}

void Daemon::run_started(std::int64_t id, const store::RunRow& run, rig::RigClient* held_rig) {
  // The suite is loaded again: it may have been fixed (or broken) since the submission.
  auto suite = suite::load_suite((fs::path(config_.suites_dir) / run.suite_file).string());
  if (!suite) return fail_run(id, "suite: " + suite.error().to_string());
  runner::RunOptions options;
  options.rig_address = config_.rig;
  if (config_.rig == "sim") {
    auto roller = find_roller_file(config_.rollers_dir, run.roller_serial);
    if (!roller)
      return fail_run(
          id, "no roller file with serial '" + run.roller_serial + "' in " + config_.rollers_dir);
    options.roller_file = *roller;
  } else {
    options.roller_serial = run.roller_serial;
    options.borrowed_rig = held_rig;
  }
  // A held rig keeps its phantom between runs: this run rolls on a lane no earlier run used
  // (every lane step of the suite selects it). The lane is given back below only if no roll
  // started on it.
  const bool selects_lane = std::ranges::any_of(suite->steps, [](const suite::Step& step) {
    return std::holds_alternative<suite::LaneStep>(step.action);
  });
  std::optional<TrayState> tray;
  try {
    if (held_rig && selects_lane) tray = tray_state();
  } catch (const std::exception& e) {
    return fail_run(id, e.what());
  }
  if (tray) {
    auto lane = db_->claim_phantom_lane(tray->rig_serial, tray->phantom_lot, tray->lanes, id);
    if (!lane) return fail_run(id, "results database: " + lane.error());
    if (!*lane)
      return fail_run(id, "every lane of phantom " + tray->phantom_lot + " on rig " +
                              tray->rig_serial + " has been rolled: replace the phantom");
    options.lane_override = **lane;
    audit("daemon", "system", "phantom.lane", id, "daemon",
          json_text(json{{"rig_serial", tray->rig_serial},
                         {"phantom_lot", tray->phantom_lot},
                         {"lane", **lane}}));
  }
  options.out_dir = run_dir(id);
  options.rigsim_serial = config_.sim_rig_serial;
  options.operator_name = run.requester;
  options.realtime = config_.realtime;
  options.stop_requested = queue_.stop_flag();
  options.progress = [this, id](const std::string& line) {
    if (line.rfind("connected to rig", 0) == 0) {
      std::lock_guard lock(mutex_);
      rig_connected_ = true;
    }
    post_event(id, "progress", json_text(json{{"id", id}, {"line", line}}));
  };

  const auto t0 = std::chrono::steady_clock::now();
  runner::RunOutcome outcome = runner::run_suite(*suite, options);
  metrics_.observe_run_duration(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (tray && !roll_started(*suite, outcome.report)) {
    auto released = db_->release_phantom_lanes_of(id);
    if (!released) spdlog::error("bench serve: run {}: {}", id, released.error());
  }
  const bool cancelled = queue_.cancel_requested();
  const bool shutting_down = !cancelled && queue_.closed();
  std::string lost_claim;
  {
    std::lock_guard lock(mutex_);
    lost_claim = lost_claim_reason_;
  }
  if (shutting_down && outcome.report.verdict == report::RunVerdict::Aborted)
    outcome.report.error = "the daemon was stopped during the run: " + outcome.report.error;
  else if (!lost_claim.empty() && outcome.report.verdict == report::RunVerdict::Aborted)
    outcome.report.error = lost_claim + ": " + outcome.report.error;
  {
    std::lock_guard lock(mutex_);
    rig_connected_ = false;
    if (!outcome.report.rig.rig_serial.empty()) last_rig_ = outcome.report.rig;
    last_rig_error_ = outcome.report.verdict == report::RunVerdict::Error &&
                              outcome.exit_code == report::kExitRigError
                          ? outcome.report.error
                          : "";
  }

  // A cancelled run that the runner aborted is recorded as cancelled (the database keeps a
  // cancelled run cancelled when its aborted report arrives). A cancel that came too late to
  // stop anything leaves the run's real verdict.
  if (cancelled && outcome.report.verdict == report::RunVerdict::Aborted) {
    auto set = db_->set_state(id, store::RunState::Cancelled, "cancelled during the run");
    if (!set) spdlog::error("bench serve: run {}: {}", id, set.error());
  }
  auto recorded = db_->record_report(id, outcome.report, suite->spec.text);
  if (!recorded)  // the run would stay `running`: execute() marks it error instead
    throw std::runtime_error("cannot record the report in the results database: " +
                             recorded.error());
  std::string state = report::to_string(outcome.report.verdict);
  if (auto final_row = db_->get_run(id); final_row && *final_row)
    state = store::to_string((*final_row)->state);
  metrics_.count_run_state(state);
  audit("daemon", "system", "run.finish", id, "daemon",
        json_text(json{{"state", state},
                       {"verdict", report::to_string(outcome.report.verdict)},
                       {"exit_code", outcome.exit_code}}));
  post_event(id, "state", json_text(json{{"id", id}, {"state", state}}));
  post_end(id);
}

// ---------------------------------------------------------------- the fleet (heartbeat thread)

void Daemon::fleet_loop() {
  std::unique_lock lock(mutex_);
  while (!fleet_stopping_) {
    lock.unlock();
    if (heartbeat()) {  // without the store, the rest would only fail again
      settle_pending_ends();
      recover_expired_jobs();
      claim_fleet_job();
    }
    lock.lock();
    fleet_wake_.wait_for(lock, config_.heartbeat, [this] { return fleet_stopping_; });
  }
}

store::FleetMember Daemon::member() {
  store::FleetMember m;
  m.name = config_.name;
  m.kind = config_.fleet_kind;
  m.rig_address = config_.rig;
  m.api_url = api_url_;
  m.current_run = queue_.running();
  m.queue_length = static_cast<int>(queue_.length());
  m.lease_ms = config_.lease.count();
  if (rig_owner_) {
    const RigOwnerStatus status = rig_owner_->status();
    m.state = status.state == RigLinkState::Disconnected ? "disconnected"
              : m.current_run                            ? "busy"
                                                         : "idle";
    if (status.identity) {
      m.rig_serial = status.identity->rig_serial;
      m.calibration_due = status.identity->calibration_due;
    }
  } else {
    m.state = m.current_run ? "busy" : "idle";
    std::lock_guard lock(mutex_);
    if (last_rig_) {
      m.rig_serial = last_rig_->rig_serial;
      m.calibration_due = last_rig_->calibration_due;
    }
    if (m.rig_serial.empty()) m.rig_serial = config_.sim_rig_serial;
  }
  return m;
}

// Renews this daemon's claims and learns what became of them: a job a client cancelled is
// stopped here; a job the fleet took back (this daemon's heartbeats stopped reaching the
// store for a whole lease: it was frozen or cut off) is stopped at once. False when the store
// did not answer.
bool Daemon::heartbeat() {
  // The lease was renewed as of the moment the heartbeat was sent, not when it came back.
  const auto sent = std::chrono::steady_clock::now();
  const auto beat = db_->fleet_heartbeat(member());
  if (!beat) {
    std::lock_guard lock(mutex_);
    if (!store_unreachable_)
      spdlog::error("bench serve: the results database does not answer: {}", beat.error());
    store_unreachable_ = true;
    return false;
  }
  last_renewal_ = sent.time_since_epoch().count();
  {
    std::lock_guard lock(mutex_);
    if (store_unreachable_) spdlog::info("bench serve: the results database answers again");
    store_unreachable_ = false;
  }
  for (const std::int64_t id : beat->cancel_requested)
    if (queue_.cancel(id) == CancelOutcome::CancelledInQueue) {
      if (auto set = db_->set_state(id, store::RunState::Cancelled, "cancelled"); !set)
        spdlog::error("bench serve: run {}: {}", id, set.error());
      finish_fleet_job(id, false);
      post_event(id, "state", json_text(json{{"id", id}, {"state", "cancelled"}}));
      post_end(id);
    }
  release_stray_claims(beat->claimed_runs);
  const auto running = queue_.running();
  if (running && is_fleet_run(*running) && !std::ranges::count(beat->claimed_runs, *running))
    stop_unclaimed_run(*running,
                       "the fleet gave this run's job to another rig (this daemon's heartbeats "
                       "had not reached the results database for a whole lease): the run was "
                       "stopped");
  return true;
}

// The lease watchdog: a thread of its own, so that a heartbeat blocked on an unreachable
// store (libpq gives up after its timeouts) cannot delay it. A fleet run whose lease was last
// renewed more than half a lease ago is stopped, before another rig can take its job: a job
// never runs on two rigs at once.
void Daemon::watch_lease() {
  std::unique_lock lock(mutex_);
  const auto period =
      std::min<std::chrono::milliseconds>(config_.heartbeat / 2, std::chrono::milliseconds(100));
  while (!fleet_stopping_) {
    fleet_wake_.wait_for(lock, period, [this] { return fleet_stopping_; });
    lock.unlock();
    const auto running = queue_.running();
    const std::chrono::steady_clock::time_point renewed{
        std::chrono::steady_clock::duration(last_renewal_.load())};
    if (running && is_fleet_run(*running) &&
        std::chrono::steady_clock::now() - renewed > config_.lease / 2)
      stop_unclaimed_run(*running,
                         "the results database was out of reach for half a lease, so the fleet "
                         "may give this job to another rig: the run was stopped");
    lock.lock();
  }
}

void Daemon::stop_unclaimed_run(std::int64_t id, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (!lost_claim_reason_.empty()) return;  // said already
    lost_claim_reason_ = reason;
  }
  spdlog::error("bench serve: run {}: {}", id, reason);
  queue_.stop_running(id);
}

// A claim whose run is neither running here nor waiting in this daemon's queue (its start was
// skipped: the store did not answer the claim check) goes back to the fleet rather than be
// renewed for ever. Runs whose end is still being recorded are left to settle_pending_ends.
void Daemon::release_stray_claims(const std::vector<std::int64_t>& claimed_runs) {
  for (const std::int64_t id : claimed_runs) {
    if (queue_.running() == id || queue_.position(id)) continue;
    {
      std::lock_guard lock(mutex_);
      if (unclosed_jobs_.contains(id) ||
          std::ranges::any_of(pending_ends_, [id](const PendingEnd& p) { return p.id == id; }))
        continue;
    }
    auto released = db_->release_fleet_run(config_.name, id);
    if (!released)
      spdlog::error("bench serve: {}", released.error());
    else if (*released)
      spdlog::warn(
          "bench serve: run {} was claimed but not started: its job goes back to the fleet", id);
  }
}

void Daemon::recover_expired_jobs() {
  auto recovered = db_->recover_fleet_jobs(config_.name);
  if (!recovered) {
    std::lock_guard lock(mutex_);
    if (!store_unreachable_) spdlog::error("bench serve: {}", recovered.error());
    return;
  }
  for (const store::FleetRecovery& r : *recovered) {
    if (r.run_state == "interrupted") metrics_.count_run_state("interrupted");
    spdlog::warn("bench serve: fleet job {}: its daemon {} stopped renewing its lease; run {} {}{}",
                 r.job_id, r.from_daemon, r.run_id, r.run_state,
                 r.next_run_id && r.next_run_id != r.run_id
                     ? ", the job is queued again as run " + std::to_string(r.next_run_id)
                     : "");
  }
}

bool Daemon::ready_for_fleet_work() {
  if (config_.fleet_kind.empty() || queue_.closed()) return false;
  if (queue_.running() || queue_.length() > 0) return false;
  if (rig_owner_ && rig_owner_->status().state == RigLinkState::Disconnected) return false;
  return !phantom_exhausted();
}

void Daemon::claim_fleet_job() {
  if (!ready_for_fleet_work()) return;
  auto claim = db_->claim_fleet_job(member(), (fs::path(config_.data_dir) / "runs").string());
  if (!claim) {
    std::lock_guard lock(mutex_);
    if (!store_unreachable_) spdlog::error("bench serve: {}", claim.error());
    return;
  }
  if (!*claim) return;
  const store::FleetClaim& c = **claim;
  {
    std::lock_guard lock(mutex_);
    fleet_runs_.insert(c.run_id);
  }
  audit("daemon", "system", "fleet.claim", c.run_id, "daemon",
        json_text(json{{"job", c.job_id}, {"attempt", c.attempt}, {"kind", config_.fleet_kind}}));
  spdlog::info("bench serve: claimed fleet job {} (run {}, attempt {})", c.job_id, c.run_id,
               c.attempt);
  if (!queue_.push(c.run_id)) {
    auto released = db_->leave_fleet(config_.name);  // stopping: give it back at once
    if (!released) spdlog::error("bench serve: {}", released.error());
  }
}

bool Daemon::is_fleet_run(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return fleet_runs_.count(id) > 0;
}

void Daemon::finish_fleet_job(std::int64_t id, bool retry) {
  {
    std::lock_guard lock(mutex_);
    // Its end is not recorded yet: the job closes after it (settle_pending_ends).
    if (std::ranges::any_of(pending_ends_, [id](const PendingEnd& p) { return p.id == id; }))
      return;
  }
  auto closed = db_->finish_fleet_job(id, config_.name, retry);
  std::lock_guard lock(mutex_);
  if (closed) {
    fleet_runs_.erase(id);
    unclosed_jobs_.erase(id);
    if (*closed == store::FleetJobState::Queued)
      spdlog::warn("bench serve: run {} was stopped unjudged: its job is queued again", id);
  } else {
    spdlog::error("bench serve: {}", closed.error());
    unclosed_jobs_[id] = retry;
  }
}

// Ends the store could not take when they happened (it was out of reach): each run becomes
// `error` with its reason (unless it was meanwhile ended otherwise: interrupted by the
// fleet), is audited, and its fleet job is closed. Nothing of the run's report is written
// then: the report files stay in the run's directory, and the database holds no half of it.
void Daemon::settle_pending_ends() {
  std::vector<PendingEnd> pending;
  std::map<std::int64_t, bool> unclosed;
  {
    std::lock_guard lock(mutex_);
    pending = pending_ends_;
    unclosed = unclosed_jobs_;
  }
  for (const PendingEnd& end : pending) {
    auto row = db_->get_run(end.id);
    if (!row) return;  // still out of reach
    std::string state = "error";
    if (*row && store::is_final((*row)->state)) {
      state = store::to_string((*row)->state);
    } else if (auto set = db_->set_state(end.id, store::RunState::Error, end.message); !set) {
      return;
    }
    spdlog::info("bench serve: run {} recorded as {} now that the results database answers", end.id,
                 state);
    metrics_.count_run_state(state);
    audit("daemon", "system", "run.finish", end.id, "daemon",
          json_text(json{{"state", state}, {"error", end.message}, {"recorded_late", true}}));
    {
      std::lock_guard lock(mutex_);
      std::erase_if(pending_ends_, [&](const PendingEnd& p) { return p.id == end.id; });
    }
    // Its report never reached the store: the job runs again for a verdict on record.
    if (is_fleet_run(end.id)) finish_fleet_job(end.id, true);
    post_event(end.id, "state", json_text(json{{"id", end.id}, {"state", state}}));
    post_end(end.id);
  }
  for (const auto& [id, retry] : unclosed) finish_fleet_job(id, retry);
}

}  // namespace derma::api
