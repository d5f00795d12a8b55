// A scripted stand-in for a rig: a thread on the rig side of a real pty that decodes the
// host's frames with derma_protocol, records them, and answers as its handler says.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "../transport/pty_pair.hpp"
#include "drivers/protocol/frame.hpp"
#include "drivers/protocol/messages.hpp"

namespace derma::testing {

class ScriptedRig {
 public:
  // Called on the rig thread for every frame the host sends.
  using Handler = std::function<void(const proto::Frame&, ScriptedRig&)>;

  explicit ScriptedRig(Handler handler) : handler_(std::move(handler)) {
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedRig() {
    stop_ = true;
    thread_.join();
  }

  const std::string& path() const { return pty_.path(); }

  // Sends one frame to the host. Call from the handler (the rig thread) only.
  template <typename Message>
  void send(proto::MsgType type, std::uint16_t seq, const Message& message) {
    send_payload(type, seq, proto::encode(message));
  }
  void send_payload(proto::MsgType type, std::uint16_t seq, const proto::Bytes& payload) {
    pty_.write_all(proto::encode_frame({frame_version, type, seq, payload}));
  }
  // Protocol version of the frames it sends (set before the host connects).
  std::uint8_t frame_version = proto::kProtocolVersion;
  void reply(const proto::Frame& request, const proto::Ack& ack) {
    send(proto::reply_type(request.type), request.seq, ack);
  }
  template <typename Message>
  void reply(const proto::Frame& request, const Message& message) {
    send(proto::reply_type(request.type), request.seq, message);
  }
  // Closes the rig side of the pty, as an unplugged cable would. Call from the handler.
  void hang_up() {
    pty_.close_peer();
    hung_up_ = true;
  }

  std::vector<proto::Frame> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::vector<proto::Frame> received(proto::MsgType type) const {
    std::vector<proto::Frame> matching;
    for (auto& frame : received()) {
      if (frame.type == type) matching.push_back(frame);
    }
    return matching;
  }
  // Waits (bounded, for robustness only) until `count` frames of `type` have arrived.
  bool wait_for(proto::MsgType type, std::size_t count,
                std::chrono::milliseconds bound = std::chrono::seconds(5)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] {
      std::size_t n = 0;
      for (auto& frame : received_) n += frame.type == type;
      return n >= count;
    });
  }

 private:
  void run() {
    while (!stop_ && !hung_up_) {
      const auto bytes = pty_.read_some(std::chrono::milliseconds(10));
      decoder_.feed(bytes);
      while (auto frame = decoder_.next()) {
        {
          std::lock_guard lock(mutex_);
          received_.push_back(*frame);
        }
        changed_.notify_all();
        handler_(*frame, *this);
        if (hung_up_) return;
      }
    }
  }

  PtyPair pty_;
  Handler handler_;
  proto::FrameDecoder decoder_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<proto::Frame> received_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> hung_up_{false};
  std::thread thread_;
};

// The answers of a healthy idle rig; tests override what they need.
inline proto::HelloReply healthy_hello(std::uint16_t watchdog_ms) {
  proto::HelloReply hello;
  hello.firmware_version = "scripted 1.0";
  hello.rig_serial = "RIG-0007";
  hello.calibration_date = "2024-01-15";
  hello.calibration_due = "2025-01-15";
  hello.capabilities = proto::kCapTemperature;
  hello.max_force_mN = 50'000;
  hello.max_speed_um_per_s = 100'000;
  hello.travel_x_um = 300'000;
  hello.travel_z_um = 20'000;
  hello.max_sample_rate_hz = 10'000;
  hello.encoder_counts_per_rev = 4096;
  hello.lanes = 8;
  hello.lane_length_um = 120'000;
  hello.lane_width_um = 25'000;
  hello.min_scan_pitch_um = 5;
  hello.phantom_lot = "PF-2024-11";
  hello.phantom_layers = 8;
  hello.layer_thickness_um = 130;
  hello.watchdog_timeout_ms = watchdog_ms;
  return hello;
}

inline void answer_like_a_healthy_rig(const proto::Frame& frame, ScriptedRig& rig) {
  switch (frame.type) {
    case proto::MsgType::Hello: {
      const auto hello = proto::decode_hello(frame.payload);
      rig.reply(frame, healthy_hello(hello ? hello->watchdog_timeout_ms : 0));
      return;
    }
    case proto::MsgType::Status:
      rig.reply(frame, proto::StatusReply{});
      return;
    default:
      rig.reply(frame, proto::Ack{});
  }
}

}  // namespace derma::testing
