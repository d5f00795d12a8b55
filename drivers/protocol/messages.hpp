// Typed messages of the rig wire protocol, versions 1 and 2.
// PROTOCOL.md beside this file is the normative spec; this header mirrors it field by field.
// Every integer on the wire is little-endian; every field name carries its unit.
// Strings on the wire are a u8 length followed by that many UTF-8 bytes (no terminator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <vector>

namespace derma::proto {

// The highest protocol version this code speaks, and the oldest. Version 2 adds the Scan
// request's row_encoding and the compact ScanRowsDelta stream (PROTOCOL.md section 17).
inline constexpr std::uint8_t kProtocolVersion = 2;
inline constexpr std::uint8_t kOldestProtocolVersion = 1;
constexpr bool speaks_version(std::uint8_t v) {
  return v >= kOldestProtocolVersion && v <= kProtocolVersion;
}

// Message types. Requests are 0x01..0x3F, the rig's reply to a request is (request | 0x80),
// rig-originated streams and events are 0x40..0x7F.
enum class MsgType : std::uint8_t {
  Hello = 0x01,       // handshake; negotiates the watchdog timeout
  Status = 0x02,      // poll state, position, force
  Home = 0x03,        // home X and Z (long: ack now, OperationDone later)
  Tare = 0x04,        // zero the load cell (Z must be lifted)
  SelectLane = 0x05,  // move the phantom tray to a fresh lane
  Roll = 0x06,        // roll the drum along the lane (long: ack, samples, OperationDone)
  Scan = 0x07,        // scan a rectangle of the lane (long: ack, rows, OperationDone)
  Abort = 0x08,       // stop any motion now, retract Z
  Heartbeat = 0x09,   // feeds the watchdog; no side effect

  SampleBatch = 0x40,    // stream: force/height/position/encoder samples during a roll
  ScanRows = 0x41,       // stream: height-map pixels during a scan
  OperationDone = 0x42,  // event: a long operation (home, roll, scan) finished
  Fault = 0x43,          // event: a fault latched (e-stop, overload, watchdog, ...)
  ScanRowsDelta = 0x44,  // stream (version 2): height-map pixels as varint differences
};

inline constexpr std::uint8_t kReplyBit = 0x80;
constexpr MsgType reply_type(MsgType request) {
  return static_cast<MsgType>(static_cast<std::uint8_t>(request) | kReplyBit);
}
constexpr bool is_request(MsgType t) {
  return static_cast<std::uint8_t>(t) >= 0x01 && static_cast<std::uint8_t>(t) <= 0x3F;
}
constexpr bool is_reply(MsgType t) {
  return (static_cast<std::uint8_t>(t) & kReplyBit) != 0;
}
constexpr bool is_stream_or_event(MsgType t) {
  return static_cast<std::uint8_t>(t) >= 0x40 && static_cast<std::uint8_t>(t) <= 0x7F;
}

// Result code: first byte of every reply and of OperationDone.
enum class Result : std::uint8_t {
  Ok = 0,
  BadRequest = 1,       // payload malformed or a field out of its documented range
  UnknownType = 2,      // message type not understood by this firmware
  Busy = 3,             // another long operation is running
  NotHomed = 4,         // motion requested before Home
  OutOfRange = 5,       // position/speed/force beyond the rig's limits (handshake)
  FaultActive = 6,      // a fault is latched; only Status, Hello, Abort and Heartbeat work
  Aborted = 7,          // operation stopped by Abort
  VersionMismatch = 8,  // Hello with an unsupported protocol version
  NotReady = 9,         // e.g. Tare while Z is loaded, Scan before any roll on the lane
};

enum class FaultCode : std::uint16_t {
  None = 0,
  EStop = 1,          // emergency-stop input asserted
  ForceOverload = 2,  // normal force above max_force_mN
  TravelLimit = 3,    // X or Z left its travel
  Watchdog = 4,       // host silent for longer than the negotiated watchdog timeout
  SensorFault = 5,    // a sensor saturated or stopped changing
  ScannerFault = 6,   // scanner failed or returned fewer rows than asked
  Reboot = 7,         // firmware restarted (reported once after boot)
};

enum class RigState : std::uint8_t {
  Idle = 0,
  Homing = 1,
  Rolling = 2,
  Scanning = 3,
  Faulted = 4,
};

// Capability bits in HelloReply::capabilities.
enum Capability : std::uint32_t {
  kCapLayeredPhantom = 1u << 0,  // a Scan's OperationDone reports punctures per phantom layer
  kCapTemperature = 1u << 1,     // samples carry phantom temperature
  kCapRealTime = 1u << 2,        // informative: the rig runs in real time (a simulator may not)
};

// ---- Requests (host -> rig) -------------------------------------------------------------

struct Hello {
  std::uint8_t host_protocol_version = kProtocolVersion;
  std::uint16_t watchdog_timeout_ms = 1000;  // 0 = watchdog off

