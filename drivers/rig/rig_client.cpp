#include "drivers/rig/rig_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "drivers/protocol/stream_counter.hpp"
#include "drivers/transport/transport.hpp"

namespace derma::rig {
namespace {

namespace asio = boost::asio;
using proto::MsgType;
using std::chrono::milliseconds;

// One logger for the subsystem, writing to the same sinks as the application's default
// logger so that its format (text or JSON) and destination apply here too.
std::shared_ptr<spdlog::logger> rig_logger() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("rig")) return existing;
  auto fallback = spdlog::default_logger();
  auto logger =
      std::make_shared<spdlog::logger>("rig", fallback->sinks().begin(), fallback->sinks().end());
  logger->set_level(fallback->level());
  spdlog::register_logger(logger);
  return logger;
}

RigError make_error(RigError::Kind kind, std::string message) {
  RigError error;
  error.kind = kind;
  error.message = std::move(message);
  return error;
}

}  // namespace

const char* to_string(RigError::Kind kind) {
  switch (kind) {
    case RigError::Kind::Timeout:
      return "timeout";
    case RigError::Kind::Disconnected:
      return "disconnected";
    case RigError::Kind::Rejected:
      return "rejected";
    case RigError::Kind::Fault:
      return "fault";
    case RigError::Kind::Protocol:
      return "protocol";
  }
  return "unknown";
}

// Everything below runs on the internal io thread unless it says otherwise; that thread is
// the only one touching the link, the decoder, the pending requests and the operation.
struct RigClient::Impl {
  using FrameResult = RigResult<proto::Frame>;

  // A request, queued or waiting for its reply. It gets its seq when it is first sent and
  // is re-sent with the same bytes (same seq) on each reply timeout.
  struct Request {
    MsgType type;
    proto::Bytes payload;
    int max_attempts;
    std::function<void(FrameResult)> done;
    asio::steady_timer timer;
    std::optional<std::uint16_t> seq;  // set when sent
    proto::Bytes wire;
    int attempts_made = 0;
  };
  using RequestPtr = std::shared_ptr<Request>;

  // The long operation (Home, Roll, Scan) in progress: the rig runs at most one.
  struct Operation {
    Operation(MsgType type_in, asio::io_context& context, Completion<StreamOutcome> done_in)
        : type(type_in), deadline(context), stall_timer(context), done(std::move(done_in)) {}

    MsgType type;
    RequestPtr request;  // the request that started it; its seq is OperationDone.request_seq
    std::function<void(const proto::SampleBatch&)> on_batch;
    std::function<void(const proto::ScanRows&)> on_rows;
    proto::StreamCounter counter;  // batch_counter / chunk_counter loss accounting
    StreamOutcome outcome;
    asio::steady_timer deadline;     // operation_timeout, end to end
    asio::steady_timer stall_timer;  // stall_timeout since the last stream frame
    std::chrono::steady_clock::time_point last_activity;
    Completion<StreamOutcome> done;
  };

  Impl(std::unique_ptr<transport::Transport> link_in, RigOptions options_in)
      : link(std::move(link_in)),
        context(link->context()),
        work(asio::make_work_guard(context)),
        options(options_in),
        port(link->describe()),
        log(rig_logger()),
        heartbeat_timer(context) {
    options.attempts = std::max(options.attempts, 1);
  }

  // ---- owned objects; the link owns the io_context, so it is declared (and outlives) first
  std::unique_ptr<transport::Transport> link;
  asio::io_context& context;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  std::thread::id io_thread_id;

  RigOptions options;
  const std::string port;
  std::shared_ptr<spdlog::logger> log;

  proto::FrameDecoder decoder;
  std::array<std::uint8_t, 4096> read_buffer{};
  static constexpr int kArrivedInARow = 16;  // see on_read()
  std::vector<proto::Frame> ready_frames;
  std::deque<proto::Bytes> write_queue;
  bool writing = false;
  std::function<void()> on_drained;  // shutdown waits for the final Abort to leave
  WireTap tap;

  // PROTOCOL.md section 8: at most one request outstanding, so that the rig's one-entry
  // de-duplication cache always holds the request a retry repeats.
  std::uint16_t next_seq = 1;
  // Protocol version of the session, agreed in the last handshake (io thread only).
  std::uint8_t session_version = proto::kProtocolVersion;
  RequestPtr outstanding;
  std::deque<RequestPtr> queued;
  std::unique_ptr<Operation> operation;
  asio::steady_timer heartbeat_timer;
  milliseconds heartbeat_period{0};
  bool heartbeat_in_flight = false;

  bool lost = false;  // the link is gone; everything fails with Disconnected
  std::string lost_reason;
  bool closing = false;

  // Snapshots for other threads.
  mutable std::mutex stats_mutex;
  proto::LinkCounters link_stats;
  ClientCounters client_stats;
  bool lost_snapshot = false;

