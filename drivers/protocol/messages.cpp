// Payload encoding and strict decoding of every message of protocol versions 1 and 2. See
// PROTOCOL.md, section "Messages", for the byte layouts mirrored here.
#include "drivers/protocol/messages.hpp"

#include <stdexcept>
#include <string>

#include "drivers/protocol/frame.hpp"

namespace derma::proto {

static_assert(kSampleBatchHeaderSize + kMaxSamplesPerBatch * kSampleWireSize <= kMaxPayload);
static_assert(kScanRowsHeaderSize + kMaxPixelsPerChunk * sizeof(std::int32_t) <= kMaxPayload);

namespace {

// ---- Little-endian writing and reading --------------------------------------------------

class Writer {
 public:
  explicit Writer(std::size_t expected_size) { out_.reserve(expected_size); }

  Writer& u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  Writer& u16(std::uint16_t v) {
    return u8(static_cast<std::uint8_t>(v)).u8(static_cast<std::uint8_t>(v >> 8));
  }
  Writer& u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v)).u16(static_cast<std::uint16_t>(v >> 16));
  }
  Writer& i16(std::int16_t v) { return u16(static_cast<std::uint16_t>(v)); }
  Writer& i32(std::int32_t v) { return u32(static_cast<std::uint32_t>(v)); }
  Writer& str(const std::string& s, const char* field) {
    if (s.size() > 255) {
      throw std::length_error(std::string(field) + " is " + std::to_string(s.size()) +
                              " bytes, the wire allows at most 255");
    }
    u8(static_cast<std::uint8_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }

  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

inline std::uint16_t load_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
inline std::uint32_t load_u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}
inline std::int16_t load_i16(const std::uint8_t* p) {
  return static_cast<std::int16_t>(load_u16(p));
}
inline std::int32_t load_i32(const std::uint8_t* p) {
  return static_cast<std::int32_t>(load_u32(p));
}

// Sequential reader. Fixed-size messages check the total size first and then read
// unchecked; variable-size ones (strings) ask has() before each read.
class Reader {
 public:
  explicit Reader(ByteView bytes) : bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size() - pos_; }
  bool has(std::size_t n) const { return remaining() >= n; }

  std::uint8_t u8() { return bytes_[pos_++]; }
  std::uint16_t u16() { return advance(2, load_u16(bytes_.data() + pos_)); }
  std::uint32_t u32() { return advance(4, load_u32(bytes_.data() + pos_)); }
  std::int16_t i16() { return advance(2, load_i16(bytes_.data() + pos_)); }
  std::int32_t i32() { return advance(4, load_i32(bytes_.data() + pos_)); }
  std::string str(std::size_t n) {
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  template <typename T>
  T advance(std::size_t n, T value) {
    pos_ += n;
    return value;
  }
  ByteView bytes_;
  std::size_t pos_ = 0;
};

// ---- Errors -------------------------------------------------------------------------------

std::unexpected<DecodeError> fail(std::string what) {
  return std::unexpected(DecodeError{std::move(what)});
}

std::unexpected<DecodeError> size_error(const char* message, std::size_t got,
                                        const std::string& expected) {
  return fail(std::string(message) + ": payload " + std::to_string(got) + " bytes, expected " +
              expected);
}

// Hex with as many digits as the field is wide, e.g. 0x0A for a u8 and 0x0008 for a u16.
std::string hex(unsigned value, int digits) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) s += kDigits[(value >> shift) & 0xFu];
  return s;
}

std::unexpected<DecodeError> enum_error(const char* message, const char* field,
                                        std::uint8_t value) {
  return fail(std::string(message) + ": invalid " + field + " " + hex(value, 2));
}
std::unexpected<DecodeError> enum_error(const char* message, const char* field,
                                        std::uint16_t value) {
  return fail(std::string(message) + ": invalid " + field + " " + hex(value, 4));
}

std::unexpected<DecodeError> range_error(const char* message, const char* field,
                                         std::uint64_t value, const char* allowed) {
  return fail(std::string(message) + ": " + field + " " + std::to_string(value) +
              " out of range (" + allowed + ")");
}

// ---- Enum validation ----------------------------------------------------------------------

