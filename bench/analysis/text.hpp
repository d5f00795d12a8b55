// printf-style formatting into a std::string, for findings and summaries. (libstdc++ 12
// has no <format>; the format attribute keeps the arguments checked at compile time.)
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>

namespace derma::analysis {

__attribute__((format(printf, 1, 2))) inline std::string text(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string out(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
  if (size > 0) std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

}  // namespace derma::analysis
