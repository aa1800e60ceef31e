# SPDX-License-Identifier: MIT
# nmrkit_add_fuzz_target(<name> SOURCES <files...> [LIBRARIES <libs...>] [RUNS <n>] [TIMEOUT <s>])
#
# One function for every fuzz target; names are the registry: <name> is the basename of
# the target's main source (<name>.c must be among SOURCES), its corpus directory
# corpus/<name>/ (must exist and hold at least one input) and the basename of the optional
# fuzz/<name>.dict and fuzz/<name>.options. It defines:
#   <name>_replay  always: SOURCES + fuzz/fuzz_replay_main.c, no fuzzing runtime (gcc or
#                  clang); replays files/directories, each RUNS times, comparing trace hashes
#   <name>         only with NMRKIT_FUZZ (clang): SOURCES linked with NMRKIT_LIB_FUZZING_ENGINE
#                  (default -fsanitize=fuzzer)
#   fuzz.replay.<name>  ctest (label "fuzz") replaying every file of corpus/<name>/
#   fuzz.roundtrip.<name>  ctest (label "fuzz"): for every file of corpus/<name>/ and 200
#                  pseudo-random inputs, the printed timeline encodes back into an input with
#                  the same timeline and trace hash
#   fuzz.examples.<name>  ctest (label "fuzz"), when fuzz/examples/<name>-*.txt exist: the
#                  hand-written text inputs encode, replay deterministically and round-trip
#                  (<name>-*.fibers.txt only with NMRKIT_SCHEDULER=fibers: they hold
#                  scheduling decisions, which only the fiber scheduler asks for)
# and appends one line to the manifest ${nmrkit_BINARY_DIR}/fuzz/targets.tsv (the top-level
# build directory's fuzz/targets.tsv), which is rewritten at every configure:
#   name <TAB> fuzzer binary or - <TAB> replay binary <TAB> corpus dir <TAB> options file or -
# Binaries are placed in ${nmrkit_BINARY_DIR}/fuzz for every configuration, so the manifest
# paths are exact at configure time.

include_guard(GLOBAL)

# How a fuzzer binary links its fuzzing engine: libFuzzer by default. OSS-Fuzz and
# ClusterFuzzLite builds (.clusterfuzzlite/build.sh) pass their $LIB_FUZZING_ENGINE: libFuzzer
# flags or a driver library such as AFL++'s libAFLDriver.a.
set(NMRKIT_LIB_FUZZING_ENGINE "-fsanitize=fuzzer" CACHE STRING
    "Link flags (or library path) of the fuzzing engine of fuzz targets (OSS-Fuzz's \$LIB_FUZZING_ENGINE)")

set(NMRKIT_FUZZ_SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/../fuzz")
get_filename_component(NMRKIT_FUZZ_SOURCE_DIR "${NMRKIT_FUZZ_SOURCE_DIR}" ABSOLUTE)

# Start a fresh manifest once per configure run.
function(nmrkit_fuzz_manifest_path out_var)
  set(${out_var} "${nmrkit_BINARY_DIR}/fuzz/targets.tsv" PARENT_SCOPE)
endfunction()

function(nmrkit_fuzz_manifest_reset)
  nmrkit_fuzz_manifest_path(manifest)
  get_property(done GLOBAL PROPERTY NMRKIT_FUZZ_MANIFEST_STARTED)
  if(NOT done)
    file(WRITE "${manifest}" "")
    set_property(GLOBAL PROPERTY NMRKIT_FUZZ_MANIFEST_STARTED TRUE)
  endif()
endfunction()

# Put a fuzz binary in ${nmrkit_BINARY_DIR}/fuzz whatever the generator's configurations.
function(nmrkit_fuzz_output_directory target)
  set(dir "${nmrkit_BINARY_DIR}/fuzz")
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${dir}")
  foreach(config IN LISTS CMAKE_CONFIGURATION_TYPES CMAKE_BUILD_TYPE)
    if(config)
      string(TOUPPER "${config}" config_upper)
      set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY_${config_upper} "${dir}")
    endif()
  endforeach()
endfunction()

