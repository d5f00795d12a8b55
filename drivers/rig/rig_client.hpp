// RigClient: the host's typed view of a rig. Commands with timeouts and safe retries,
// sample and scan streams delivered to the caller, and the heartbeat that keeps the rig's
// watchdog fed. It knows the wire protocol and a Transport, nothing of suites or analysis.
//
// Threading: the client runs its own Asio io_context on one internal thread. The blocking
// methods below post work to it and wait; stream callbacks run on that internal thread
// (keep them short: copy the data and return).
#pragma once

#include "drivers/protocol/frame.hpp"
#include "drivers/protocol/messages.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>

namespace derma::transport { class Transport; }

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
  std::string message;                          // says what, and where (command, port)
  proto::Result result = proto::Result::Ok;     // for Rejected
  proto::FaultCode fault = proto::FaultCode::None;  // for Fault
};
const char* to_string(RigError::Kind);

template <typename T>
using RigResult = std::expected<T, RigError>;

struct RigOptions {
  std::chrono::milliseconds reply_timeout{500};   // per attempt
  int attempts = 4;                               // first try + retries, same sequence number
  std::chrono::milliseconds watchdog{1000};       // negotiated in Hello; 0 disables
  std::chrono::milliseconds operation_timeout{120'000};  // long operations end to end
};

// What a long streaming operation delivered.
struct StreamOutcome {
  std::uint32_t frames_received = 0;
  std::uint32_t frames_lost = 0;      // counter gaps, plus frames_sent - received at the end
  std::uint32_t items_received = 0;   // samples or pixels
  proto::OperationDone done;          // the rig's own account (rows, cols, layers, ...)
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

  void set_wire_tap(WireTap tap);  // call before handshake()

  RigResult<proto::HelloReply> handshake();
  RigResult<proto::StatusReply> status();
  RigResult<void> home();          // waits for OperationDone
  RigResult<void> tare();
  RigResult<void> select_lane(std::uint8_t lane);
  // Blocks until the roll's OperationDone; every SampleBatch goes to on_batch in order.
  RigResult<StreamOutcome> roll(const proto::Roll& request,
                                std::function<void(const proto::SampleBatch&)> on_batch);
  RigResult<StreamOutcome> scan(const proto::Scan& request,
                                std::function<void(const proto::ScanRows&)> on_rows);
  RigResult<void> abort();         // stop motion, retract Z; safe to call at any time

  proto::LinkCounters link_counters() const;
  std::string describe() const;    // e.g. "/dev/ttyACM0" or the pty path

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace derma::rig
