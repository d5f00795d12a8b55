// A shared library loaded when it is first needed instead of at process start.
//
// Why: every `bench` invocation paid for libraries most invocations never call. libpq pulls in
// Kerberos, LDAP and GnuTLS (20 libraries), cairo the X11 and font stack (18 more); mapping
// and relocating them was about 5 ms of the 10 ms a `bench` start took on the development
// machine, a twentieth of a whole validation run on the virtual rig (docs/performance.md).
// They are now opened when a PostgreSQL store is opened or a certificate drawn.
//
// Each function is looked up by name and typed from the library's own header
// (`decltype(&PQexec)`), so a call through it is checked by the compiler as a direct call is.
// The handle is never closed: the functions stay valid for the life of the process. Its users
// keep the outcome of load() in a function-local static, so a library missing at the first
// attempt stays missing until the process restarts (a daemon, after it is installed).
#pragma once

#include <dlfcn.h>

#include <expected>
#include <string>
#include <utility>

namespace derma::common {

class SharedLibrary {
 public:
  // `soname` as the package installs it ("libpq.so.5"); `why` says what needs it, for the
  // error a user sees when it is missing ("PostgreSQL results database").
  static std::expected<SharedLibrary, std::string> open(const char* soname, const char* why) {
    void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* reason = dlerror();
      return std::unexpected(std::string(why) + " needs " + soname + ", which could not be loaded" +
                             (reason ? std::string(": ") + reason : std::string()));
    }
    return SharedLibrary(handle, soname, why);
  }

  // Opens `soname` and fills a struct of function pointers with `bind_all(library,
  // functions)`, which calls bind() for each: the functions, or why they cannot be had.
  template <class Functions, class BindAll>
  static std::expected<Functions, std::string> load(const char* soname, const char* why,
                                                    BindAll bind_all) {
    auto library = open(soname, why);
    if (!library) return std::unexpected(library.error());
    Functions functions{};
    bind_all(*library, functions);
    if (std::string missing = library->error(); !missing.empty()) return std::unexpected(missing);
    return functions;
  }

  // Points `function` at the library's `name`; a missing one is remembered for error().
  template <class Function>
  void bind(Function*& function, const char* name) {
    function = reinterpret_cast<Function*>(dlsym(handle_, name));
    if (!function) missing_ += missing_.empty() ? name : std::string(", ") + name;
  }

  // Empty when every bind() found its function, else which were missing (an older library).
  std::string error() const {
    return missing_.empty() ? std::string()
                            : why_ + " needs " + soname_ + ", which lacks " + missing_ +
                                  " (a newer version is needed)";
  }

 private:
  SharedLibrary(void* handle, std::string soname, std::string why)
      : handle_(handle), soname_(std::move(soname)), why_(std::move(why)) {}
  void* handle_;
  std::string soname_;
  std::string why_;
  std::string missing_;
};

}  // namespace derma::common