  bool operator==(const Hello&) const = default;
};
struct StatusRequest {};
struct Home {};
struct Tare {};
struct SelectLane {
  std::uint8_t lane = 0;
  bool operator==(const SelectLane&) const = default;
};
struct Roll {
  std::uint32_t start_x_um = 0;         // X where the drum first touches the phantom
  std::uint32_t stroke_um = 0;          // travel of one pass
  std::uint32_t speed_um_per_s = 0;     // carriage speed in the steady part of a pass
  std::uint32_t load_mN = 0;            // normal-force set point
  std::uint8_t passes = 1;              // forward, back, forward, ... over the same track
  std::uint16_t sample_rate_hz = 1000;  // sampling rate of the SampleBatch stream

  bool operator==(const Roll&) const = default;
};
// How the rig streams a scan's pixels (Scan.row_encoding, protocol version 2).
enum class RowEncoding : std::uint8_t {
  Int32 = 0,  // ScanRows (0x41): 4 bytes per pixel
  Delta = 1,  // ScanRowsDelta (0x44): about 1 byte per pixel
};

struct Scan {
  std::uint32_t x0_um = 0;      // scan rectangle origin along the lane
  std::uint32_t y0_um = 0;      // and across it (from the holder's reference shoulder)
  std::uint32_t length_um = 0;  // extent along X (rows)
  std::uint32_t width_um = 0;   // extent along Y (columns)
  std::uint16_t pitch_um = 10;  // pixel pitch, both axes
  // Version 2 only (a version-1 Scan has no such byte and always means Int32).
  RowEncoding row_encoding = RowEncoding::Int32;

  bool operator==(const Scan&) const = default;
};
struct Abort {};
struct Heartbeat {};

// ---- Replies (rig -> host), type = request | 0x80; payload starts with Result -----------

struct HelloReply {
  Result result = Result::Ok;
  std::uint8_t protocol_version = kProtocolVersion;
  std::string firmware_version;  // e.g. "rigsim 0.1.0"
  std::string rig_serial;
  std::uint32_t load_cell_factor_ppm = 1'000'000;  // calibration gain, 1e6 = 1.0
  std::string calibration_date;                    // ISO 8601 date, YYYY-MM-DD
  std::string calibration_due;                     // ISO 8601 date
  std::uint32_t capabilities = 0;                  // Capability bits
  std::uint32_t max_force_mN = 0;
  std::uint32_t max_speed_um_per_s = 0;
  std::uint32_t travel_x_um = 0;
  std::uint32_t travel_z_um = 0;
  std::uint16_t max_sample_rate_hz = 0;
  std::uint32_t encoder_counts_per_rev = 0;
  std::uint8_t lanes = 0;
  std::uint32_t lane_length_um = 0;
  std::uint32_t lane_width_um = 0;
  std::uint16_t min_scan_pitch_um = 0;
  std::string phantom_lot;
  std::uint8_t phantom_layers = 0;  // 0 = homogeneous phantom
  std::uint16_t layer_thickness_um = 0;
  std::uint16_t watchdog_timeout_ms = 0;  // the timeout actually in force

