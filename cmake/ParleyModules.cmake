# parley_module(NAME SOURCES a.cpp ... DEPENDS lower_module ...)
#
# Declares engine module parley_<NAME> as an OBJECT library. DEPENDS names the lower modules
# it may use; parley_module_closure() turns that into the full object list a test needs, so
# a module's tests link only that module and what lies beneath it.
add_library(parley_module_base INTERFACE)
target_include_directories(parley_module_base INTERFACE
  ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
# Test-only helpers (tests/support/) for test executables.
set(PARLEY_TEST_SUPPORT_DIR ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(parley_module_base INTERFACE ${PARLEY_ASIO_DEFINITIONS})
target_link_libraries(parley_module_base INTERFACE parley_deps)

function(parley_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPENDS" ${ARGN})
  set(target parley_${name})
  add_library(${target} OBJECT ${M_SOURCES})
  target_link_libraries(${target} PUBLIC parley_module_base)
  target_compile_definitions(${target} PRIVATE PARLEY_BUILDING)
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    PARLEY_DEPENDS "${M_DEPENDS}")
  parley_project_warnings(${target})
  if(PARLEY_BUILD_FUZZ)
    # Coverage for libFuzzer's guidance; without it a fuzzer sees only its harness.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
  set_property(GLOBAL APPEND PROPERTY PARLEY_MODULE_TARGETS ${target})
endfunction()

# Sets OUT to the object-library targets of MODULES and everything they depend on.
function(parley_module_closure out)
  set(result)
  set(pending ${ARGN})
  while(pending)
    list(POP_FRONT pending module)
    if(NOT parley_${module} IN_LIST result)
      list(APPEND result parley_${module})
      get_target_property(deps parley_${module} PARLEY_DEPENDS)
      if(deps)
        list(APPEND pending ${deps})
      endif()
    endif()
  endwhile()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

# parley_link_modules(TARGET m ...): builds the objects of modules m... and everything they
# depend on into TARGET, with the module include paths and definitions.
function(parley_link_modules target)
  parley_module_closure(objects ${ARGN})
  foreach(object_lib IN LISTS objects)
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:${object_lib}>)
  endforeach()
  target_link_libraries(${target} PRIVATE parley_module_base)
endfunction()

# parley_test_executable(NAME MODULES m ... SOURCES ...): a GoogleTest executable linked
# against just those modules' objects, its tests registered with ctest.
function(parley_test_executable name)
  cmake_parse_arguments(T "" "" "MODULES;SOURCES" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  parley_link_modules(${name} ${T_MODULES})
  target_link_libraries(${name} PRIVATE GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PARLEY_TEST_SUPPORT_DIR})
  parley_project_warnings(${name})
  # "parley_core_tests" -> tests named "core.Suite.Test", so `ctest -R core` selects them.
  string(REGEX REPLACE "^parley_(.*)_tests$" "\\1" prefix ${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${prefix}." PROPERTIES LABELS unit)
endfunction()