function(nmrkit_add_fuzz_target name)
  cmake_parse_arguments(ARG "" "RUNS;TIMEOUT" "SOURCES;LIBRARIES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nmrkit_add_fuzz_target(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^fuzz_[a-z0-9_]+$")
    message(FATAL_ERROR "nmrkit_add_fuzz_target(${name}): names are fuzz_<surface> (lower_snake_case)")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "nmrkit_add_fuzz_target(${name}): SOURCES is required")
  endif()
  if(NOT ARG_RUNS)
    set(ARG_RUNS 4)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()

  # Names are the registry: <name>.c is a source, corpus/<name>/ holds its inputs.
  set(sources "")
  set(has_main_source FALSE)
  foreach(source IN LISTS ARG_SOURCES)
    get_filename_component(path "${source}" ABSOLUTE)
    get_filename_component(base "${path}" NAME)
    if(base STREQUAL "${name}.c")
      set(has_main_source TRUE)
      set(main_source "${path}")
    endif()
    list(APPEND sources "${path}")
  endforeach()
  if(NOT has_main_source)
    message(FATAL_ERROR "nmrkit_add_fuzz_target(${name}): the target's source must be named ${name}.c")
  endif()
  set(corpus "${PROJECT_SOURCE_DIR}/corpus/${name}")
  file(GLOB corpus_files LIST_DIRECTORIES false "${corpus}/*")
  if(NOT IS_DIRECTORY "${corpus}" OR NOT corpus_files)
    message(FATAL_ERROR "nmrkit_add_fuzz_target(${name}): corpus/${name}/ must exist and hold at "
                        "least one input (the replay test runs every file in it)")
  endif()
  set(options_file "${NMRKIT_FUZZ_SOURCE_DIR}/${name}.options")
  if(NOT EXISTS "${options_file}")
    set(options_file "-")
  endif()

  # (a) replay program: no fuzzing runtime, builds with gcc and clang.
  add_executable(${name}_replay ${sources} "${NMRKIT_FUZZ_SOURCE_DIR}/fuzz_replay_main.c")
  nmrkit_target_defaults(${name}_replay)
  target_link_libraries(${name}_replay PRIVATE nmrkit_harness ${ARG_LIBRARIES})
  nmrkit_fuzz_output_directory(${name}_replay)

  # (b) libFuzzer binary.
  set(fuzzer_path "-")
  if(NMRKIT_FUZZ)
    add_executable(${name} ${sources})
    nmrkit_target_defaults(${name})
    target_link_libraries(${name} PRIVATE nmrkit_harness ${ARG_LIBRARIES})
    separate_arguments(engine NATIVE_COMMAND "${NMRKIT_LIB_FUZZING_ENGINE}")
    target_link_options(${name} PRIVATE ${engine})
    nmrkit_fuzz_model_coverage(${name} "${main_source}")
    nmrkit_fuzz_output_directory(${name})
    set(fuzzer_path "${nmrkit_BINARY_DIR}/fuzz/${name}${CMAKE_EXECUTABLE_SUFFIX}")
  endif()

  # (c) every committed input is a regression test, in every build.
  add_test(NAME fuzz.replay.${name} COMMAND ${name}_replay -runs=${ARG_RUNS} "${corpus}")
  set_tests_properties(fuzz.replay.${name} PROPERTIES LABELS fuzz TIMEOUT ${ARG_TIMEOUT})
  # ... gives the same trace in another process (no address or clock in the trace) ...
  find_program(NMRKIT_BASH bash)
  if(NMRKIT_BASH)
    add_test(NAME fuzz.two_processes.${name}
             COMMAND ${NMRKIT_BASH} "${NMRKIT_FUZZ_SOURCE_DIR}/replay_in_two_processes.sh"
                     "$<TARGET_FILE:${name}_replay>" "${corpus}")
    set_tests_properties(fuzz.two_processes.${name} PROPERTIES LABELS fuzz TIMEOUT ${ARG_TIMEOUT})
  endif()
  # ... and its text form (printer and encoder) round-trips.
  add_test(NAME fuzz.roundtrip.${name} COMMAND ${name}_replay -runs=2 -roundtrip -random=200
                                                 "${corpus}")
  set_tests_properties(fuzz.roundtrip.${name} PROPERTIES LABELS fuzz TIMEOUT ${ARG_TIMEOUT})
  # Hand-written text inputs (fuzz/examples/<name>-<slug>.txt).
  file(GLOB examples LIST_DIRECTORIES false CONFIGURE_DEPENDS
       "${NMRKIT_FUZZ_SOURCE_DIR}/examples/${name}-*.txt")
  if(NOT NMRKIT_SCHEDULER STREQUAL "fibers")
    list(FILTER examples EXCLUDE REGEX "\\.fibers\\.txt$")
  endif()
  if(examples)
    list(SORT examples)
    add_test(NAME fuzz.examples.${name} COMMAND ${name}_replay -runs=2 -text -roundtrip ${examples})
    set_tests_properties(fuzz.examples.${name} PROPERTIES LABELS fuzz TIMEOUT ${ARG_TIMEOUT})
  endif()

  # (d) manifest line for ./nmrkit fuzz.
  nmrkit_fuzz_manifest_reset()
  nmrkit_fuzz_manifest_path(manifest)
  set(replay_path "${nmrkit_BINARY_DIR}/fuzz/${name}_replay${CMAKE_EXECUTABLE_SUFFIX}")
  file(APPEND "${manifest}" "${name}\t${fuzzer_path}\t${replay_path}\t${corpus}\t${options_file}\n")
endfunction()