  bool operator==(const HelloReply&) const = default;
};

struct StatusReply {
  Result result = Result::Ok;
  RigState state = RigState::Idle;
  std::uint8_t homed = 0;
  std::uint8_t lane = 0;
  std::int32_t x_um = 0;
  std::int32_t z_um = 0;
  std::int32_t force_mN = 0;
  FaultCode fault = FaultCode::None;
  std::uint32_t uptime_ms = 0;

  bool operator==(const StatusReply&) const = default;
};

// Reply to Home, Tare, SelectLane, Roll, Scan, Abort, Heartbeat: only the result.
struct Ack {
  Result result = Result::Ok;
  bool operator==(const Ack&) const = default;
};

// ---- Streams and events (rig -> host) ----------------------------------------------------

// One instant of the rig's sensors; 20 bytes on the wire.
struct Sample {
  std::int32_t force_uN = 0;           // normal force on the drum
  std::int32_t z_nm = 0;               // Z height of the drum axis above the phantom surface datum
  std::int32_t x_nm = 0;               // carriage X position along the lane
  std::int32_t encoder_counts = 0;     // drum angle, cumulative (does not wrap per revolution)
  std::int16_t temperature_cdegC = 0;  // phantom temperature, 0.01 degC
  std::uint16_t flags = 0;             // SampleFlag bits

  bool operator==(const Sample&) const = default;
};
enum SampleFlag : std::uint16_t {
  kSampleForceSaturated = 1u << 0,
  kSamplePassReversal = 1u << 1,  // first sample after the carriage reversed
};

inline constexpr std::size_t kSampleWireSize = 20;
inline constexpr std::size_t kSampleBatchHeaderSize = 11;
inline constexpr std::size_t kMaxSamplesPerBatch = 409;  // (8192 - 11) / 20: fits kMaxPayload

struct SampleBatch {
  std::uint32_t batch_counter = 0;  // 0 for the first batch of an operation, +1 each batch
  std::uint32_t first_sample_index = 0;
  std::uint8_t pass = 0;        // 0-based pass the samples belong to
  std::vector<Sample> samples;  // count is a u16 on the wire

  bool operator==(const SampleBatch&) const = default;
};

inline constexpr std::size_t kScanRowsHeaderSize = 10;
inline constexpr std::size_t kMaxPixelsPerChunk = 2040;  // 10 + 2040 * 4 <= kMaxPayload

// One chunk of a scan's pixels, whichever message carried it: ScanRows (4 bytes a pixel)
// or ScanRowsDelta (varint differences in steps of step_nm), both decode to this.
struct ScanRows {
  std::uint32_t chunk_counter = 0;      // 0 for the first chunk of a scan, +1 each chunk
  std::uint16_t row = 0;                // row index (along X)
  std::uint16_t col0 = 0;               // first column (along Y) in this chunk
  std::vector<std::int32_t> height_nm;  // heights relative to the scanner datum; count u16

  bool operator==(const ScanRows&) const = default;
};
inline constexpr std::int32_t kNoData = INT32_MIN;  // pixel the scanner could not read

// ScanRowsDelta (0x44): header = ScanRows's + u16 step_nm; then one varint per pixel.
// The count is capped so that any chunk fits a payload, whatever its pixels' 1..5 bytes.
inline constexpr std::size_t kScanRowsDeltaHeaderSize = 12;
inline constexpr std::size_t kMaxVarintBytes = 5;
inline constexpr std::size_t kMaxPixelsPerDeltaChunk = 1636;  // (8192 - 12) / 5

// Height-map size a Scan produces: row r at x0 + r * pitch, column c at y0 + c * pitch.
constexpr std::uint32_t scan_rows(const Scan& s) {
  return s.pitch_um ? s.length_um / s.pitch_um : 0;
}
constexpr std::uint32_t scan_cols(const Scan& s) {
  return s.pitch_um ? s.width_um / s.pitch_um : 0;
}

struct OperationDone {
  Result result = Result::Ok;
  std::uint16_t request_seq = 0;      // sequence number of the request that started it
  MsgType operation = MsgType::Roll;  // Home, Roll or Scan
  std::uint32_t items_sent = 0;       // samples (Roll) or pixels (Scan) streamed
  std::uint32_t frames_sent = 0;      // batches (Roll) or chunks (Scan) streamed
  // Scan only:
  std::uint16_t rows = 0;
  std::uint16_t cols = 0;
  std::uint16_t pitch_um = 0;
  std::uint32_t scan_delay_ms = 0;  // time from the end of the last roll on this lane to the scan
  std::vector<std::uint32_t> layer_punctures;  // per phantom layer, top first; count u8

