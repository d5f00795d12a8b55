// bench/common/shared_library.hpp: what a user reads when a library loaded on demand is
// missing or too old. (Its users, the PostgreSQL store and the certificate PDF, are tested
// through their own suites with the real libraries.)
#include "bench/common/shared_library.hpp"

#include <libpq-fe.h>

#include <catch2/catch.hpp>

using derma::common::SharedLibrary;

TEST_CASE("a library that cannot be loaded is named, with what needed it") {
  const auto library = SharedLibrary::open("libdermabench-absent.so.7", "a test of loading");
  REQUIRE_FALSE(library);
  CHECK_THAT(library.error(), Catch::Contains("a test of loading needs libdermabench-absent.so.7"));
  CHECK_THAT(library.error(), Catch::Contains("No such file"));
}

TEST_CASE("functions are found by name, and the missing ones are listed") {
  auto library = SharedLibrary::open("libpq.so.5", "a test of loading");
  REQUIRE(library);
  decltype(&PQlibVersion) version = nullptr;
  library->bind(version, "PQlibVersion");
  REQUIRE(version != nullptr);
  CHECK(version() == PQlibVersion());  // the same libpq the test links
  CHECK(library->error().empty());

  decltype(&PQlibVersion) absent = nullptr;
  library->bind(absent, "PQnoSuchFunction");
  library->bind(absent, "PQnorThisOne");
  CHECK(absent == nullptr);
  CHECK(library->error() ==
        "a test of loading needs libpq.so.5, which lacks PQnoSuchFunction, PQnorThisOne (a newer "
        "version is needed)");
}

TEST_CASE("a struct of functions loads whole, or not at all with the reason") {
  struct Functions {
    decltype(&::PQlibVersion) PQlibVersion;
  };
  const auto good = SharedLibrary::load<Functions>(
      "libpq.so.5", "a test of loading",
      [](SharedLibrary& library, Functions& f) { library.bind(f.PQlibVersion, "PQlibVersion"); });
  REQUIRE(good);
  CHECK(good->PQlibVersion() == PQlibVersion());

  const auto too_old = SharedLibrary::load<Functions>(
      "libpq.so.5", "a test of loading",
      [](SharedLibrary& library, Functions& f) { library.bind(f.PQlibVersion, "PQfuture"); });
  REQUIRE_FALSE(too_old);
  CHECK(too_old.error() ==
        "a test of loading needs libpq.so.5, which lacks PQfuture (a newer version is needed)");

  const auto absent = SharedLibrary::load<Functions>(
      "libdermabench-absent.so.7", "a test of loading", [](SharedLibrary&, Functions&) {});
  REQUIRE_FALSE(absent);
  CHECK_THAT(absent.error(), Catch::Contains("a test of loading needs libdermabench-absent.so.7"));
}
