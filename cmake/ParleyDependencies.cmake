# System dependencies (all from Debian 12 packages, see scripts/setup).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
find_package(simdjson 3 REQUIRED)
pkg_check_modules(POCKETSPHINX REQUIRED IMPORTED_TARGET pocketsphinx)
pkg_check_modules(ESPEAK_NG REQUIRED IMPORTED_TARGET espeak-ng)

# Asio and Beast are compiled once, in src/net/asio_impl.cpp, instead of in every
# translation unit that includes them.
set(PARLEY_ASIO_DEFINITIONS
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)

add_library(parley_deps INTERFACE)
target_link_libraries(parley_deps INTERFACE
  Boost::headers nlohmann_json::nlohmann_json spdlog::spdlog CURL::libcurl
  OpenSSL::SSL OpenSSL::Crypto PkgConfig::SOXR simdjson::simdjson
  PkgConfig::POCKETSPHINX PkgConfig::ESPEAK_NG Threads::Threads ${CMAKE_DL_LIBS})

# What a program linking libparley.a must add; mirrored in parley.pc's Libs.private.
set(PARLEY_STATIC_LINK_NAMES spdlog fmt curl ssl crypto soxr simdjson
  pocketsphinx sphinxbase sphinxad espeak-ng pthread dl)