  // ---- lifetime --------------------------------------------------------------------------

  void start() {
    thread = std::thread([this] { context.run(); });
    io_thread_id = thread.get_id();
    asio::post(context, [this] {
      // A lone delimiter makes the rig drop any partial frame left on the line.
      enqueue(proto::Bytes{0x00});
      read_loop();
    });
  }

  void shutdown() {
    // Stop motion if an operation is running, and let the Abort leave before closing.
    std::promise<void> flushed;
    auto flushed_future = flushed.get_future();
    asio::post(context, [this, &flushed] {
      closing = true;
      heartbeat_timer.cancel();
      if (operation && !lost) {
        // Written directly rather than queued: the client is going away and must not wait
        // behind an outstanding request for the motion to stop.
        log->warn("closing {} while {} runs: sending Abort", port,
                  proto::to_string(operation->type));
        enqueue(proto::encode_frame(
            {session_version, MsgType::Abort, take_seq(), proto::encode(proto::Abort{})}));
      }
      fail_everything(
          make_error(RigError::Kind::Disconnected, "rig client for " + port + " was closed"));
      if (!writing) {
        flushed.set_value();
      } else {
        on_drained = [&flushed] { flushed.set_value(); };
      }
    });
    if (flushed_future.wait_for(std::max(options.reply_timeout, milliseconds(100))) !=
        std::future_status::ready) {
      log->warn("closing {}: pending writes did not drain", port);
    }
    asio::post(context, [this] {
      on_drained = nullptr;
      link->close();
      context.stop();
    });
    work.reset();
    thread.join();
  }

  // ---- reading ---------------------------------------------------------------------------