bool valid_result(std::uint8_t v) {
  return v <= static_cast<std::uint8_t>(Result::NotReady);
}
bool valid_fault(std::uint16_t v) {
  return v <= static_cast<std::uint16_t>(FaultCode::Reboot);
}
bool valid_state(std::uint8_t v) {
  return v <= static_cast<std::uint8_t>(RigState::Faulted);
}
bool valid_long_operation(std::uint8_t v) {
  return v == static_cast<std::uint8_t>(MsgType::Home) ||
         v == static_cast<std::uint8_t>(MsgType::Roll) ||
         v == static_cast<std::uint8_t>(MsgType::Scan);
}

// The short form of a reply that is not Ok: only its result byte (PROTOCOL.md "Replies").
bool is_short_error_reply(ByteView p) {
  return p.size() == 1 && valid_result(p[0]) && p[0] != static_cast<std::uint8_t>(Result::Ok);
}

template <typename T>
Decoded<T> decode_empty(const char* message, ByteView p) {
  if (!p.empty()) return size_error(message, p.size(), "0");
  return T{};
}

constexpr std::size_t kHelloSize = 3;
constexpr std::size_t kSelectLaneSize = 1;
constexpr std::size_t kRollSize = 19;
constexpr std::size_t kScanSizeV1 = 18;
constexpr std::size_t kScanSizeV2 = 19;  // + row_encoding
constexpr std::size_t kStatusReplySize = 22;
constexpr std::size_t kAckSize = 1;
constexpr std::size_t kOperationDoneFixedSize = 23;
constexpr std::size_t kFaultEventSize = 11;
constexpr std::size_t kMaxLayers = 255;  // count is a u8

}  // namespace

// ---- Requests -----------------------------------------------------------------------------

Bytes encode(const Hello& m) {
  return Writer(kHelloSize).u8(m.host_protocol_version).u16(m.watchdog_timeout_ms).take();
}
Bytes encode(const StatusRequest&) {
  return {};
}
Bytes encode(const Home&) {
  return {};
}
Bytes encode(const Tare&) {
  return {};
}
Bytes encode(const SelectLane& m) {
  return Writer(kSelectLaneSize).u8(m.lane).take();
}
Bytes encode(const Roll& m) {
  return Writer(kRollSize)
      .u32(m.start_x_um)
      .u32(m.stroke_um)
      .u32(m.speed_um_per_s)
      .u32(m.load_mN)
      .u8(m.passes)
      .u16(m.sample_rate_hz)
      .take();
}
Bytes encode(const Scan& m, std::uint8_t version) {
  if (version < 2 && m.row_encoding != RowEncoding::Int32)
    throw std::invalid_argument("Scan: row_encoding Delta needs protocol version 2");
  Writer w(kScanSizeV2);
  w.u32(m.x0_um).u32(m.y0_um).u32(m.length_um).u32(m.width_um).u16(m.pitch_um);
  if (version >= 2) w.u8(static_cast<std::uint8_t>(m.row_encoding));
  return w.take();
}
Bytes encode(const Abort&) {
  return {};
}
Bytes encode(const Heartbeat&) {
  return {};
}

Decoded<Hello> decode_hello(ByteView p) {
  if (p.empty()) return size_error("Hello", 0, std::to_string(kHelloSize));
  Hello m;
  m.host_protocol_version = p[0];
  // Versions 1 and 2 share Hello's layout. Another version's Hello has that version's layout:
  // only its first byte is frozen, and the rig needs nothing more to answer VersionMismatch.
  if (!speaks_version(m.host_protocol_version)) {
    m.watchdog_timeout_ms = 0;
    return m;
  }
  if (p.size() != kHelloSize) return size_error("Hello", p.size(), std::to_string(kHelloSize));
  m.watchdog_timeout_ms = load_u16(p.data() + 1);
  return m;
}

Decoded<StatusRequest> decode_status_request(ByteView p) {
  return decode_empty<StatusRequest>("Status", p);
}
Decoded<Home> decode_home(ByteView p) {
  return decode_empty<Home>("Home", p);
}
Decoded<Tare> decode_tare(ByteView p) {
  return decode_empty<Tare>("Tare", p);
}
Decoded<Abort> decode_abort(ByteView p) {
  return decode_empty<Abort>("Abort", p);
}
Decoded<Heartbeat> decode_heartbeat(ByteView p) {
  return decode_empty<Heartbeat>("Heartbeat", p);
}

