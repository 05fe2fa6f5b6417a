include(CMakePackageConfigHelpers)

install(TARGETS parley_shared parley_static EXPORT parleyTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
set_target_properties(parley_shared PROPERTIES EXPORT_NAME parley)
set_target_properties(parley_static PROPERTIES EXPORT_NAME parley_static)
install(DIRECTORY include/parley DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(TARGETS parley RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

set(PARLEY_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/parley)
install(EXPORT parleyTargets NAMESPACE parley:: DESTINATION ${PARLEY_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/parleyConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/parleyConfig.cmake INSTALL_DESTINATION ${PARLEY_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/parleyConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/parleyConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/parleyConfigVersion.cmake
        DESTINATION ${PARLEY_CMAKE_DIR} COMPONENT dev)

list(JOIN PARLEY_STATIC_LINK_NAMES " -l" PARLEY_PC_LIBS_PRIVATE)
set(PARLEY_PC_LIBS_PRIVATE "-l${PARLEY_PC_LIBS_PRIVATE}")
file(RELATIVE_PATH PARLEY_PC_PREFIX_FROM_PCDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(cmake/parley.pc.in ${CMAKE_CURRENT_BINARY_DIR}/parley.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/parley.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
