# iwf_add_library(NAME DIR): one static library from every .cpp under DIR (recursively),
# excluding app/ folders (thin executables live there). CONFIGURE_DEPENDS re-globs on build.
# Extra arguments are regexes of paths to leave out (e.g. a sub-folder that is its own library).
function(iwf_add_library name dir)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  list(FILTER _srcs EXCLUDE REGEX "/app/")
  foreach(_ex ${ARGN})
    list(FILTER _srcs EXCLUDE REGEX "${_ex}")
  endforeach()
  if(_srcs)
    add_library(${name} STATIC ${_srcs})
    target_link_libraries(${name} PUBLIC iwf_build_options)
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE iwf_build_options)
  endif()
endfunction()

# iwf_link(NAME VISIBILITY LIBS...): link honouring INTERFACE libraries (no sources yet).
function(iwf_link name)
  get_target_property(_type ${name} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    target_link_libraries(${name} INTERFACE ${ARGN})
  else()
    target_link_libraries(${name} PUBLIC ${ARGN})
  endif()
endfunction()

# Add every direct subfolder of the current source dir that has a CMakeLists.txt.
function(iwf_add_subdirs)
  file(GLOB _children LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT _children)
  foreach(_c ${_children})
    if(IS_DIRECTORY ${_c} AND EXISTS ${_c}/CMakeLists.txt)
      add_subdirectory(${_c})
    endif()
  endforeach()
endfunction()

# iwf_add_unit_tests(NAME DIR LIBS...): one gtest executable from DIR/*_test.cpp, each test
# registered with ctest (gtest_discover_tests).
function(iwf_add_gtest name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS;PROPERTIES" ${ARGN})
  if(NOT A_SOURCES)
    message(STATUS "${name}: no test sources yet")
    return()
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS} GTest::gmock GTest::gtest GTest::gtest_main iwf_build_options)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${A_PROPERTIES})
endfunction()

# iwf_add_fuzz_target(NAME SOURCE LIBS...): a libFuzzer target (IWF_FUZZ=ON, clang) or, under
# any other build, a replay executable that feeds every file of tests/fuzz/corpus/NAME to the
# same LLVMFuzzerTestOneInput, registered as a ctest.
function(iwf_add_fuzz_target name source)
  set(_corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  if(IWF_FUZZ)
    add_executable(fuzz_${name} ${source})
    target_link_libraries(fuzz_${name} PRIVATE ${ARGN} iwf_build_options)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${name} ${source} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
    target_link_libraries(fuzz_${name} PRIVATE ${ARGN} iwf_build_options)
    add_test(NAME fuzz_replay.${name} COMMAND fuzz_${name} ${_corpus})
  endif()
endfunction()