Decoded<SelectLane> decode_select_lane(ByteView p) {
  if (p.size() != kSelectLaneSize)
    return size_error("SelectLane", p.size(), std::to_string(kSelectLaneSize));
  return SelectLane{p[0]};
}

Decoded<Roll> decode_roll(ByteView p) {
  if (p.size() != kRollSize) return size_error("Roll", p.size(), std::to_string(kRollSize));
  Reader r(p);
  Roll m;
  m.start_x_um = r.u32();
  m.stroke_um = r.u32();
  m.speed_um_per_s = r.u32();
  m.load_mN = r.u32();
  m.passes = r.u8();
  m.sample_rate_hz = r.u16();
  if (m.stroke_um == 0) return range_error("Roll", "stroke_um", m.stroke_um, ">= 1");
  if (m.speed_um_per_s == 0) return range_error("Roll", "speed_um_per_s", m.speed_um_per_s, ">= 1");
  if (m.load_mN == 0) return range_error("Roll", "load_mN", m.load_mN, ">= 1");
  if (m.passes == 0) return range_error("Roll", "passes", m.passes, ">= 1");
  if (m.sample_rate_hz == 0) return range_error("Roll", "sample_rate_hz", m.sample_rate_hz, ">= 1");
  return m;
}

Decoded<Scan> decode_scan(ByteView p, std::uint8_t version) {
  const std::size_t size = version >= 2 ? kScanSizeV2 : kScanSizeV1;
  if (p.size() != size) {
    return size_error("Scan", p.size(),
                      std::to_string(size) + " in protocol version " + std::to_string(version));
  }
  Reader r(p);
  Scan m;
  m.x0_um = r.u32();
  m.y0_um = r.u32();
  m.length_um = r.u32();
  m.width_um = r.u32();
  m.pitch_um = r.u16();
  if (version >= 2) {
    const std::uint8_t encoding = r.u8();
    if (encoding > static_cast<std::uint8_t>(RowEncoding::Delta))
      return enum_error("Scan", "row_encoding", encoding);
    m.row_encoding = static_cast<RowEncoding>(encoding);
  }
  if (m.pitch_um == 0) return range_error("Scan", "pitch_um", 0, ">= 1");
  const std::uint32_t rows = scan_rows(m);
  const std::uint32_t cols = scan_cols(m);
  if (rows == 0 || rows > 65535)
    return range_error("Scan", "rows (length_um / pitch_um)", rows, "1..65535");
  if (cols == 0 || cols > 65535)
    return range_error("Scan", "cols (width_um / pitch_um)", cols, "1..65535");
  return m;
}

// ---- Replies ------------------------------------------------------------------------------

Bytes encode(const HelloReply& m) {
  Writer w(64 + m.firmware_version.size() + m.rig_serial.size() + m.phantom_lot.size());
  w.u8(static_cast<std::uint8_t>(m.result))
      .u8(m.protocol_version)
      .str(m.firmware_version, "HelloReply.firmware_version")
      .str(m.rig_serial, "HelloReply.rig_serial")
      .u32(m.load_cell_factor_ppm)
      .str(m.calibration_date, "HelloReply.calibration_date")
      .str(m.calibration_due, "HelloReply.calibration_due")
      .u32(m.capabilities)
      .u32(m.max_force_mN)
      .u32(m.max_speed_um_per_s)
      .u32(m.travel_x_um)
      .u32(m.travel_z_um)
      .u16(m.max_sample_rate_hz)
      .u32(m.encoder_counts_per_rev)
      .u8(m.lanes)
      .u32(m.lane_length_um)
      .u32(m.lane_width_um)
      .u16(m.min_scan_pitch_um)
      .str(m.phantom_lot, "HelloReply.phantom_lot")
      .u8(m.phantom_layers)
      .u16(m.layer_thickness_um)
      .u16(m.watchdog_timeout_ms);
  return w.take();
}

