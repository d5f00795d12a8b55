# Compiler flags of the fuzz build (-DDERMA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-16), included
# by the top-level CMakeLists before any library, so that every library the fuzz targets link
# is instrumented for coverage (fuzzer-no-link) and checked by ASan + UBSan.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "DERMA_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-16")
endif()

# Clang 16 implements conditionally trivial special members (P0848) but still reports
# __cpp_concepts 201907L, and libstdc++ 12 hides <expected> unless it sees 202002L. Clang 16
# spells C++23 -std=c++2b (CMake picks it from CMAKE_CXX_STANDARD 23). Undefining the builtin
# first avoids the macro-redefined warning without switching that warning off.
add_compile_options(-U__cpp_concepts -D__cpp_concepts=202002L)

# The standard library's own bounds and precondition checks are extra oracles while fuzzing.
add_compile_options(-D_GLIBCXX_ASSERTIONS)
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)
