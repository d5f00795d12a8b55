// Fuzz target: the frame decoder (COBS + CRC-32C deframing with resynchronisation), fed the
// input as one block and again in chunks whose sizes come from the input itself.
// Properties: it never crashes and never holds more than kMaxEncodedFrame bytes; how the
// stream is sliced changes nothing (same frames, same counters); every frame it yields
// re-encodes to wire bytes that decode to the same frame; and every payload goes through the
// typed decoder of its message type (message_codec.hpp), as the host and the rig do.
#include <vector>

#include "drivers/protocol/frame.hpp"
#include "tests/fuzz/message_codec.hpp"

namespace {

using derma::proto::ByteView;
using derma::proto::Frame;
using derma::proto::FrameDecoder;

std::vector<Frame> drain(FrameDecoder& decoder) {
  std::vector<Frame> frames;
  while (auto frame = decoder.next()) frames.push_back(std::move(*frame));
  return frames;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);

  FrameDecoder whole;
  whole.feed(input);
  FUZZ_CHECK(whole.pending_bytes() <= derma::proto::kMaxEncodedFrame,
             "the decoder holds more than the longest frame");
  const std::vector<Frame> frames = drain(whole);

  FrameDecoder sliced;
  std::vector<Frame> sliced_frames;
  for (std::size_t at = 0, k = 0; at < size; ++k) {
    const std::size_t chunk = std::min<std::size_t>(1 + data[k % size] % 97, size - at);
    sliced.feed(input.subspan(at, chunk));
    FUZZ_CHECK(sliced.pending_bytes() <= derma::proto::kMaxEncodedFrame,
               "the decoder holds more than the longest frame");
    at += chunk;
    for (Frame& frame : drain(sliced)) sliced_frames.push_back(std::move(frame));
  }
  FUZZ_CHECK(sliced_frames == frames, "slicing the stream changed the frames decoded");
  FUZZ_CHECK(sliced.counters() == whole.counters(), "slicing the stream changed the counters");
  FUZZ_CHECK(whole.counters().bytes_in == size, "bytes_in is not the bytes fed");
  FUZZ_CHECK(whole.counters().frames_ok == frames.size(), "frames_ok is not the frames decoded");

  for (const Frame& frame : frames) {
    FrameDecoder again;
    again.feed(derma::proto::encode_frame(frame));
    const std::vector<Frame> decoded = drain(again);
    FUZZ_CHECK(decoded.size() == 1 && decoded.front() == frame,
               "a decoded frame does not survive encode -> decode");
    if (frame.type == derma::proto::MsgType::Scan && frame.version == 1)
      derma::fuzz::check_scan<1>(frame.payload);  // Scan's layout depends on the version
    else if (auto check = derma::fuzz::check_for(frame.type))
      (*check)(frame.payload);
  }
  return 0;
}