Decoded<HelloReply> decode_hello_reply(ByteView p) {
  constexpr const char* kName = "HelloReply";
  if (p.empty()) return size_error(kName, 0, "at least 1");
  if (!valid_result(p[0])) return enum_error(kName, "result", p[0]);
  HelloReply m;
  m.result = static_cast<Result>(p[0]);
  if (m.result == Result::VersionMismatch) {
    // Bytes 0-1 are frozen in every version; the rest is in the rig's own layout.
    if (p.size() < 2) return size_error(kName, p.size(), "at least 2 for VersionMismatch");
    m.protocol_version = p[1];
    return m;
  }
  if (is_short_error_reply(p)) return m;

  Reader r(p.subspan(1));
  bool truncated = false;
  auto need = [&](std::size_t n) {
    if (!r.has(n)) truncated = true;
    return !truncated;
  };
  auto read_str = [&](std::string& out) {
    if (!need(1)) return;
    const std::size_t n = r.u8();
    if (need(n)) out = r.str(n);
  };
  if (need(1)) m.protocol_version = r.u8();
  read_str(m.firmware_version);
  read_str(m.rig_serial);
  if (need(4)) m.load_cell_factor_ppm = r.u32();
  read_str(m.calibration_date);
  read_str(m.calibration_due);
  if (need(22)) {
    m.capabilities = r.u32();
    m.max_force_mN = r.u32();
    m.max_speed_um_per_s = r.u32();
    m.travel_x_um = r.u32();
    m.travel_z_um = r.u32();
    m.max_sample_rate_hz = r.u16();
  }
  if (need(15)) {
    m.encoder_counts_per_rev = r.u32();
    m.lanes = r.u8();
    m.lane_length_um = r.u32();
    m.lane_width_um = r.u32();
    m.min_scan_pitch_um = r.u16();
  }
  read_str(m.phantom_lot);
  if (need(5)) {
    m.phantom_layers = r.u8();
    m.layer_thickness_um = r.u16();
    m.watchdog_timeout_ms = r.u16();
  }
  if (truncated)
    return fail(std::string(kName) + ": payload " + std::to_string(p.size()) +
                " bytes ends inside a field");
  if (r.remaining() != 0) {
    return fail(std::string(kName) + ": payload " + std::to_string(p.size()) + " bytes has " +
                std::to_string(r.remaining()) + " bytes after the last field");
  }
  return m;
}

Bytes encode(const StatusReply& m) {
  return Writer(kStatusReplySize)
      .u8(static_cast<std::uint8_t>(m.result))
      .u8(static_cast<std::uint8_t>(m.state))
      .u8(m.homed)
      .u8(m.lane)
      .i32(m.x_um)
      .i32(m.z_um)
      .i32(m.force_mN)
      .u16(static_cast<std::uint16_t>(m.fault))
      .u32(m.uptime_ms)
      .take();
}

Decoded<StatusReply> decode_status_reply(ByteView p) {
  constexpr const char* kName = "StatusReply";
  StatusReply m;
  if (is_short_error_reply(p)) {
    m.result = static_cast<Result>(p[0]);
    return m;
  }
  if (p.size() != kStatusReplySize) {
    return size_error(kName, p.size(),
                      std::to_string(kStatusReplySize) + " (or 1 if result is not Ok)");
  }
  Reader r(p);
  const std::uint8_t result = r.u8();
  const std::uint8_t state = r.u8();
  m.homed = r.u8();
  m.lane = r.u8();
  m.x_um = r.i32();
  m.z_um = r.i32();
  m.force_mN = r.i32();
  const std::uint16_t fault = r.u16();
  m.uptime_ms = r.u32();
  if (!valid_result(result)) return enum_error(kName, "result", result);
  if (!valid_state(state)) return enum_error(kName, "state", state);
  if (m.homed > 1) return range_error(kName, "homed", m.homed, "0 or 1");
  if (!valid_fault(fault)) return enum_error(kName, "fault", fault);
  m.result = static_cast<Result>(result);
  m.state = static_cast<RigState>(state);
  m.fault = static_cast<FaultCode>(fault);
  return m;
}

Bytes encode(const Ack& m) {
  return Writer(kAckSize).u8(static_cast<std::uint8_t>(m.result)).take();
}

