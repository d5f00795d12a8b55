// RigOwner: `bench serve`'s hold on a device rig (a device path, a symlink to a pty, or
// usb:SERIAL) for the daemon's whole life. A keeper thread connects at start and again after
// the link is lost (exponential backoff, one log line per change of state, not per attempt),
// sends Abort after every (re)connect so a rig that was mid-motion when the link dropped
// stops and retracts Z, and polls Status while idle so a vanished port is noticed within a
// poll interval. A run borrows the connected client exclusively through a Lease (no polling
// meanwhile); a lease ending on a lost link makes the owner reconnect.
//
// Thread-safe: status() from any thread; acquire() and the Lease from one worker thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "bench/api/reconnect_backoff.hpp"
#include "drivers/protocol/messages.hpp"
#include "drivers/rig/rig_client.hpp"
#include "drivers/transport/rig_address.hpp"

namespace derma::api {

enum class RigLinkState { Disconnected, Connected, Busy };
const char* to_string(RigLinkState state);

// What /api/v1/rig, /healthz and /metrics show.
struct RigOwnerStatus {
  RigLinkState state = RigLinkState::Disconnected;
  std::optional<proto::HelloReply> identity;  // the last successful handshake
  std::string port;                           // the opened link, e.g. the pty behind a symlink
  std::string last_error;                     // the last link problem; kept after a reconnect
  std::uint64_t reconnects = 0;               // successful connects after the first one
};

struct RigOwnerOptions {
  ReconnectBackoff backoff;
  std::chrono::milliseconds poll_interval{2'000};  // Status while idle
  rig::RigOptions rig;
};

class RigOwner {
 public:
  // The exclusive use of the connected client for one run; gives it back when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    rig::RigClient& client() const { return *client_; }

   private:
    friend class RigOwner;
    Lease(RigOwner* owner, rig::RigClient* client) : owner_(owner), client_(client) {}
    RigOwner* owner_;
    rig::RigClient* client_;
  };

  // `address` must be a device address (not sim); it is opened by start().
  RigOwner(transport::RigAddress address, std::string address_text, RigOwnerOptions options = {});
  ~RigOwner();  // stop()
  RigOwner(const RigOwner&) = delete;
  RigOwner& operator=(const RigOwner&) = delete;

  void start();  // starts the keeper thread, which connects
  void stop();   // stops the keeper and closes the link; no lease may be out

  // Blocks until the rig is connected and idle, then lends it out; nullopt as soon as
  // `give_up()` is true (checked every 100 ms) or the owner stops.
  std::optional<Lease> acquire(const std::function<bool()>& give_up);

  RigOwnerStatus status() const;

 private:
  void keep();  // the keeper thread
  void connect_once(std::unique_lock<std::mutex>& lock);
  void poll_once(std::unique_lock<std::mutex>& lock);
  // The link is gone: close the client (outside the lock) and reconnect at once.
  void drop_client(std::unique_lock<std::mutex>& lock, const std::string& why);
  void release();

  const transport::RigAddress address_;
  const std::string address_text_;
  const RigOwnerOptions options_;
  std::thread keeper_;

  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  std::unique_ptr<rig::RigClient> client_;
  std::optional<proto::HelloReply> identity_;
  std::string port_;
  std::string last_error_;
  std::uint64_t connects_ = 0;
  int failed_attempts_ = 0;  // since the last success
  bool leased_ = false;
  bool polling_ = false;        // the keeper talks to the client outside the lock
  bool reconnect_now_ = false;  // a run handed back a dead link
  bool stopping_ = false;
};

}  // namespace derma::api
