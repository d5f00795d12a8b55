// RigClient: the host's typed view of a rig. Commands with timeouts and safe retries,
// sample and scan streams delivered to the caller, and the heartbeat that keeps the rig's
// watchdog fed. It knows the wire protocol and a Transport, nothing of suites or analysis.
//
// Threading: the client runs its own Asio io_context on one internal thread. The blocking
// methods below post work to it and wait; stream callbacks run on that internal thread
// (keep them short: copy the data and return).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>

#include "drivers/protocol/frame.hpp"
#include "drivers/protocol/messages.hpp"

namespace derma::transport {
class Transport;
}

namespace derma::rig {

struct RigError {
  enum class Kind {
    Timeout,       // no reply after every retry
    Disconnected,  // the port went away (EOF / EIO)
    Rejected,      // the rig answered with a non-Ok Result
    Fault,         // a fault latched during the operation
    Protocol,      // malformed reply, version mismatch, stream gap that cannot be tolerated
  };
  Kind kind = Kind::Protocol;
  std::string message;                              // says what, and where (command, port)
  proto::Result result = proto::Result::Ok;         // for Rejected
  proto::FaultCode fault = proto::FaultCode::None;  // for Fault
};
const char* to_string(RigError::Kind);

template <typename T>
using RigResult = std::expected<T, RigError>;

struct RigOptions {
  std::chrono::milliseconds reply_timeout{500};  // per attempt
  int attempts = 4;                              // first try + retries, same sequence number
  std::chrono::milliseconds watchdog{1000};      // negotiated in Hello; 0 disables
  std::chrono::milliseconds operation_timeout{120'000};  // long operations end to end
  // A started Roll with no stream frame for this long is stalled: Abort, then Timeout.
  // Scans get three times as long. The rig streams at least every 500 ms; 0 disables.
  std::chrono::milliseconds stall_timeout{5'000};
};

// What a long streaming operation delivered.
struct StreamOutcome {
  std::uint32_t frames_received = 0;
  std::uint32_t frames_lost = 0;     // counter gaps and lost tail frames (done.frames_sent)
  std::uint32_t items_received = 0;  // samples or pixels
  proto::OperationDone done;         // the rig's own account (rows, cols, layers, ...)
};

// Client-side counters, beside the decoder's LinkCounters.
struct ClientCounters {
  std::uint64_t requests = 0;  // new requests sent (each with a fresh seq)
  std::uint64_t retries = 0;   // re-sends of a request with the same seq
  std::uint64_t timeouts = 0;  // requests that got no reply after every attempt
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t heartbeats_acked = 0;
  std::uint64_t unmatched_replies = 0;    // late replies to a request already answered or given up
  std::uint64_t stray_stream_frames = 0;  // stream frames with no operation of their kind running
};

enum class Direction { HostToRig, RigToHost };
// Sees every byte on the link, as read or written, for the capture file.
using WireTap = std::function<void(Direction, proto::ByteView bytes)>;

class RigClient {
 public:
  // Takes ownership of an opened transport; starts the internal io thread.
  RigClient(std::unique_ptr<transport::Transport> link, RigOptions options);
  ~RigClient();  // sends Abort if an operation is running, then closes
  RigClient(const RigClient&) = delete;
  RigClient& operator=(const RigClient&) = delete;

  // Call before handshake() to see every byte. May be called again at any time, from any
  // thread but the client's own, to swap or clear ({}) the tap: the swap happens on the io
  // thread between two reads/writes, and once it returns the old tap is never called again.
  void set_wire_tap(WireTap tap);

  RigResult<proto::HelloReply> handshake();
  RigResult<proto::StatusReply> status();
  RigResult<void> home();  // waits for OperationDone
  RigResult<void> tare();
  RigResult<void> select_lane(std::uint8_t lane);
  // Blocks until the roll's OperationDone; every SampleBatch goes to on_batch in order.
  RigResult<StreamOutcome> roll(const proto::Roll& request,
                                std::function<void(const proto::SampleBatch&)> on_batch);
  RigResult<StreamOutcome> scan(const proto::Scan& request,
                                std::function<void(const proto::ScanRows&)> on_rows);
  RigResult<void> abort();  // stop motion, retract Z; safe to call at any time

  // Asynchronous counterparts: they return at once; `done` runs exactly once, on the
  // internal thread (so it must not call the blocking methods above). The blocking methods
  // are these plus a wait. Stream callbacks run on the internal thread as well.
  template <typename T>
  using Completion = std::function<void(RigResult<T>)>;
  void async_handshake(Completion<proto::HelloReply> done);
  void async_status(Completion<proto::StatusReply> done);
  void async_home(Completion<void> done);
  void async_tare(Completion<void> done);
  void async_select_lane(std::uint8_t lane, Completion<void> done);
  void async_roll(const proto::Roll& request,
                  std::function<void(const proto::SampleBatch&)> on_batch,
                  Completion<StreamOutcome> done);
  void async_scan(const proto::Scan& request, std::function<void(const proto::ScanRows&)> on_rows,
                  Completion<StreamOutcome> done);
  void async_abort(Completion<void> done);

  // True once the link is lost; every later call fails with Kind::Disconnected.
  bool disconnected() const;

  proto::LinkCounters link_counters() const;
  ClientCounters client_counters() const;
  std::string describe() const;  // e.g. "/dev/ttyACM0" or the pty path

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace derma::rig