Decoded<Ack> decode_ack(ByteView p) {
  if (p.size() != kAckSize) return size_error("Ack", p.size(), std::to_string(kAckSize));
  if (!valid_result(p[0])) return enum_error("Ack", "result", p[0]);
  return Ack{static_cast<Result>(p[0])};
}

// ---- Streams and events -------------------------------------------------------------------

Bytes encode(const SampleBatch& m) {
  if (m.samples.empty() || m.samples.size() > kMaxSamplesPerBatch) {
    throw std::length_error("SampleBatch with " + std::to_string(m.samples.size()) +
                            " samples; a batch carries 1.." + std::to_string(kMaxSamplesPerBatch));
  }
  Writer w(kSampleBatchHeaderSize + m.samples.size() * kSampleWireSize);
  w.u32(m.batch_counter)
      .u32(m.first_sample_index)
      .u8(m.pass)
      .u16(static_cast<std::uint16_t>(m.samples.size()));
  for (const Sample& s : m.samples) {
    w.i32(s.force_uN)
        .i32(s.z_nm)
        .i32(s.x_nm)
        .i32(s.encoder_counts)
        .i16(s.temperature_cdegC)
        .u16(s.flags);
  }
  return w.take();
}

Decoded<SampleBatch> decode_sample_batch(ByteView p) {
  constexpr const char* kName = "SampleBatch";
  const std::string layout = std::to_string(kSampleBatchHeaderSize) + " + 20*count";
  if (p.size() < kSampleBatchHeaderSize) return size_error(kName, p.size(), layout);
  const std::size_t count = load_u16(p.data() + 9);
  if (p.size() != kSampleBatchHeaderSize + kSampleWireSize * count) {
    return size_error(kName, p.size(), layout + " with count " + std::to_string(count));
  }
  if (count == 0 || count > kMaxSamplesPerBatch) {
    return range_error(kName, "count", count,
                       ("1.." + std::to_string(kMaxSamplesPerBatch)).c_str());
  }
  SampleBatch m;
  m.batch_counter = load_u32(p.data());
  m.first_sample_index = load_u32(p.data() + 4);
  m.pass = p[8];
  m.samples.resize(count);
  const std::uint8_t* q = p.data() + kSampleBatchHeaderSize;
  for (Sample& s : m.samples) {  // hot path: plain loads, no bounds checks left to do
    s.force_uN = load_i32(q);
    s.z_nm = load_i32(q + 4);
    s.x_nm = load_i32(q + 8);
    s.encoder_counts = load_i32(q + 12);
    s.temperature_cdegC = load_i16(q + 16);
    s.flags = load_u16(q + 18);
    q += kSampleWireSize;
  }
  return m;
}

Bytes encode(const ScanRows& m) {
  if (m.height_nm.empty() || m.height_nm.size() > kMaxPixelsPerChunk) {
    throw std::length_error("ScanRows with " + std::to_string(m.height_nm.size()) +
                            " pixels; a chunk carries 1.." + std::to_string(kMaxPixelsPerChunk));
  }
  Writer w(kScanRowsHeaderSize + m.height_nm.size() * 4);
  w.u32(m.chunk_counter).u16(m.row).u16(m.col0).u16(static_cast<std::uint16_t>(m.height_nm.size()));
  for (std::int32_t h : m.height_nm) w.i32(h);
  return w.take();
}

namespace {
// What both row encodings start with: chunk counter, row, first column (with room for
// `count` columns after it), and the pixels, sized.
Decoded<ScanRows> scan_rows_header(ByteView p, std::size_t count, const char* name) {
  ScanRows m;
  m.chunk_counter = load_u32(p.data());
  m.row = load_u16(p.data() + 4);
  m.col0 = load_u16(p.data() + 6);
  if (m.col0 + count > 65536) return range_error(name, "col0 + count", m.col0 + count, "<= 65536");
  m.height_nm.resize(count);
  return m;
}
}  // namespace