  void read_loop() {
    if (lost || closing) return;
    link->async_read_some(asio::buffer(read_buffer), [this](const boost::system::error_code& ec,
                                                            std::size_t n) { on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (closing) return;
    if (ec) {
      link_lost("read", ec);
      return;
    }
    take(n);
    // A read that filled the buffer (the line discipline hands out at most 4,095 bytes) means
    // the rig is sending faster than it is read: the next bytes have usually arrived already.
    // Taking them at once, instead of going back to epoll for each 4 kB, took the pty stress
    // from a median of 70 to 90-94 MB/s (docs/performance.md). At most kArrivedInARow further
    // buffers, so that timers and queued writes still get their turn.
    for (int taken = 0; n + 1 >= read_buffer.size() && taken < kArrivedInARow; ++taken) {
      if (lost || closing) return;
      const auto got = link->read_arrived(asio::buffer(read_buffer));
      if (!got) {
        link_lost("read", got.error());
        return;
      }
      n = *got;
      if (n == 0) break;
      take(n);
    }
    read_loop();
  }

  // The bytes of one read: into the capture tap, the decoder, then every complete frame.
  void take(std::size_t n) {
    const proto::ByteView bytes(read_buffer.data(), n);
    if (tap) tap(Direction::RigToHost, bytes);
    decoder.feed(bytes);
    // Take every frame before dispatching, so the counters a caller reads after its
    // operation completed already include that operation's frames.
    ready_frames.clear();
    while (auto frame = decoder.next()) ready_frames.push_back(std::move(*frame));
    {
      std::lock_guard lock(stats_mutex);
      link_stats = decoder.counters();
    }
    for (const proto::Frame& frame : ready_frames) dispatch(frame);
  }

  void dispatch(const proto::Frame& frame) {
    if (proto::is_reply(frame.type)) return on_reply(frame);
    switch (frame.type) {
      case MsgType::SampleBatch:
        return on_sample_batch(frame);
      case MsgType::ScanRows:
      case MsgType::ScanRowsDelta:
        return on_scan_rows(frame);
      case MsgType::OperationDone:
        return on_operation_done(frame);
      case MsgType::Fault:
        return on_fault(frame);
      default:
        log->debug("ignoring unexpected {} frame (seq {}) from {}", proto::to_string(frame.type),
                   frame.seq, port);
    }
  }

  // ---- writing ---------------------------------------------------------------------------

  void enqueue(proto::Bytes wire) {
    if (lost) return;
    write_queue.push_back(std::move(wire));
    if (!writing) write_next();
  }

  void write_next() {
    if (write_queue.empty()) {
      writing = false;
      if (on_drained) std::exchange(on_drained, nullptr)();
      return;
    }
    writing = true;
    const proto::Bytes& front = write_queue.front();
    if (tap) tap(Direction::HostToRig, front);
    link->async_write(asio::buffer(front),
                      [this](const boost::system::error_code& ec, std::size_t) {
                        if (ec) {
                          writing = false;
                          write_queue.clear();
                          if (!closing) link_lost("write", ec);
                          return;
                        }
                        write_queue.pop_front();
                        write_next();
                      });
  }

  // ---- link loss -------------------------------------------------------------------------

  void link_lost(const char* during, const boost::system::error_code& ec) {
    if (lost) return;
    lost = true;
    lost_reason =
        transport::is_disconnect(ec)
            ? "rig link " + port + " disconnected (" + ec.message() + " on " + during + ")"
            : "rig link " + port + " failed on " + during + ": " + ec.message();
    log->error("{}", lost_reason);
    {
      std::lock_guard lock(stats_mutex);
      lost_snapshot = true;
    }
    heartbeat_timer.cancel();
    fail_everything(make_error(RigError::Kind::Disconnected, lost_reason));
  }

  void fail_everything(const RigError& error) {
    std::deque<RequestPtr> requests = std::exchange(queued, {});
    if (outstanding) requests.push_front(std::exchange(outstanding, nullptr));
    for (auto& request : requests) {
      request->timer.cancel();
      request->done(std::unexpected(error));
    }
    if (operation) finish_operation(std::unexpected(error));
  }

  // ---- requests --------------------------------------------------------------------------

  std::uint16_t take_seq() { return next_seq++; }  // wraps 65535 -> 0 as the spec says

  // The rig may take up to 2 s to answer Tare and 5 s for SelectLane (PROTOCOL.md 8):
  // waiting only the plain reply timeout would retry, then give up on, a working rig.
  milliseconds reply_timeout_for(MsgType type) const {
    if (type == MsgType::Tare) return options.reply_timeout + milliseconds(2000);
    if (type == MsgType::SelectLane) return options.reply_timeout + milliseconds(5000);
    return options.reply_timeout;
  }

  // Queues a request; `done` runs once with its reply frame (type and seq matched), or with
  // Timeout after max_attempts tries, or Disconnected. Urgent requests (Abort) go first.
  // `done` never runs before this returns. Returns nullptr if the link is already gone.
  RequestPtr submit(MsgType type, proto::Bytes payload, std::function<void(FrameResult)> done,
                    bool urgent = false, int max_attempts = 0) {
    if (lost || closing) {
      auto error = make_error(RigError::Kind::Disconnected,
                              lost ? lost_reason : "rig client for " + port + " was closed");
      asio::post(context, [done = std::move(done), error] { done(std::unexpected(error)); });
      return nullptr;
    }
    auto request =
        std::make_shared<Request>(Request{type,
                                          std::move(payload),
                                          max_attempts > 0 ? max_attempts : options.attempts,
                                          std::move(done),
                                          asio::steady_timer(context),
                                          std::nullopt,
                                          {},
                                          0});
    if (urgent) {
      queued.push_front(request);
    } else {
      queued.push_back(request);
    }
    // Sending from a fresh handler keeps `done` from running inside submit().
    asio::post(context, [this] { send_next(); });
    return request;
  }

  void send_next() {
    if (outstanding || queued.empty() || lost || closing) return;
    outstanding = std::move(queued.front());
    queued.pop_front();
    outstanding->seq = take_seq();
    outstanding->wire = proto::encode_frame(
        {session_version, outstanding->type, *outstanding->seq, outstanding->payload});
    bump(&ClientCounters::requests);
    attempt(outstanding);
  }

  void attempt(const RequestPtr& request) {
    if (request->attempts_made > 0) {
      bump(&ClientCounters::retries);
      log->debug("no reply to {} seq {} from {}: retry {} of {}", proto::to_string(request->type),
                 *request->seq, port, request->attempts_made, request->max_attempts - 1);
    }
    ++request->attempts_made;
    enqueue(request->wire);
    request->timer.expires_after(reply_timeout_for(request->type));
    request->timer.async_wait([this, weak = std::weak_ptr(request)](const auto& ec) {
      auto request = weak.lock();
      if (ec || !request || request != outstanding) return;
      if (request->attempts_made < request->max_attempts) return attempt(request);
      bump(&ClientCounters::timeouts);
      complete(request,
               std::unexpected(make_error(
                   RigError::Kind::Timeout,
                   std::string("no reply to ") + proto::to_string(request->type) + " (seq " +
                       std::to_string(*request->seq) + ") from " + port + " after " +
                       std::to_string(request->attempts_made) + " attempts of " +
                       std::to_string(reply_timeout_for(request->type).count()) + " ms")));
    });
  }

  // Ends the outstanding request and lets the next one go. Takes the pointer by value:
  // callers pass `outstanding` itself, which is reset here.
  void complete(RequestPtr request, FrameResult result) {
    if (request != outstanding) return;
    outstanding.reset();
    request->timer.cancel();
    request->done(std::move(result));
    send_next();
  }

  // Forgets a request without calling its `done` (its operation already ended).
  void withdraw(RequestPtr request) {
    request->timer.cancel();
    if (request == outstanding) {
      outstanding.reset();
      send_next();
      return;
    }
    std::erase(queued, request);
  }

  void on_reply(const proto::Frame& frame) {
    const auto request_type =
        static_cast<MsgType>(static_cast<std::uint8_t>(frame.type) & ~proto::kReplyBit);
    if (!outstanding || outstanding->seq != frame.seq || outstanding->type != request_type) {
      // A duplicate reply to a retried request, or one that arrived after we gave up.
      bump(&ClientCounters::unmatched_replies);
      log->debug("unmatched {} seq {} from {}", proto::to_string(frame.type), frame.seq, port);
      return;
    }
    complete(outstanding, frame);
  }

  // ---- replies to typed results ----------------------------------------------------------

  // A reply whose result is not Ok may be the one-byte short form (PROTOCOL.md), so the
  // result byte is checked before the full payload is decoded.
  std::optional<RigError> rejection(const proto::Frame& frame, const char* command) const {
    if (frame.payload.empty()) {
      return make_error(RigError::Kind::Protocol,
                        std::string(command) + " reply from " + port + " has an empty payload");
    }
    const auto result = static_cast<proto::Result>(frame.payload[0]);
    if (result == proto::Result::Ok) return std::nullopt;
    if (frame.payload[0] > static_cast<std::uint8_t>(proto::Result::NotReady)) {
      return make_error(RigError::Kind::Protocol, std::string(command) + " reply from " + port +
                                                      " has unknown result code " +
                                                      std::to_string(frame.payload[0]));
    }
    auto error = make_error(RigError::Kind::Rejected, std::string(command) + " rejected by " +
                                                          port + ": " + proto::to_string(result));
    error.result = result;
    return error;
  }

  template <typename T>
  RigResult<T> decoded(proto::Decoded<T> value, const char* command) const {
    if (value) return std::move(*value);
    return std::unexpected(make_error(
        RigError::Kind::Protocol,
        std::string("malformed ") + command + " reply from " + port + ": " + value.error().what));
  }

  // For requests whose reply is a bare Ack.
  void ack_request(MsgType type, proto::Bytes payload, Completion<void> done, bool urgent = false) {
    submit(
        type, std::move(payload),
        [this, type, done = std::move(done)](FrameResult r) {
          if (!r) return done(std::unexpected(r.error()));
          if (auto rejected = rejection(*r, proto::to_string(type))) {
            return done(std::unexpected(*rejected));
          }
          auto ack = decoded(proto::decode_ack(r->payload), proto::to_string(type));
          if (!ack) return done(std::unexpected(ack.error()));
          done({});
        },
        urgent);
  }

  void handshake(Completion<proto::HelloReply> done) {
    handshake_in(proto::kProtocolVersion, std::move(done));
  }

  // Hello in `version` (frame header and payload alike, PROTOCOL.md 17). A rig that answers
  // VersionMismatch with an older version this host also speaks is asked again in that one.
  void handshake_in(std::uint8_t version, Completion<proto::HelloReply> done) {
    session_version = version;
    proto::Hello hello;
    hello.host_protocol_version = version;
    hello.watchdog_timeout_ms =
        static_cast<std::uint16_t>(std::clamp<long long>(options.watchdog.count(), 0, 0xFFFF));
    submit(
        MsgType::Hello, proto::encode(hello),
        [this, version, done = std::move(done)](FrameResult r) mutable {
          if (!r) return done(std::unexpected(r.error()));
          if (auto rejected = rejection(*r, "Hello")) {
            if (rejected->result == proto::Result::VersionMismatch && r->payload.size() >= 2) {
              const std::uint8_t theirs = r->payload[1];
              if (theirs < version && proto::speaks_version(theirs)) {
                log->info("rig on {} speaks protocol version {}: asking again in it", port, theirs);
                return handshake_in(theirs, std::move(done));
              }
              rejected->message += " (the rig speaks protocol version " + std::to_string(theirs) +
                                   ", this host " + std::to_string(proto::kOldestProtocolVersion) +
                                   ".." + std::to_string(proto::kProtocolVersion) + ")";
            }
            return done(std::unexpected(*rejected));
          }
          auto reply = decoded(proto::decode_hello_reply(r->payload), "Hello");
          if (!reply) return done(std::unexpected(reply.error()));
          if (reply->protocol_version != version) {
            return done(std::unexpected(make_error(
                RigError::Kind::Protocol, "rig on " + port + " answered a version-" +
                                              std::to_string(version) + " Hello in version " +
                                              std::to_string(reply->protocol_version))));
          }
          log->info("connected to rig {} on {}: firmware '{}', protocol {}, watchdog {} ms",
                    reply->rig_serial, port, reply->firmware_version, reply->protocol_version,
                    reply->watchdog_timeout_ms);
          start_heartbeat(milliseconds(reply->watchdog_timeout_ms));
          done(std::move(*reply));
        });
  }

  void status(Completion<proto::StatusReply> done) {
    submit(MsgType::Status, proto::encode(proto::StatusRequest{}),
           [this, done = std::move(done)](FrameResult r) {
             if (!r) return done(std::unexpected(r.error()));
             if (auto rejected = rejection(*r, "Status")) {
               return done(std::unexpected(*rejected));
             }
             done(decoded(proto::decode_status_reply(r->payload), "Status"));
           });
  }

  // ---- heartbeat -------------------------------------------------------------------------

  // Every watchdog/4, so that one or two lost heartbeats never trip the rig's watchdog.
  // Acks are only counted: a missing one shows up as a stalled link elsewhere.
  void start_heartbeat(milliseconds watchdog) {
    heartbeat_period = watchdog / 4;
    heartbeat_timer.cancel();
    if (heartbeat_period.count() <= 0) return;
    schedule_heartbeat();
  }

  void schedule_heartbeat() {
    heartbeat_timer.expires_after(heartbeat_period);
    heartbeat_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || lost || closing) return;
      // One heartbeat at a time; it is a request like any other (one outstanding), tried
      // once: the next one is due soon anyway.
      if (!heartbeat_in_flight) {
        heartbeat_in_flight = true;
        bump(&ClientCounters::heartbeats_sent);
        submit(
            MsgType::Heartbeat, proto::encode(proto::Heartbeat{}),
            [this](FrameResult r) {
              heartbeat_in_flight = false;
              if (r) return bump(&ClientCounters::heartbeats_acked);
              if (r.error().kind == RigError::Kind::Timeout) log->warn("{}", r.error().message);
            },
            false, 1);
      }
      schedule_heartbeat();
    });
  }

  // ---- long operations -------------------------------------------------------------------

  // The operation is registered before its request leaves, so stream frames and even the
  // OperationDone are accepted if the Ack itself is lost and only arrives on a retry.
  void start_operation(MsgType type, proto::Bytes payload, std::unique_ptr<Operation> op) {
    const char* name = proto::to_string(type);
    if (operation) {
      auto error = make_error(RigError::Kind::Rejected,
                              std::string(name) + " on " + port + " refused by the host: " +
                                  proto::to_string(operation->type) + " is still running");
      error.result = proto::Result::Busy;
      return asio::post(context,
                        [done = std::move(op->done), error] { done(std::unexpected(error)); });
    }
    operation = std::move(op);
    operation->request = submit(type, std::move(payload), [this, type](FrameResult r) {
      on_operation_ack(type, std::move(r));
    });
    if (!operation->request) {  // the link is already gone; submit posted the failure
      operation.reset();
      return;
    }
    operation->deadline.expires_after(options.operation_timeout);
    operation->deadline.async_wait([this, request = operation->request](const auto& ec) {
      if (ec || !operation || operation->request != request) return;
      const char* name = proto::to_string(operation->type);
      log->error("{} on {} did not finish within {} ms: sending Abort", name, port,
                 options.operation_timeout.count());
      send_abort();
      finish_operation(std::unexpected(make_error(
          RigError::Kind::Timeout, std::string(name) + " on " + port + " did not finish within " +
                                       std::to_string(options.operation_timeout.count()) +
                                       " ms (Abort sent)")));
    });
  }

  // The reply to the request that starts an operation: Ok means started (OperationDone
  // follows); a timeout, a lost link or a non-Ok result end the operation here.
  void on_operation_ack(MsgType type, FrameResult r) {
    if (!operation || operation->type != type) return;  // already finished (done, fault, ...)
    if (!r) return finish_operation(std::unexpected(r.error()));
    if (auto rejected = rejection(*r, proto::to_string(type))) {
      return finish_operation(std::unexpected(*rejected));
    }
    watch_for_stall();
  }

  // A started Roll or Scan streams frames steadily (the rig sends at least one every
  // 500 ms); none for stall_timeout means the rig or the link is stuck (PROTOCOL.md 10).
  // A Home streams nothing: for it the same timer asks Status instead (poll_home_status).
  void watch_for_stall() {
    if (options.stall_timeout.count() <= 0) return;
    operation->last_activity = std::chrono::steady_clock::now();
    arm_stall_timer(operation->last_activity + stall_limit());
  }

  // A scanner may pause between rows longer than a roll between batches: the spec's
  // recommended limits are 5 s for Roll and 15 s for Scan.
  milliseconds stall_limit() const {
    return operation->type == MsgType::Scan ? 3 * options.stall_timeout : options.stall_timeout;
  }

  // Re-armed only when it fires, not per frame: the frames just move last_activity.
  void arm_stall_timer(std::chrono::steady_clock::time_point when) {
    operation->stall_timer.expires_at(when);
    operation->stall_timer.async_wait([this, request = operation->request](const auto& ec) {
      if (ec || !operation || operation->request != request) return;
      const auto quiet_until = operation->last_activity + stall_limit();
      if (std::chrono::steady_clock::now() < quiet_until) return arm_stall_timer(quiet_until);
      if (operation->type == MsgType::Home) return poll_home_status();
      const char* name = proto::to_string(operation->type);
      log->error("{} on {} stalled: no stream frame for {} ms: sending Abort", name, port,
                 stall_limit().count());
      send_abort();
      finish_operation(std::unexpected(make_error(
          RigError::Kind::Timeout, std::string(name) + " on " + port + " stalled: no data for " +
                                       std::to_string(stall_limit().count()) +
                                       " ms (Abort sent)")));
    });
  }

  // Home's OperationDone is the only sign it ended; lost on the line, it would leave the host
  // waiting for the whole operation timeout. Status says whether the rig still homes: if it
  // no longer does and is homed without a fault, the Home completed; otherwise it failed.
  void poll_home_status() {
    submit(MsgType::Status, proto::encode(proto::StatusRequest{}),
           [this, request = operation->request](FrameResult r) {
             if (!operation || operation->request != request) return;
             std::optional<proto::StatusReply> status;
             if (r && !rejection(*r, "Status")) {
               if (auto decoded = proto::decode_status_reply(r->payload)) status = *decoded;
             }
             if (!status || status->state == proto::RigState::Homing) {
               operation->last_activity = std::chrono::steady_clock::now();  // ask again later
               return arm_stall_timer(operation->last_activity + stall_limit());
             }
             if (status->homed == 1 && status->fault == proto::FaultCode::None) {
               log->warn("Home on {} finished but its OperationDone was lost: Status says homed",
                         port);
               StreamOutcome outcome = operation->outcome;
               outcome.done.result = proto::Result::Ok;
               outcome.done.operation = MsgType::Home;
               outcome.done.request_seq = *operation->request->seq;
               return finish_operation(std::move(outcome));
             }
             auto error = make_error(
                 status->fault == proto::FaultCode::None ? RigError::Kind::Protocol
                                                         : RigError::Kind::Fault,
                 "Home on " + port + " ended without its OperationDone: the rig reports state " +
                     proto::to_string(status->state) + ", homed " + std::to_string(status->homed) +
                     ", fault " + proto::to_string(status->fault));
             error.fault = status->fault;
             finish_operation(std::unexpected(error));
           });
  }

  void finish_operation(RigResult<StreamOutcome> result) {
    auto op = std::move(operation);
    op->deadline.cancel();
    op->stall_timer.cancel();
    // The Ack may still be outstanding (OperationDone overtook it): stop retrying it.
    withdraw(op->request);
    op->done(std::move(result));
  }

  // Stops motion on the host's own initiative (timeout, corrupt stream). Ahead of any
  // queued request; its Ack is only logged.
  void send_abort() {
    submit(
        MsgType::Abort, proto::encode(proto::Abort{}),
        [this](FrameResult r) {
          if (!r) log->error("Abort on {} failed: {}", port, r.error().message);
        },
        true);
  }

  // Counts the frames a counter skipped and tells whether this frame should be delivered.
  bool accept_counter(std::uint32_t counter, const char* stream) {
    const std::uint32_t expected = operation->counter.expected_next();
    if (operation->counter.accept(counter) == proto::StreamCounter::Verdict::Duplicate) {
      log->warn("{} counter {} from {} went backwards (expected {}): dropped as a duplicate",
                stream, counter, port, expected);
      return false;
    }
    if (counter > expected) {
      log->warn("{} lost {} frame(s) from {} (counter {} after {})", stream, counter - expected,
                port, counter, expected);
    }
    operation->last_activity = std::chrono::steady_clock::now();
    ++operation->outcome.frames_received;
    return true;
  }

  void on_sample_batch(const proto::Frame& frame) {
    if (!operation || operation->type != MsgType::Roll) {
      bump(&ClientCounters::stray_stream_frames);
      return;
    }
    auto batch = proto::decode_sample_batch(frame.payload);
    if (!batch) return stream_malformed("SampleBatch", batch.error());
    if (!accept_counter(batch->batch_counter, "SampleBatch")) return;
    operation->outcome.items_received += static_cast<std::uint32_t>(batch->samples.size());
    if (operation->on_batch) operation->on_batch(*batch);
  }

  void on_scan_rows(const proto::Frame& frame) {
    if (!operation || operation->type != MsgType::Scan) {
      bump(&ClientCounters::stray_stream_frames);
      return;
    }
    const char* name = proto::to_string(frame.type);
    auto rows = frame.type == MsgType::ScanRowsDelta ? proto::decode_scan_rows_delta(frame.payload)
                                                     : proto::decode_scan_rows(frame.payload);
    if (!rows) return stream_malformed(name, rows.error());
    if (!accept_counter(rows->chunk_counter, name)) return;
    operation->outcome.items_received += static_cast<std::uint32_t>(rows->height_nm.size());
    if (operation->on_rows) operation->on_rows(*rows);
  }

  // A frame that passed its CRC but does not decode is a firmware bug, not line noise:
  // the data of this operation cannot be trusted, so stop it.
  void stream_malformed(const char* stream, const proto::DecodeError& error) {
    const char* name = proto::to_string(operation->type);
    send_abort();
    finish_operation(std::unexpected(make_error(
        RigError::Kind::Protocol, std::string("malformed ") + stream + " during " + name +
                                      " from " + port + ": " + error.what + " (Abort sent)")));
  }

  void on_operation_done(const proto::Frame& frame) {
    auto done = proto::decode_operation_done(frame.payload);
    if (!done) {
      if (operation) stream_malformed("OperationDone", done.error());
      return;
    }
    if (!operation || operation->request->seq != done->request_seq) {
      log->debug("OperationDone for seq {} from {} matches no running operation", done->request_seq,
                 port);
      return;
    }
    const char* name = proto::to_string(operation->type);
    if (done->result != proto::Result::Ok) {
      auto error =
          make_error(RigError::Kind::Rejected, std::string(name) + " on " + port + " ended with " +
                                                   proto::to_string(done->result));
      error.result = done->result;
      return finish_operation(std::unexpected(error));
    }
    if (done->operation != operation->type) {
      return finish_operation(std::unexpected(
          make_error(RigError::Kind::Protocol, std::string("OperationDone from ") + port +
                                                   " reports " + proto::to_string(done->operation) +
                                                   " for the " + name + " request")));
    }
    StreamOutcome outcome = operation->outcome;
    outcome.frames_lost = operation->counter.lost(done->frames_sent);
    outcome.done = std::move(*done);
    if (outcome.frames_lost > 0) {
      log->warn("{} on {}: {} of {} stream frames lost", name, port, outcome.frames_lost,
                outcome.done.frames_sent);
    }
    finish_operation(std::move(outcome));
  }

  void on_fault(const proto::Frame& frame) {
    auto fault = proto::decode_fault(frame.payload);
    if (!fault) {
      log->error("malformed Fault event from {}: {}", port, fault.error().what);
      if (operation) stream_malformed("Fault", fault.error());
      return;
    }
    // A rig announces its boot with a Reboot fault while idle; Home clears it. That is
    // routine, not an error worth alarming an operator about.
    const bool routine_boot = fault->fault == proto::FaultCode::Reboot && !operation;
    log->log(routine_boot ? spdlog::level::info : spdlog::level::err,
             "rig on {} latched fault {} (was {}, x {} um, force {} mN)", port,
             proto::to_string(fault->fault), proto::to_string(fault->state_before), fault->x_um,
             fault->force_mN);
    if (!operation) return;
    auto error = make_error(RigError::Kind::Fault, std::string(proto::to_string(operation->type)) +
                                                       " on " + port + " ended by rig fault " +
                                                       proto::to_string(fault->fault) + " at x " +
                                                       std::to_string(fault->x_um) + " um, force " +
                                                       std::to_string(fault->force_mN) + " mN");
    error.fault = fault->fault;
    finish_operation(std::unexpected(error));
  }

  // ---- helpers for other threads ---------------------------------------------------------

  void bump(std::uint64_t ClientCounters::*field) {
    std::lock_guard lock(stats_mutex);
    ++(client_stats.*field);
  }

  void run_on_io(std::function<void()> work_item) { asio::post(context, std::move(work_item)); }

  // Runs `start(completion)` on the io thread and waits for the completion.
  template <typename T>
  RigResult<T> wait(const std::function<void(Completion<T>)>& start) {
    if (std::this_thread::get_id() == io_thread_id) {
      throw std::logic_error(
          "a blocking RigClient method was called from a RigClient callback (it would "
          "deadlock); use the async_ methods there");
    }
    auto promise = std::make_shared<std::promise<RigResult<T>>>();
    auto future = promise->get_future();
    run_on_io([start, promise] {
      start([promise](RigResult<T> result) { promise->set_value(std::move(result)); });
    });
    return future.get();
  }
};

