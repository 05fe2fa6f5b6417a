# CPack: the C/C++ packages, made from the install rules in ParleyInstall.cmake.
#
#   cpack -G "DEB;TGZ" -B packages      (in a build dir; packaging/cpack/build.sh does this)
#
# .deb: two packages, split along the install components (docs/packaging.md says why):
#   parley      (component runtime)  /usr/lib/libparley.so.0*, /usr/bin/parley
#   parley-dev  (component dev)      headers, libparley.so, libparley.a, CMake package, parley.pc
# Depends come from dpkg-shlibdeps; parley-dev depends on the same version of parley and
# recommends the -dev packages that static linking (libparley.a) needs.
# .tar.gz: one relocatable archive with both components under parley-<version>-linux-<arch>/.
# The version is PROJECT_VERSION, i.e. the top-level VERSION file.

set(CPACK_PACKAGE_NAME parley)
set(CPACK_PACKAGE_VENDOR "Parley contributors")
set(CPACK_PACKAGE_CONTACT "Parley contributors <parley@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
  "Parley answers phone and web calls (Twilio Media Streams, AudioSocket, browsers, a host\n"
  "transport), streams caller audio through speech-to-text, a language model and\n"
  "text-to-speech, and exposes everything through a stable C ABI (parley.h).")
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/packages")
# Shared libraries and executables lose their symbol tables (debug info is not built in
# Release anyway); libparley.a is left as it is.
set(CPACK_STRIP_FILES ON)
set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_THREADS 2)

string(TOLOWER "${CMAKE_SYSTEM_NAME}" parley_system)
set(CPACK_PACKAGE_FILE_NAME "parley-${PROJECT_VERSION}-${parley_system}-${CMAKE_SYSTEM_PROCESSOR}")

# ---- components (the COMPONENT names used by the install() rules) ----------------------
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_COMPONENT_RUNTIME_DISPLAY_NAME "Parley runtime")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "libparley.so.${PROJECT_VERSION_MAJOR} and the parley command-line tool")
set(CPACK_COMPONENT_DEV_DISPLAY_NAME "Parley development files")
set(CPACK_COMPONENT_DEV_DESCRIPTION "parley.h, libparley.so, libparley.a, the CMake package and parley.pc")
set(CPACK_COMPONENT_DEV_DEPENDS runtime)

# ---- .tar.gz: everything in one archive ---------------------------------------------------
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)

# ---- .deb -----------------------------------------------------------------------------
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)             # Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)       # a shlibs file: others' shlibdeps find us
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)      # parley-dev Depends: parley (= version)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME parley)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# The local speech providers read their data from these packages at run time (espeak-ng's
# library already depends on espeak-ng-data; pocketsphinx's only recommends its model).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "pocketsphinx-en-us")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME parley-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# Linking the shared library needs nothing more; linking libparley.a (parley::parley_static,
# pkg-config --static) needs the -dev package of every library in parley.pc's Libs.private.
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS
  "libspdlog-dev, libfmt-dev, libcurl4-openssl-dev, libssl-dev, libsoxr-dev, libsimdjson-dev, libpocketsphinx-dev, libsphinxbase-dev, libespeak-ng-dev, pkg-config")

include(CPack)