Decoded<ScanRows> decode_scan_rows(ByteView p) {
  constexpr const char* kName = "ScanRows";
  const std::string layout = std::to_string(kScanRowsHeaderSize) + " + 4*count";
  if (p.size() < kScanRowsHeaderSize) return size_error(kName, p.size(), layout);
  const std::size_t count = load_u16(p.data() + 8);
  if (p.size() != kScanRowsHeaderSize + 4 * count) {
    return size_error(kName, p.size(), layout + " with count " + std::to_string(count));
  }
  if (count == 0 || count > kMaxPixelsPerChunk) {
    return range_error(kName, "count", count, ("1.." + std::to_string(kMaxPixelsPerChunk)).c_str());
  }
  auto rows = scan_rows_header(p, count, kName);
  if (!rows) return rows;
  ScanRows& m = *rows;
  const std::uint8_t* q = p.data() + kScanRowsHeaderSize;
  for (std::int32_t& h : m.height_nm) {
    h = load_i32(q);
    q += 4;
  }
  return rows;
}

// ---- ScanRowsDelta: one unsigned LEB128 varint per pixel ----------------------------------
// token 0 = kNoData; token t >= 1: the pixel is prev + unzigzag(t - 1) steps of step_nm, and
// becomes prev. prev starts at 0 in every chunk, so each chunk decodes on its own.

namespace {

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t z) {
  return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
}

}  // namespace

Bytes encode_delta(const ScanRows& m, std::uint16_t step_nm) {
  if (m.height_nm.empty() || m.height_nm.size() > kMaxPixelsPerDeltaChunk) {
    throw std::length_error("ScanRowsDelta with " + std::to_string(m.height_nm.size()) +
                            " pixels; a chunk carries 1.." +
                            std::to_string(kMaxPixelsPerDeltaChunk));
  }
  if (step_nm == 0) throw std::invalid_argument("ScanRowsDelta: step_nm must be >= 1");
  Bytes out(kScanRowsDeltaHeaderSize + kMaxVarintBytes * m.height_nm.size());
  std::uint8_t* q = out.data();
  auto put16 = [&q](std::uint16_t v) {
    *q++ = static_cast<std::uint8_t>(v);
    *q++ = static_cast<std::uint8_t>(v >> 8);
  };
  put16(static_cast<std::uint16_t>(m.chunk_counter));
  put16(static_cast<std::uint16_t>(m.chunk_counter >> 16));
  put16(m.row);
  put16(m.col0);
  put16(static_cast<std::uint16_t>(m.height_nm.size()));
  put16(step_nm);
  std::int64_t prev = 0;
  // h / step_nm by a multiplication (an integer division per pixel was most of the cost):
  // rounded, then checked exactly, so a height off the step grid is still caught.
  const double per_step = 1.0 / step_nm;
  for (std::int32_t h : m.height_nm) {
    std::uint64_t token = 0;
    if (h != kNoData) {
      const double q = h * per_step;
      const auto steps = static_cast<std::int64_t>(q < 0 ? q - 0.5 : q + 0.5);
      if (steps * step_nm != h) {
        throw std::invalid_argument("ScanRowsDelta: height " + std::to_string(h) +
                                    " nm is not a multiple of step_nm " + std::to_string(step_nm));
      }
      token = zigzag(steps - prev) + 1;
      prev = steps;
    }
    while (token >= 0x80) {
      *q++ = static_cast<std::uint8_t>(token | 0x80);
      token >>= 7;
    }
    *q++ = static_cast<std::uint8_t>(token);
  }
  out.resize(static_cast<std::size_t>(q - out.data()));
  return out;
}

