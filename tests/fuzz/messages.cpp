// Fuzz target: every typed payload decoder of drivers/protocol/messages.hpp.
// Input: one selector byte (which decoder, modulo 18: kDecoders), then the payload. Each decoder
// must reject bad payloads with a message and never crash, and whatever it accepts must survive
// encode -> decode unchanged (message_codec.hpp).
#include "tests/fuzz/message_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& entry = derma::fuzz::kDecoders[data[0] % derma::fuzz::kDecoders.size()];
  entry.check(derma::proto::ByteView(data + 1, size - 1));
  return 0;
}
