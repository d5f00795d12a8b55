// MD5 as X3P uses it: to detect damaged or edited entries (not for security).
#pragma once

#include <string>
#include <string_view>

namespace derma::scanfile {

// Lower-case hex digest, 32 characters.
std::string md5_hex(std::string_view bytes);

}  // namespace derma::scanfile
