// The typed payload decoders of drivers/protocol/messages.hpp in one table, with the property
// both protocol fuzz targets check: a payload that decodes re-encodes without throwing, and
// the re-encoded bytes decode to the very same message.
#pragma once

#include <array>
#include <concepts>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "drivers/protocol/messages.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace derma::fuzz {

// decode: ByteView -> Decoded<Message>; encode: Message -> Bytes.
template <typename Decode, typename Encode>
void check_round_trip_with(Decode decode, Encode encode, proto::ByteView payload) {
  const auto decoded = decode(payload);
  if (!decoded) {
    FUZZ_CHECK(!decoded.error().what.empty(), "a decode error without a message");
    return;
  }
  proto::Bytes encoded;
  try {
    encoded = encode(*decoded);
  } catch (const std::exception& e) {
    property_failed(__FILE__, __LINE__,
                    std::string("a decoded message does not re-encode: ") + e.what());
  }
  const auto again = decode(encoded);
  FUZZ_CHECK(again.has_value(), "a re-encoded message no longer decodes");
  // Empty messages (Home, Tare, ...) have no fields to compare.
  if constexpr (std::equality_comparable<std::remove_cvref_t<decltype(*decoded)>>)
    FUZZ_CHECK(*again == *decoded, "a re-encoded message decodes to another message");
}

template <typename Message>
void check_round_trip(proto::Decoded<Message> (*decode)(proto::ByteView), proto::ByteView payload) {
  check_round_trip_with(
      decode, [](const Message& m) { return proto::encode(m); }, payload);
}

// Scan in one protocol version (its layout depends on it).
template <std::uint8_t kVersion>
void check_scan(proto::ByteView payload) {
  check_round_trip_with([](proto::ByteView p) { return proto::decode_scan(p, kVersion); },
                        [](const proto::Scan& m) { return proto::encode(m, kVersion); }, payload);
}

// ScanRowsDelta re-encodes with the step its header names; encoding is one-to-one (canonical
// varints, nothing after the last pixel), so the bytes must come back unchanged too.
inline void check_scan_rows_delta(proto::ByteView payload) {
  const std::uint16_t step_nm = payload.size() >= proto::kScanRowsDeltaHeaderSize
                                    ? static_cast<std::uint16_t>(payload[10] | payload[11] << 8)
                                    : 1;
  check_round_trip_with(
      proto::decode_scan_rows_delta,
      [step_nm](const proto::ScanRows& m) { return proto::encode_delta(m, step_nm); }, payload);
  if (proto::decode_scan_rows_delta(payload)) {
    const proto::Bytes again =
        proto::encode_delta(*proto::decode_scan_rows_delta(payload), step_nm);
    FUZZ_CHECK(proto::Bytes(payload.begin(), payload.end()) == again,
               "a ScanRowsDelta payload re-encodes to other bytes");
  }
}

using PayloadCheck = void (*)(proto::ByteView);

// One entry per decoder, with the message type whose payload it reads.
struct DecoderEntry {
  proto::MsgType type;
  PayloadCheck check;
};

// New entries go at the end, so that the seed corpus's selector bytes keep their meaning.
inline constexpr std::array<DecoderEntry, 18> kDecoders = {{
    {proto::MsgType::Hello, [](proto::ByteView p) { check_round_trip(proto::decode_hello, p); }},
    {proto::MsgType::Status,
     [](proto::ByteView p) { check_round_trip(proto::decode_status_request, p); }},
    {proto::MsgType::Home, [](proto::ByteView p) { check_round_trip(proto::decode_home, p); }},
    {proto::MsgType::Tare, [](proto::ByteView p) { check_round_trip(proto::decode_tare, p); }},
    {proto::MsgType::SelectLane,
     [](proto::ByteView p) { check_round_trip(proto::decode_select_lane, p); }},
    {proto::MsgType::Roll, [](proto::ByteView p) { check_round_trip(proto::decode_roll, p); }},
    {proto::MsgType::Scan, check_scan<proto::kProtocolVersion>},
    {proto::MsgType::Abort, [](proto::ByteView p) { check_round_trip(proto::decode_abort, p); }},
    {proto::MsgType::Heartbeat,
     [](proto::ByteView p) { check_round_trip(proto::decode_heartbeat, p); }},
    {proto::reply_type(proto::MsgType::Hello),
     [](proto::ByteView p) { check_round_trip(proto::decode_hello_reply, p); }},
    {proto::reply_type(proto::MsgType::Status),
     [](proto::ByteView p) { check_round_trip(proto::decode_status_reply, p); }},
    // Every other reply is an Ack (Home, Tare, SelectLane, Roll, Scan, Abort, Heartbeat).
    {proto::reply_type(proto::MsgType::Roll),
     [](proto::ByteView p) { check_round_trip(proto::decode_ack, p); }},
    {proto::MsgType::SampleBatch,
     [](proto::ByteView p) { check_round_trip(proto::decode_sample_batch, p); }},
    {proto::MsgType::ScanRows,
     [](proto::ByteView p) { check_round_trip(proto::decode_scan_rows, p); }},
    {proto::MsgType::OperationDone,
     [](proto::ByteView p) { check_round_trip(proto::decode_operation_done, p); }},
    {proto::MsgType::Fault, [](proto::ByteView p) { check_round_trip(proto::decode_fault, p); }},
    {proto::MsgType::Scan, check_scan<1>},  // a version-1 Scan (check_for finds the one above)
    {proto::MsgType::ScanRowsDelta, check_scan_rows_delta},
}};

// The check for the payload of a frame of type `type`, as a host or a rig would decode it;
// nullopt for a type nobody decodes.
inline std::optional<PayloadCheck> check_for(proto::MsgType type) {
  if (proto::is_reply(type) && type != proto::reply_type(proto::MsgType::Hello) &&
      type != proto::reply_type(proto::MsgType::Status))
    type = proto::reply_type(proto::MsgType::Roll);
  for (const DecoderEntry& entry : kDecoders)
    if (entry.type == type) return entry.check;
  return std::nullopt;
}

}  // namespace derma::fuzz