// ---- RigClient ---------------------------------------------------------------------------

RigClient::RigClient(std::unique_ptr<transport::Transport> link, RigOptions options)
    : impl_(std::make_unique<Impl>(std::move(link), options)) {
  impl_->start();
}

RigClient::~RigClient() {
  impl_->shutdown();
}

void RigClient::set_wire_tap(WireTap tap) {
  std::promise<void> set;
  impl_->run_on_io([this, &set, &tap] {
    impl_->tap = std::move(tap);
    set.set_value();
  });
  set.get_future().wait();
}

void RigClient::async_handshake(Completion<proto::HelloReply> done) {
  impl_->run_on_io([this, done = std::move(done)]() mutable { impl_->handshake(std::move(done)); });
}

void RigClient::async_status(Completion<proto::StatusReply> done) {
  impl_->run_on_io([this, done = std::move(done)]() mutable { impl_->status(std::move(done)); });
}

void RigClient::async_tare(Completion<void> done) {
  impl_->run_on_io([this, done = std::move(done)]() mutable {
    impl_->ack_request(MsgType::Tare, proto::encode(proto::Tare{}), std::move(done));
  });
}

void RigClient::async_select_lane(std::uint8_t lane, Completion<void> done) {
  impl_->run_on_io([this, lane, done = std::move(done)]() mutable {
    impl_->ack_request(MsgType::SelectLane, proto::encode(proto::SelectLane{lane}),
                       std::move(done));
  });
}

