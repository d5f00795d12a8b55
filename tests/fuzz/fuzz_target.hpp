// What every fuzz target of tests/fuzz shares: the libFuzzer entry point, and a check that
// stops the process (a "crash" to libFuzzer, a failed test to the replay program) when a
// property of the code under test does not hold. See docs/fuzzing.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Called by libFuzzer (clang build) or by replay_main.cpp (any build) once per input.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace derma::fuzz {

// A failed property is a finding: say which, then abort so that libFuzzer keeps the input.
[[noreturn]] inline void property_failed(const char* file, int line, std::string_view what) {
  std::fprintf(stderr, "%s:%d: fuzz property failed: %.*s\n", file, line,
               static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace derma::fuzz

#define FUZZ_CHECK(condition, what) \
  ((condition) ? void(0) : derma::fuzz::property_failed(__FILE__, __LINE__, what))
