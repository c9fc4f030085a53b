# switchyard_library(NAME SOURCES ... DEPS ...): a static component library `switchyard_NAME`
# with the alias `switchyard::NAME` and the public include/ directory.
#
# Layering: a library sees the internal headers (`core/status.h`, `ipc/channel.h`, ...) of its
# own component (its top folder under src/) and of the components of the switchyard libraries in
# DEPS; through those, of what they link in turn; and of no others. Its include path gets a
# folder of the build tree, layers/NAME, that holds a link to each of those component folders
# (made at the end of configuring, switchyard_make_layers), not src/ as a whole: an include of a
# component it does not link fails to compile. docs/architecture.md draws the arrows.
function(switchyard_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(switchyard_${name} STATIC ${ARG_SOURCES})
  add_library(switchyard::${name} ALIAS switchyard_${name})
  file(RELATIVE_PATH where ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  set(component "")
  if(NOT where MATCHES "^\\.\\.")
    string(REGEX REPLACE "/.*" "" component "${where}")
  endif()
  set_property(GLOBAL APPEND PROPERTY SWITCHYARD_LIBRARIES ${name})
  set_property(GLOBAL PROPERTY SWITCHYARD_COMPONENT_${name} "${component}")
  set_property(GLOBAL PROPERTY SWITCHYARD_DEPS_${name} "${ARG_DEPS}")
  target_include_directories(switchyard_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                                       ${CMAKE_BINARY_DIR}/layers/${name})
  target_link_libraries(switchyard_${name} PUBLIC ${ARG_DEPS})
endfunction()

# Makes each library's layers/NAME folder (see switchyard_library). Called once, after every
# library is defined.
function(switchyard_make_layers)
  get_property(libraries GLOBAL PROPERTY SWITCHYARD_LIBRARIES)
  foreach(name ${libraries})
    get_property(components GLOBAL PROPERTY SWITCHYARD_COMPONENT_${name})
    get_property(deps GLOBAL PROPERTY SWITCHYARD_DEPS_${name})
    foreach(dep ${deps})
      if(dep MATCHES "^switchyard::(.+)$")
        get_property(dep_component GLOBAL PROPERTY SWITCHYARD_COMPONENT_${CMAKE_MATCH_1})
        list(APPEND components ${dep_component})
      endif()
    endforeach()
    list(REMOVE_DUPLICATES components)
    set(layer ${CMAKE_BINARY_DIR}/layers/${name})
    file(REMOVE_RECURSE ${layer})
    file(MAKE_DIRECTORY ${layer})
    foreach(component ${components})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${component} ${layer}/${component} SYMBOLIC)
    endforeach()
  endforeach()
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