void RigClient::async_abort(Completion<void> done) {
  impl_->run_on_io([this, done = std::move(done)]() mutable {
    // Ahead of anything queued: stopping motion must not wait its turn.
    impl_->ack_request(MsgType::Abort, proto::encode(proto::Abort{}), std::move(done), true);
  });
}

void RigClient::async_home(Completion<void> done) {
  impl_->run_on_io([this, done = std::move(done)]() mutable {
    auto op = std::make_unique<Impl::Operation>(
        MsgType::Home, impl_->context, [done = std::move(done)](RigResult<StreamOutcome> r) {
          if (!r) return done(std::unexpected(r.error()));
          done({});
        });
    impl_->start_operation(MsgType::Home, proto::encode(proto::Home{}), std::move(op));
  });
}

void RigClient::async_roll(const proto::Roll& request,
                           std::function<void(const proto::SampleBatch&)> on_batch,
                           Completion<StreamOutcome> done) {
  impl_->run_on_io(
      [this, request, on_batch = std::move(on_batch), done = std::move(done)]() mutable {
        auto op = std::make_unique<Impl::Operation>(MsgType::Roll, impl_->context, std::move(done));
        op->on_batch = std::move(on_batch);
        impl_->start_operation(MsgType::Roll, proto::encode(request), std::move(op));
      });
}

