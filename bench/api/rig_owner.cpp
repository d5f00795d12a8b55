#include "bench/api/rig_owner.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace derma::api {

using Clock = std::chrono::steady_clock;

const char* to_string(RigLinkState state) {
  switch (state) {
    case RigLinkState::Disconnected:
      return "disconnected";
    case RigLinkState::Connected:
      return "connected";
    case RigLinkState::Busy:
      return "busy";
  }
  return "disconnected";
}

RigOwner::Lease::Lease(Lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), client_(other.client_) {}

RigOwner::Lease::~Lease() {
  if (owner_) owner_->release();
}

RigOwner::RigOwner(transport::RigAddress address, std::string address_text, RigOwnerOptions options)
    : address_(std::move(address)),
      address_text_(std::move(address_text)),
      options_(std::move(options)) {}

RigOwner::~RigOwner() {
  stop();
}

void RigOwner::start() {
  keeper_ = std::thread([this] { keep(); });
}

void RigOwner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (keeper_.joinable()) keeper_.join();
  std::unique_ptr<rig::RigClient> closing;
  {
    std::lock_guard lock(mutex_);
    closing = std::move(client_);
  }
  closing.reset();  // outside the lock: closing waits for the link to drain
}

RigOwnerStatus RigOwner::status() const {
  std::lock_guard lock(mutex_);
  RigOwnerStatus status;
  if (leased_)
    status.state = RigLinkState::Busy;
  else if (client_ && !client_->disconnected())
    status.state = RigLinkState::Connected;
  status.identity = identity_;
  status.port = port_;
  status.last_error = last_error_;
  // Lost a moment ago: the keeper notices at its next poll; say so already.
  if (!leased_ && client_ && client_->disconnected())
    status.last_error = "the link to " + address_text_ + " was lost; reconnecting";
  status.reconnects = connects_ > 0 ? connects_ - 1 : 0;
  return status;
}

std::optional<RigOwner::Lease> RigOwner::acquire(const std::function<bool()>& give_up) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (stopping_ || (give_up && give_up())) return std::nullopt;
    if (client_ && !leased_ && !polling_ && !client_->disconnected()) {
      leased_ = true;
      return Lease(this, client_.get());
    }
    // give_up() has no way to wake us, so look again every 100 ms.
    wake_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void RigOwner::release() {
  std::unique_lock lock(mutex_);
  leased_ = false;
  // A run that lost the link (the rig was unplugged mid-way) hands back a dead client: the
  // keeper reconnects at once, and its Abort stops whatever motion survived.
  if (client_ && client_->disconnected()) {
    drop_client(lock, "the link to " + address_text_ + " was lost during a run");
    reconnect_now_ = true;
  }
  lock.unlock();
  wake_.notify_all();
}

void RigOwner::keep() {
  std::unique_lock lock(mutex_);
  auto next_action = Clock::now();
  while (true) {
    wake_.wait_until(lock, next_action, [&] { return stopping_ || reconnect_now_; });
    if (stopping_) return;
    reconnect_now_ = false;
    if (leased_) {  // a run has the link; it says how it went when it gives it back
      wake_.wait(lock, [&] { return stopping_ || !leased_; });
      next_action = Clock::now() + options_.poll_interval;
      continue;
    }
    if (!client_)
      connect_once(lock);
    else
      poll_once(lock);
    next_action = Clock::now() + (client_ ? options_.poll_interval
                                          : options_.backoff.delay_after(failed_attempts_));
  }
}

void RigOwner::connect_once(std::unique_lock<std::mutex>& lock) {
  polling_ = true;
  lock.unlock();
  std::string error;
  std::unique_ptr<rig::RigClient> client;
  proto::HelloReply hello;
  auto link = transport::open_transport(address_);
  if (!link) {
    error = "cannot open rig " + address_text_ + ": " + link.error().message;
  } else {
    client = std::make_unique<rig::RigClient>(std::move(*link), options_.rig);
    // Abort first: a rig left mid-motion by a lost link stops and retracts Z before anything
    // else happens (Abort works before Hello, PROTOCOL.md section 13).
    if (auto stopped = client->abort(); !stopped) {
      error = "Abort after connecting to " + address_text_ + ": " + stopped.error().message;
    } else if (auto reply = client->handshake(); !reply) {
      error = "handshake with " + address_text_ + ": " + reply.error().message;
    } else {
      hello = *reply;
    }
  }
  const std::string port = client ? client->describe() : "";
  if (!error.empty()) client.reset();  // outside the lock
  lock.lock();
  polling_ = false;

  if (!error.empty()) {
    ++failed_attempts_;
    last_error_ = error;
    // One line per change of state: a rig that never came up is reported once, a lost one
    // was reported when it went; the attempts in between only at debug level.
    if (failed_attempts_ == 1 && connects_ == 0)
      spdlog::warn("bench serve: {}; retrying with backoff (up to every {} s)", error,
                   options_.backoff.max_delay.count() / 1000.0);
    else
      spdlog::debug("bench serve: attempt {}: {}", failed_attempts_, error);
    return;
  }
  client_ = std::move(client);
  identity_ = hello;
  port_ = port;
  failed_attempts_ = 0;
  ++connects_;
  // A reconnect ends an incident the log reported as a warning, so it is a warning too.
  spdlog::log(connects_ == 1 ? spdlog::level::info : spdlog::level::warn,
              "bench serve: rig {} ({}) {} on {}, calibration due {}", hello.rig_serial,
              hello.firmware_version, connects_ == 1 ? "connected" : "reconnected", port,
              hello.calibration_due);
  wake_.notify_all();
}

void RigOwner::poll_once(std::unique_lock<std::mutex>& lock) {
  rig::RigClient* client = client_.get();
  polling_ = true;
  lock.unlock();
  const auto status = client->status();
  lock.lock();
  polling_ = false;
  wake_.notify_all();
  if (!status && (status.error().kind == rig::RigError::Kind::Disconnected ||
                  status.error().kind == rig::RigError::Kind::Timeout))
    drop_client(lock, status.error().message);
  else if (client->disconnected())
    drop_client(lock, "the link to " + address_text_ + " was lost");
}

void RigOwner::drop_client(std::unique_lock<std::mutex>& lock, const std::string& why) {
  std::unique_ptr<rig::RigClient> dead = std::move(client_);
  last_error_ = why;
  failed_attempts_ = 0;  // the first reconnect is tried at once
  spdlog::warn("bench serve: rig {} lost: {}; reconnecting with backoff", address_text_, why);
  lock.unlock();
  dead.reset();  // outside the lock: closing waits for the link to drain
  lock.lock();
}

}  // namespace derma::api