Decoded<ScanRows> decode_scan_rows_delta(ByteView p) {
  constexpr const char* kName = "ScanRowsDelta";
  if (p.size() < kScanRowsDeltaHeaderSize) {
    return size_error(kName, p.size(), std::to_string(kScanRowsDeltaHeaderSize) + " + varints");
  }
  const std::size_t count = load_u16(p.data() + 8);
  if (count == 0 || count > kMaxPixelsPerDeltaChunk) {
    return range_error(kName, "count", count,
                       ("1.." + std::to_string(kMaxPixelsPerDeltaChunk)).c_str());
  }
  const std::uint16_t step_nm = load_u16(p.data() + 10);
  if (step_nm == 0) return range_error(kName, "step_nm", 0, ">= 1");
  auto rows = scan_rows_header(p, count, kName);
  if (!rows) return rows;
  ScanRows& m = *rows;

  const std::uint8_t* q = p.data() + kScanRowsDeltaHeaderSize;
  const std::uint8_t* const end = p.data() + p.size();
  std::int64_t prev = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (q == end) {
      return fail(std::string(kName) + ": payload ends inside pixel " + std::to_string(i) + " of " +
                  std::to_string(count));
    }
    // Most tokens are one byte (a difference of -63..63 steps): that path first.
    std::uint64_t token = *q++;
    if (token >= 0x80) {
      // The rest of the varint: at most 5 bytes, canonical (no trailing zero byte).
      token &= 0x7F;
      for (std::size_t n = 1;; ++n) {
        if (n == kMaxVarintBytes) {
          return fail(std::string(kName) + ": pixel " + std::to_string(i) +
                      " is a varint longer than " + std::to_string(kMaxVarintBytes) + " bytes");
        }
        if (q == end) {
          return fail(std::string(kName) + ": payload ends inside pixel " + std::to_string(i) +
                      " of " + std::to_string(count));
        }
        const std::uint8_t byte = *q++;
        token |= std::uint64_t{byte & 0x7Fu} << (7 * n);
        if ((byte & 0x80) == 0) {
          if (byte == 0) {
            return fail(std::string(kName) + ": pixel " + std::to_string(i) +
                        " is a non-canonical varint (a trailing zero byte)");
          }
          break;
        }
      }
    }
    if (token == 0) {
      m.height_nm[i] = kNoData;
      continue;
    }
    const std::int64_t steps = prev + unzigzag(token - 1);
    const std::int64_t h = steps * step_nm;
    if (h <= INT32_MIN || h > INT32_MAX) {
      return fail(std::string(kName) + ": pixel " + std::to_string(i) + " is " + std::to_string(h) +
                  " nm, outside the int32 range of heights");
    }
    m.height_nm[i] = static_cast<std::int32_t>(h);
    prev = steps;
  }
  if (q != end) {
    return fail(std::string(kName) + ": " + std::to_string(end - q) + " bytes after the " +
                std::to_string(count) + " pixels the count announces");
  }
  return rows;
}

Bytes encode(const OperationDone& m) {
  if (m.layer_punctures.size() > kMaxLayers) {
    throw std::length_error("OperationDone with " + std::to_string(m.layer_punctures.size()) +
                            " layers; at most 255");
  }
  Writer w(kOperationDoneFixedSize + 4 * m.layer_punctures.size());
  w.u8(static_cast<std::uint8_t>(m.result))
      .u16(m.request_seq)
      .u8(static_cast<std::uint8_t>(m.operation))
      .u32(m.items_sent)
      .u32(m.frames_sent)
      .u16(m.rows)
      .u16(m.cols)
      .u16(m.pitch_um)
      .u32(m.scan_delay_ms)
      .u8(static_cast<std::uint8_t>(m.layer_punctures.size()));
  for (std::uint32_t n : m.layer_punctures) w.u32(n);
  return w.take();
}

Decoded<OperationDone> decode_operation_done(ByteView p) {
  constexpr const char* kName = "OperationDone";
  const std::string layout = std::to_string(kOperationDoneFixedSize) + " + 4*layers";
  if (p.size() < kOperationDoneFixedSize) return size_error(kName, p.size(), layout);
  const std::size_t layers = p[kOperationDoneFixedSize - 1];
  if (p.size() != kOperationDoneFixedSize + 4 * layers) {
    return size_error(kName, p.size(), layout + " with layers " + std::to_string(layers));
  }
  Reader r(p);
  const std::uint8_t result = r.u8();
  OperationDone m;
  m.request_seq = r.u16();
  const std::uint8_t operation = r.u8();
  m.items_sent = r.u32();
  m.frames_sent = r.u32();
  m.rows = r.u16();
  m.cols = r.u16();
  m.pitch_um = r.u16();
  m.scan_delay_ms = r.u32();
  r.u8();  // layer count, checked above
  m.layer_punctures.resize(layers);
  for (std::uint32_t& n : m.layer_punctures) n = r.u32();
  if (!valid_result(result)) return enum_error(kName, "result", result);
  if (!valid_long_operation(operation))
    return enum_error(kName, "operation (Home, Roll or Scan)", operation);
  m.result = static_cast<Result>(result);
  m.operation = static_cast<MsgType>(operation);
  return m;
}