void RigClient::async_scan(const proto::Scan& request,
                           std::function<void(const proto::ScanRows&)> on_rows,
                           Completion<StreamOutcome> done) {
  impl_->run_on_io([this, request, on_rows = std::move(on_rows), done = std::move(done)]() mutable {
    auto op = std::make_unique<Impl::Operation>(MsgType::Scan, impl_->context, std::move(done));
    op->on_rows = std::move(on_rows);
    // A version-1 session has no row_encoding: the rig sends ScanRows (4 bytes a pixel).
    proto::Scan in_session = request;
    if (impl_->session_version < 2) in_session.row_encoding = proto::RowEncoding::Int32;
    impl_->start_operation(MsgType::Scan, proto::encode(in_session, impl_->session_version),
                           std::move(op));
  });
}

RigResult<proto::HelloReply> RigClient::handshake() {
  return impl_->wait<proto::HelloReply>([this](auto done) { impl_->handshake(std::move(done)); });
}

RigResult<proto::StatusReply> RigClient::status() {
  return impl_->wait<proto::StatusReply>([this](auto done) { impl_->status(std::move(done)); });
}

RigResult<void> RigClient::home() {
  return impl_->wait<void>([this](auto done) { async_home(std::move(done)); });
}

RigResult<void> RigClient::tare() {
  return impl_->wait<void>([this](auto done) { async_tare(std::move(done)); });
}

RigResult<void> RigClient::select_lane(std::uint8_t lane) {
  return impl_->wait<void>([this, lane](auto done) { async_select_lane(lane, std::move(done)); });
}

RigResult<StreamOutcome> RigClient::roll(const proto::Roll& request,
                                         std::function<void(const proto::SampleBatch&)> on_batch) {
  return impl_->wait<StreamOutcome>(
      [this, &request, &on_batch](auto done) { async_roll(request, on_batch, std::move(done)); });
}

RigResult<StreamOutcome> RigClient::scan(const proto::Scan& request,
                                         std::function<void(const proto::ScanRows&)> on_rows) {
  return impl_->wait<StreamOutcome>(
      [this, &request, &on_rows](auto done) { async_scan(request, on_rows, std::move(done)); });
}

RigResult<void> RigClient::abort() {
  return impl_->wait<void>([this](auto done) { async_abort(std::move(done)); });
}

bool RigClient::disconnected() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->lost_snapshot;
}

proto::LinkCounters RigClient::link_counters() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->link_stats;
}

ClientCounters RigClient::client_counters() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->client_stats;
}

std::string RigClient::describe() const {
  return impl_->port;
}

}  // namespace derma::rig
