# Warnings, sanitizers and fuzzing flags, as an interface target every project target links.
add_library(iwf_build_options INTERFACE)
target_compile_options(iwf_build_options INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough)
if(IWF_WERROR)
  target_compile_options(iwf_build_options INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 false positives in Boost/fmt headers under -O2 (known GCC bugs 105329, 106199).
  target_compile_options(iwf_build_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict -Wno-array-bounds -Wno-stringop-overflow -Wno-maybe-uninitialized -Wno-null-dereference -Wno-dangling-pointer>)
endif()
target_include_directories(iwf_build_options INTERFACE ${PROJECT_SOURCE_DIR})

# lld when the machine has it (scripts/setup installs lld-14): it links a test executable of
# the ASan build in 1.0 s where GNU ld takes 2.5 s, and the build links ~140 of them.
include(CheckLinkerFlag)
check_linker_flag(CXX -fuse-ld=lld IWF_HAVE_LLD)
if(IWF_HAVE_LLD)
  target_link_options(iwf_build_options INTERFACE -fuse-ld=lld)
endif()

# IWF_TEST_CODE: set on the tests/ directory (tests/CMakeLists.txt) and inherited by every target
# below it. Under IWF_SANITIZE those targets' own sources are compiled with ASan but without
# UBSan: the code under test (every library they link) keeps both, and UBSan's checks in gtest
# bodies cost a third of each test file's compile time (floor_test.cpp: 19.4 -> 12.9 s) for
# nothing the tests are there to find. docs/developing.md "Sanitizers".
define_property(TARGET PROPERTY IWF_TEST_CODE INHERITED
  BRIEF_DOCS "test code: compiled without UBSan under IWF_SANITIZE" FULL_DOCS "see IwfOptions.cmake")
define_property(DIRECTORY PROPERTY IWF_TEST_CODE INHERITED
  BRIEF_DOCS "test code: compiled without UBSan under IWF_SANITIZE" FULL_DOCS "see IwfOptions.cmake")

if(IWF_SANITIZE)
  set(IWF_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  set(_iwf_product_code "$<NOT:$<BOOL:$<TARGET_PROPERTY:IWF_TEST_CODE>>>")
  target_compile_options(iwf_build_options INTERFACE -fsanitize=address -fno-omit-frame-pointer
    "$<${_iwf_product_code}:-fsanitize=undefined;-fno-sanitize-recover=undefined>")
  target_link_options(iwf_build_options INTERFACE ${IWF_SAN_FLAGS})
  target_compile_definitions(iwf_build_options INTERFACE IWF_SANITIZED=1)
endif()
# IWF_TEST_DEBUG_INFO=OFF: test code's own sources without debug info (-g0 after the build
# type's -g1); sanitizer reports keep file and line in the product code they exercise and
# function names in test code. scripts/test turns it off: 7 % of a test file's compile time.
if(NOT IWF_TEST_DEBUG_INFO)
  target_compile_options(iwf_build_options INTERFACE
    "$<$<BOOL:$<TARGET_PROPERTY:IWF_TEST_CODE>>:-g0>")
endif()

# ThreadSanitizer (scripts/test builds only the tests that start threads with it: unit_threads
# and the libraries it links). Not with IWF_SANITIZE: TSan and ASan do not combine.
if(IWF_TSAN)
  if(IWF_SANITIZE)
    message(FATAL_ERROR "IWF_TSAN=ON and IWF_SANITIZE=ON do not combine")
  endif()
  set(IWF_TSAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
  target_compile_options(iwf_build_options INTERFACE ${IWF_TSAN_FLAGS})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 warns that TSan does not model std::atomic_thread_fence, which Boost.Asio's
    # completion handlers use (boost/asio/detail/std_fenced_block.hpp); our own code has none.
    target_compile_options(iwf_build_options INTERFACE -Wno-tsan)
  endif()
  target_link_options(iwf_build_options INTERFACE ${IWF_TSAN_FLAGS})
  target_compile_definitions(iwf_build_options INTERFACE IWF_SANITIZED=1 IWF_TSAN=1)
endif()

if(IWF_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "IWF_FUZZ=ON needs clang (configure with CXX=clang++-14 CC=clang-14)")
  endif()
  # Instrument everything for coverage; only the fuzz executables link the libFuzzer main.
  # IWF_FUZZ_UBSAN=OFF (scripts/test's smoke run): ASan only, a quarter off every file of that
  # build; every committed corpus is replayed under ASan+UBSan by the GCC build's ctest
  # (fuzz_replay.*), and the long runs by hand keep UBSan (docs/developing.md "Fuzzing").
  if(IWF_FUZZ_UBSAN)
    set(_iwf_fuzz_san address,undefined)
  else()
    set(_iwf_fuzz_san address)
  endif()
  target_compile_options(iwf_build_options INTERFACE -fsanitize=fuzzer-no-link,${_iwf_fuzz_san} -fno-omit-frame-pointer)
  target_link_options(iwf_build_options INTERFACE -fsanitize=${_iwf_fuzz_san})
endif()