Bytes encode(const FaultEvent& m) {
  return Writer(kFaultEventSize)
      .u16(static_cast<std::uint16_t>(m.fault))
      .u8(static_cast<std::uint8_t>(m.state_before))
      .i32(m.x_um)
      .i32(m.force_mN)
      .take();
}

Decoded<FaultEvent> decode_fault(ByteView p) {
  constexpr const char* kName = "Fault";
  if (p.size() != kFaultEventSize)
    return size_error(kName, p.size(), std::to_string(kFaultEventSize));
  Reader r(p);
  const std::uint16_t fault = r.u16();
  const std::uint8_t state = r.u8();
  FaultEvent m;
  m.x_um = r.i32();
  m.force_mN = r.i32();
  if (!valid_fault(fault) || fault == static_cast<std::uint16_t>(FaultCode::None)) {
    return enum_error(kName, "fault code", fault);
  }
  if (!valid_state(state)) return enum_error(kName, "state_before", state);
  m.fault = static_cast<FaultCode>(fault);
  m.state_before = static_cast<RigState>(state);
  return m;
}

// ---- Names --------------------------------------------------------------------------------

const char* to_string(MsgType t) {
  switch (t) {
    case MsgType::Hello:
      return "Hello";
    case MsgType::Status:
      return "Status";
    case MsgType::Home:
      return "Home";
    case MsgType::Tare:
      return "Tare";
    case MsgType::SelectLane:
      return "SelectLane";
    case MsgType::Roll:
      return "Roll";
    case MsgType::Scan:
      return "Scan";
    case MsgType::Abort:
      return "Abort";
    case MsgType::Heartbeat:
      return "Heartbeat";
    case MsgType::SampleBatch:
      return "SampleBatch";
    case MsgType::ScanRows:
      return "ScanRows";
    case MsgType::ScanRowsDelta:
      return "ScanRowsDelta";
    case MsgType::OperationDone:
      return "OperationDone";
    case MsgType::Fault:
      return "Fault";
  }
  switch (static_cast<std::uint8_t>(t)) {  // replies: request | 0x80
    case 0x81:
      return "HelloReply";
    case 0x82:
      return "StatusReply";
    case 0x83:
      return "HomeReply";
    case 0x84:
      return "TareReply";
    case 0x85:
      return "SelectLaneReply";
    case 0x86:
      return "RollReply";
    case 0x87:
      return "ScanReply";
    case 0x88:
      return "AbortReply";
    case 0x89:
      return "HeartbeatReply";
    default:
      return "UnknownMsgType";
  }
}

const char* to_string(Result r) {
  switch (r) {
    case Result::Ok:
      return "Ok";
    case Result::BadRequest:
      return "BadRequest";
    case Result::UnknownType:
      return "UnknownType";
    case Result::Busy:
      return "Busy";
    case Result::NotHomed:
      return "NotHomed";
    case Result::OutOfRange:
      return "OutOfRange";
    case Result::FaultActive:
      return "FaultActive";
    case Result::Aborted:
      return "Aborted";
    case Result::VersionMismatch:
      return "VersionMismatch";
    case Result::NotReady:
      return "NotReady";
  }
  return "UnknownResult";
}

const char* to_string(FaultCode f) {
  switch (f) {
    case FaultCode::None:
      return "None";
    case FaultCode::EStop:
      return "EStop";
    case FaultCode::ForceOverload:
      return "ForceOverload";
    case FaultCode::TravelLimit:
      return "TravelLimit";
    case FaultCode::Watchdog:
      return "Watchdog";
    case FaultCode::SensorFault:
      return "SensorFault";
    case FaultCode::ScannerFault:
      return "ScannerFault";
    case FaultCode::Reboot:
      return "Reboot";
  }
  return "UnknownFault";
}

const char* to_string(RigState s) {
  switch (s) {
    case RigState::Idle:
      return "Idle";
    case RigState::Homing:
      return "Homing";
    case RigState::Rolling:
      return "Rolling";
    case RigState::Scanning:
      return "Scanning";
    case RigState::Faulted:
      return "Faulted";
  }
  return "UnknownState";
}

}  // namespace derma::proto