  bool operator==(const OperationDone&) const = default;
};

struct FaultEvent {
  FaultCode fault = FaultCode::None;
  RigState state_before = RigState::Idle;
  std::int32_t x_um = 0;
  std::int32_t force_mN = 0;

  bool operator==(const FaultEvent&) const = default;
};

// ---- Encoding and decoding of payloads -------------------------------------------------
// encode() returns the payload bytes (header and CRC are added by the framing layer); it
// throws std::length_error for a string over 255 bytes or a list over its wire maximum.
// decode_* reject payloads that are too short, too long, or carry an invalid enum value
// or a value outside its documented range. Two exceptions, both in PROTOCOL.md: a reply
// whose result is not Ok may be just its result byte (the "short form", an Ack payload),
// and a Hello / VersionMismatch HelloReply of another version decodes only its version.

struct DecodeError {
  std::string what;  // e.g. "SampleBatch: payload 37 bytes, expected 11 + 20*count"

  bool operator==(const DecodeError&) const = default;
};
template <typename T>
using Decoded = std::expected<T, DecodeError>;

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

Bytes encode(const Hello&);
Bytes encode(const StatusRequest&);
Bytes encode(const Home&);
Bytes encode(const Tare&);
Bytes encode(const SelectLane&);
Bytes encode(const Roll&);
// version: the session's protocol version; 1 has no row_encoding byte (std::invalid_argument
// if Delta is asked for in version 1).
Bytes encode(const Scan&, std::uint8_t version = kProtocolVersion);
Bytes encode(const Abort&);
Bytes encode(const Heartbeat&);
Bytes encode(const HelloReply&);
Bytes encode(const StatusReply&);
Bytes encode(const Ack&);
Bytes encode(const SampleBatch&);
Bytes encode(const ScanRows&);
// ScanRowsDelta: every height must be kNoData or a multiple of step_nm (the scanner's
// resolution, >= 1), else std::invalid_argument; count 1..kMaxPixelsPerDeltaChunk.
Bytes encode_delta(const ScanRows&, std::uint16_t step_nm);
Bytes encode(const OperationDone&);
Bytes encode(const FaultEvent&);

Decoded<Hello> decode_hello(ByteView);
Decoded<StatusRequest> decode_status_request(ByteView);
Decoded<Home> decode_home(ByteView);
Decoded<Tare> decode_tare(ByteView);
Decoded<Abort> decode_abort(ByteView);
Decoded<Heartbeat> decode_heartbeat(ByteView);
Decoded<SelectLane> decode_select_lane(ByteView);
Decoded<Roll> decode_roll(ByteView);
Decoded<Scan> decode_scan(ByteView, std::uint8_t version = kProtocolVersion);
Decoded<HelloReply> decode_hello_reply(ByteView);
Decoded<StatusReply> decode_status_reply(ByteView);
Decoded<Ack> decode_ack(ByteView);
Decoded<SampleBatch> decode_sample_batch(ByteView);
Decoded<ScanRows> decode_scan_rows(ByteView);
Decoded<ScanRows> decode_scan_rows_delta(ByteView);
Decoded<OperationDone> decode_operation_done(ByteView);
Decoded<FaultEvent> decode_fault(ByteView);

const char* to_string(MsgType);
const char* to_string(Result);
const char* to_string(FaultCode);
const char* to_string(RigState);

}  // namespace derma::proto
