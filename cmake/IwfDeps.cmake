# Every dependency comes from a Debian 12 package (scripts/setup installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
# yaml-cpp: the keymap's YAML export (keymap/yaml_import.cpp exportKeymapYaml) only.
find_package(yaml-cpp REQUIRED)
find_package(pugixml REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(OSMOCORE REQUIRED IMPORTED_TARGET libosmocore)
pkg_check_modules(OSIP2 REQUIRED IMPORTED_TARGET libosip2)
# libyaml (Debian libyaml-dev): every YAML file read (common/yaml_doc.cpp, under ConfigNode).
pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)
# libpcap (Debian libpcap-dev): reads pcapng for `iwfctl decode` (common/pcap.cpp).
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
# libsrtp2 (Debian libsrtp2-dev): 3GPP SRTP/SRTCP on IWF-1 (TS 33.180), mc_adapters/security.
pkg_check_modules(SRTP2 REQUIRED IMPORTED_TARGET libsrtp2)
# AMR-WB encode (libvo-amrwbenc-dev), decode (libopencore-amrwb-dev), resampling and jitter
# buffer (libspeexdsp-dev): the analogue family's speech path, media/.
pkg_check_modules(VOAMRWBENC REQUIRED IMPORTED_TARGET vo-amrwbenc)
pkg_check_modules(OPENCOREAMRWB REQUIRED IMPORTED_TARGET opencore-amrwb)
pkg_check_modules(SPEEXDSP REQUIRED IMPORTED_TARGET speexdsp)
# G.711 µ-law / A-law companding (libspandsp-dev): the analog-rtp link, media/g711.cpp.
pkg_check_modules(SPANDSP REQUIRED IMPORTED_TARGET spandsp)
if(IWF_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(IWF_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Boost.Asio/Beast as one interface target. Boost 1.74's awaitable.hpp uses std::exchange
# without <utility>; common/asio.hpp includes <utility> first and is the only way in.
add_library(iwf_asio INTERFACE)
target_link_libraries(iwf_asio INTERFACE Boost::headers Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
target_compile_definitions(iwf_asio INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_STD_ALIGNED_ALLOC)

# yaml-cpp 0.7 in Debian exports the target as "yaml-cpp".
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
find_package(nlohmann_json 3.11 REQUIRED)
