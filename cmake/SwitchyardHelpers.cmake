# switchyard_library(NAME SOURCES ... DEPS ...): a static component library `switchyard_NAME`
# with the alias `switchyard::NAME`, the public include/ directory and src/ for internal headers.
function(switchyard_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(switchyard_${name} STATIC ${ARG_SOURCES})
  add_library(switchyard::${name} ALIAS switchyard_${name})
  target_include_directories(switchyard_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                                       ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(switchyard_${name} PUBLIC ${ARG_DEPS})
endfunction()

# switchyard_gtest(FILE DEPS ...): one ctest per unit-test file; the test is named after the file.
function(switchyard_gtest file)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  get_filename_component(name ${file} NAME_WE)
  add_executable(${name} ${file})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME unit.${name} COMMAND ${name})
endfunction()
