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

# switchyard_python_tests(LABEL TIMEOUT ENV...): one ctest per test_*.py file of the calling
# folder, named LABEL.<file>, run as `python3 -m unittest -v <file>` in that folder against the
# real `switchyard` binary (SWITCHYARD_BIN), with the extra ENV entries ("NAME=value").
function(switchyard_python_tests label timeout)
  find_package(Python3 COMPONENTS Interpreter)
  if(NOT Python3_Interpreter_FOUND)
    message(STATUS "python3 not found: ${label} tests disabled")
    return()
  endif()
  if(TARGET switchyard)
    set(bin $<TARGET_FILE:switchyard>)
  else()
    set(bin ${CMAKE_BINARY_DIR}/bin/switchyard)
  endif()
  set(environment "SWITCHYARD_BIN=${bin};SWITCHYARD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  list(APPEND environment "PYTHONDONTWRITEBYTECODE=1" ${ARGN})
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.py)
  foreach(test_file ${tests})
    get_filename_component(name ${test_file} NAME_WE)
    add_test(NAME ${label}.${name}
             COMMAND ${Python3_EXECUTABLE} -m unittest -v ${name}
             WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
    set_tests_properties(${label}.${name} PROPERTIES
      ENVIRONMENT "${environment}" TIMEOUT ${timeout} LABELS ${label})
  endforeach()
endfunction()
