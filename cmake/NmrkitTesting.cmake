# SPDX-License-Identifier: MIT
# nmrkit_add_test_program(<program> LABEL <label> SOURCES <files...> [LIBRARIES <libs...>])
# Builds one test program from nmr_test.h-style sources and registers one ctest entry per
# NMR_TEST(<name>) found in the sources, named <label>.<name> and labelled <label>, and two
# per NMR_ROLE_TEST(<pattern>), one for each role.

include_guard(GLOBAL)

function(nmrkit_add_test_program program)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;LIBRARIES;EXTRA_LABELS" ${ARGN})
  if(NOT ARG_LABEL)
    message(FATAL_ERROR "nmrkit_add_test_program(${program}): LABEL is required")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  add_executable(${program} ${ARG_SOURCES})
  nmrkit_target_defaults(${program})
  target_link_libraries(${program} PRIVATE nmrkit_test_harness ${ARG_LIBRARIES})
  set(count 0)
  foreach(source IN LISTS ARG_SOURCES)
    get_filename_component(path "${source}" ABSOLUTE)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")
    file(STRINGS "${path}" lines REGEX "^NMR_(ROLE_)?TEST\\([A-Za-z0-9_]+\\)")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^NMR_(ROLE_)?TEST\\(([A-Za-z0-9_]+)\\).*" "\\2" pattern "${line}")
      if(line MATCHES "^NMR_ROLE_TEST")
        # One test per role: ROLE is the role under test, PEER the other (nmr_test.h).
        string(REPLACE "ROLE" "@1" pattern "${pattern}")
        string(REPLACE "PEER" "@2" pattern "${pattern}")
        string(REPLACE "@1" "client" client_name "${pattern}")
        string(REPLACE "@2" "provider" client_name "${client_name}")
        string(REPLACE "@1" "provider" provider_name "${pattern}")
        string(REPLACE "@2" "client" provider_name "${provider_name}")
        set(names ${client_name} ${provider_name})
      else()
        set(names ${pattern})
      endif()
      foreach(name IN LISTS names)
        add_test(NAME ${ARG_LABEL}.${name} COMMAND ${program} ${name})
        set_tests_properties(${ARG_LABEL}.${name} PROPERTIES
          LABELS "${ARG_LABEL};${ARG_EXTRA_LABELS}" TIMEOUT ${ARG_TIMEOUT}
          SKIP_RETURN_CODE 77) # NMR_TEST_SKIPPED
        math(EXPR count "${count} + 1")
      endforeach()
    endforeach()
  endforeach()
  if(count EQUAL 0)
    message(FATAL_ERROR "nmrkit_add_test_program(${program}): no NMR_TEST(...) in the sources")
  endif()
endfunction()
