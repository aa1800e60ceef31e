# SPDX-License-Identifier: MIT
# Fuzzing users' drivers (docs/fuzz-your-driver.md):
#
#   nmrkit_add_driver(<name> SOURCES <files...> [INCLUDE_DIRECTORIES <dirs...>]
#                     [COMPILE_DEFINITIONS <defs...>] [REGISTRY <fixture file>])
#     Compiles a driver's unchanged WDK C (it includes <ntddk.h> or <wdm.h> and <netioddk.h>,
#     defines DriverEntry, sets DriverObject->DriverUnload, and may define
#     NmrkitDriverExercise) into one relocatable object whose symbols are private: every
#     global becomes local except DriverEntry and NmrkitDriverExercise, renamed
#     nmrkit_driver_<name>_*, and its calls to the NMR, to pool allocation and to the
#     routines that queue work go to per-driver thunks (harness/driver_fuzzer.h). So several
#     drivers with the same symbol names link into one fuzzer.
#
#   nmrkit_add_driver_fuzzer(<target> DRIVERS <name>... [STRICT] [RULES <rule>=<off|warn|stop>...])
#     <target>_replay always (any compiler; replays files, -print shows the timeline) and,
#     with NMRKIT_ENGINE=libfuzzer, the libFuzzer binary <target>. Both are placed in the
#     calling directory's binary directory and listed in the fuzz target manifest
#     (${nmrkit_BINARY_DIR}/fuzz/targets.tsv; corpus: <calling source dir>/corpus/<target>,
#     used when it exists), unless NMRKIT_DRIVER_FUZZER_MANIFEST is OFF in the calling
#     directory (the bug gallery, whose fuzzers are meant to crash). When corpus/<target>/
#     holds inputs, the ctests fuzz.replay.<target> and fuzz.roundtrip.<target> (label fuzz)
#     replay them, and check that their printed timelines encode back into the same runs.

include_guard(GLOBAL)
include(NmrkitFuzz)

set(NMRKIT_DRIVER_HARNESS_DIR "${CMAKE_CURRENT_LIST_DIR}/../harness")
get_filename_component(NMRKIT_DRIVER_HARNESS_DIR "${NMRKIT_DRIVER_HARNESS_DIR}" ABSOLUTE)

# The symbols a driver's calls are redirected from (one list, in harness/driver_fuzzer.h).
file(READ "${NMRKIT_DRIVER_HARNESS_DIR}/driver_fuzzer.h" _nmrkit_driver_header)
string(REGEX MATCH "NMRKIT_DRIVER_REDIRECTED_SYMBOLS_BEGIN\n([^ ]*)\n *NMRKIT_DRIVER_REDIRECTED_SYMBOLS_END"
       _nmrkit_match "${_nmrkit_driver_header}")
string(REPLACE "\n" ";" _nmrkit_symbols "${CMAKE_MATCH_1}")
if(NOT _nmrkit_symbols)
  message(FATAL_ERROR "harness/driver_fuzzer.h: no NMRKIT_DRIVER_REDIRECTED_SYMBOLS list")
endif()
# A global property: the functions below run in the caller's scope, which may be a parent
# project's directory (add_subdirectory(nmrkit)), where this file's variables do not reach.
set_property(GLOBAL PROPERTY NMRKIT_DRIVER_REDIRECTED_SYMBOLS "${_nmrkit_symbols}")
unset(_nmrkit_symbols)
unset(_nmrkit_driver_header)
unset(_nmrkit_match)

# The instrumentation nmrkit's own directories get, for a target of any directory.
function(nmrkit_driver_instrument target)
  if(NMRKIT_SANITIZERS)
    list(JOIN NMRKIT_SANITIZERS "," san)
    target_compile_options(${target} PRIVATE -fsanitize=${san} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${san})
  endif()
  if(NMRKIT_COVERAGE)
    target_compile_options(${target} PRIVATE -fprofile-instr-generate -fcoverage-mapping)
    target_link_options(${target} PRIVATE -fprofile-instr-generate)
  endif()
endfunction()

function(nmrkit_add_driver name)
  cmake_parse_arguments(ARG "" "REGISTRY" "SOURCES;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nmrkit_add_driver(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "nmrkit_add_driver(${name}): a driver name is a C identifier")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "nmrkit_add_driver(${name}): SOURCES is required")
  endif()
  get_property(defined GLOBAL PROPERTY NMRKIT_DRIVER_${name}_OBJECT SET)
  if(defined)
    message(FATAL_ERROR "nmrkit_add_driver(${name}): a driver of that name already exists")
  endif()
  if(NOT CMAKE_OBJCOPY OR NOT CMAKE_LINKER)
    message(FATAL_ERROR "nmrkit_add_driver(${name}): needs a linker (ld -r) and objcopy "
                        "(binutils or llvm) to keep each driver's symbols private")
  endif()

  set(objects nmrkit_driver_${name}_objects)
  add_library(${objects} OBJECT ${ARG_SOURCES})
  set_target_properties(${objects} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON
                                              C_EXTENSIONS ON POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(${objects} PRIVATE nmr kshim)
  if(TARGET nmrkit_driver_dialect)
    target_link_libraries(${objects} PRIVATE nmrkit_driver_dialect)
  elseif(CMAKE_C_COMPILER_ID MATCHES "Clang|GNU")
    target_compile_options(${objects} PRIVATE -Wno-multichar) # pool tags: 'gaT1'
  endif()
  if(ARG_INCLUDE_DIRECTORIES)
    target_include_directories(${objects} PRIVATE ${ARG_INCLUDE_DIRECTORIES})
  endif()
  if(ARG_COMPILE_DEFINITIONS)
    target_compile_definitions(${objects} PRIVATE ${ARG_COMPILE_DEFINITIONS})
  endif()
  nmrkit_driver_instrument(${objects})
  nmrkit_driver_wpp(${objects})
  if(ARG_REGISTRY)
    get_filename_component(registry "${ARG_REGISTRY}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${registry}")
      message(FATAL_ERROR "nmrkit_add_driver(${name}): REGISTRY file ${registry} does not exist")
    endif()
    set_property(GLOBAL PROPERTY NMRKIT_DRIVER_${name}_REGISTRY "${registry}")
  endif()

  set(prefix nmrkit_driver_${name}_)
  set(merged "${CMAKE_CURRENT_BINARY_DIR}/${prefix}merged.o")
  set(private "${CMAKE_CURRENT_BINARY_DIR}/${prefix}private.o")
  set(renames
      --redefine-sym DriverEntry=${prefix}DriverEntry
      --redefine-sym NmrkitDriverExercise=${prefix}NmrkitDriverExercise
      # binutils matches the new names, llvm-objcopy the old ones: name both.
      --keep-global-symbol=DriverEntry
      --keep-global-symbol=NmrkitDriverExercise
      --keep-global-symbol=${prefix}DriverEntry
      --keep-global-symbol=${prefix}NmrkitDriverExercise
      # Writable data in sections of the driver's own, so that the harness can give every
      # load a fresh image (__start_/__stop_ symbols, harness/driver_fuzzer.h).
      --rename-section .data=nmrkit_data_${name}
      --rename-section .data.rel=nmrkit_datarel_${name}
      --rename-section .data.rel.local=nmrkit_datalocal_${name}
      --rename-section .bss=nmrkit_bss_${name})
  get_property(redirected GLOBAL PROPERTY NMRKIT_DRIVER_REDIRECTED_SYMBOLS)
  foreach(symbol IN LISTS redirected)
    list(APPEND renames --redefine-sym ${symbol}=${prefix}${symbol})
  endforeach()
  add_custom_command(
    OUTPUT "${private}"
    COMMAND "${CMAKE_LINKER}" -r -o "${merged}" "$<TARGET_OBJECTS:${objects}>"
    COMMAND "${CMAKE_OBJCOPY}" ${renames} "${merged}" "${private}"
    DEPENDS ${objects} "$<TARGET_OBJECTS:${objects}>"
    COMMENT "Driver ${name}: one object, private symbols"
    COMMAND_EXPAND_LISTS VERBATIM)
  add_custom_target(nmrkit_driver_${name} DEPENDS "${private}")
  set_property(GLOBAL PROPERTY NMRKIT_DRIVER_${name}_OBJECT "${private}")
endfunction()

function(nmrkit_add_driver_fuzzer target)
  cmake_parse_arguments(ARG "STRICT" "" "DRIVERS;RULES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nmrkit_add_driver_fuzzer(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT target MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "nmrkit_add_driver_fuzzer(${target}): a fuzzer name is a C identifier")
  endif()
  list(LENGTH ARG_DRIVERS driver_count)
  if(driver_count EQUAL 0 OR driver_count GREATER 8)
    message(FATAL_ERROR "nmrkit_add_driver_fuzzer(${target}): DRIVERS takes 1 to 8 drivers")
  endif()
  foreach(rule IN LISTS ARG_RULES)
    if(NOT rule MATCHES "^(R[1-9]|R10|A[1-9]|D[1-9]|D11|D5\\.early|U[1-3])=(off|warn|stop)$")
      message(FATAL_ERROR "nmrkit_add_driver_fuzzer(${target}): RULES entry '${rule}' is not "
                          "<rule>=off|warn|stop (rules: docs/fuzz-your-driver.md)")
    endif()
  endforeach()

  set(declarations "")
  set(table "")
  set(objects "")
  set(index 0)
  foreach(driver IN LISTS ARG_DRIVERS)
    get_property(object GLOBAL PROPERTY NMRKIT_DRIVER_${driver}_OBJECT)
    if(NOT object)
      message(FATAL_ERROR "nmrkit_add_driver_fuzzer(${target}): no driver '${driver}' "
                          "(declare it with nmrkit_add_driver first)")
    endif()
    set(p nmrkit_driver_${driver}_)
    string(APPEND declarations
           "DRIVER_INITIALIZE ${p}DriverEntry;\n"
           "__attribute__((weak)) nmrkit_driver_exercise_fn ${p}NmrkitDriverExercise;\n"
           "NMRKIT_DRIVER_THUNKS(${p}, ${index})\n"
           "NMRKIT_DRIVER_SECTIONS(${driver})\n")
    get_property(registry GLOBAL PROPERTY NMRKIT_DRIVER_${driver}_REGISTRY)
    if(registry)
      set(registry "\"${registry}\"")
    else()
      set(registry NULL)
    endif()
    string(APPEND table "    {\"${driver}\", ${p}DriverEntry, ${p}NmrkitDriverExercise, "
                        "NMRKIT_DRIVER_IMAGE(${driver}), ${registry}},\n")
    list(APPEND objects "${object}")
    math(EXPR index "${index} + 1")
  endforeach()
  set(strict false)
  if(ARG_STRICT)
    set(strict true)
  endif()
  list(JOIN ARG_RULES ";" rules)
  set(generated "${CMAKE_CURRENT_BINARY_DIR}/${target}_drivers.c")
  file(CONFIGURE OUTPUT "${generated}" @ONLY CONTENT
"/* Generated by nmrkit_add_driver_fuzzer(${target}); do not edit. */
#include <driver_fuzzer.h>
#include <kshim/kshim.h>

${declarations}
static const nmrkit_driver_image_t drivers[] = {
${table}};

static const nmrkit_driver_fuzzer_t fuzzer = {\"${target}\", drivers, ${driver_count}, ${strict}, \"${rules}\"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return nmrkit_driver_fuzz_one_input(&fuzzer, data, size);
}
")

  set(binaries ${target}_replay)
  if(NMRKIT_FUZZ)
    list(APPEND binaries ${target})
  endif()
  foreach(binary IN LISTS binaries)
    if(binary STREQUAL "${target}_replay")
      add_executable(${binary} "${generated}" ${objects})
      target_link_libraries(${binary} PRIVATE nmrkit_driver_replay_main)
    else()
      add_executable(${binary} "${generated}" ${objects})
      target_link_options(${binary} PRIVATE -fsanitize=fuzzer)
    endif()
    set_target_properties(${binary} PROPERTIES C_STANDARD 11 C_EXTENSIONS ON)
    target_link_libraries(${binary} PRIVATE nmrkit_driver_harness)
    foreach(driver IN LISTS ARG_DRIVERS)
      add_dependencies(${binary} nmrkit_driver_${driver})
    endforeach()
    set_source_files_properties(${objects} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
    nmrkit_driver_instrument(${binary})
  endforeach()

  # A committed corpus is a regression test: every input replays with the same trace hash
  # in every run (fuzz.replay), and its printed timeline encodes back into the same run
  # (fuzz.roundtrip: input -> text -> bytes -> text, for every committed input and 200
  # pseudo-random ones).
  set(corpus "${CMAKE_CURRENT_SOURCE_DIR}/corpus/${target}")
  file(GLOB corpus_files LIST_DIRECTORIES false "${corpus}/*")
  if(corpus_files)
    add_test(NAME fuzz.replay.${target} COMMAND ${target}_replay -runs=4 "${corpus}")
    add_test(NAME fuzz.roundtrip.${target} COMMAND ${target}_replay -runs=2 -roundtrip -random=200
                                                   "${corpus}")
    set_tests_properties(fuzz.replay.${target} fuzz.roundtrip.${target} PROPERTIES LABELS fuzz
                         TIMEOUT 300)
  endif()

  if(NOT DEFINED NMRKIT_DRIVER_FUZZER_MANIFEST OR NMRKIT_DRIVER_FUZZER_MANIFEST)
    nmrkit_fuzz_manifest_reset()
    nmrkit_fuzz_manifest_path(manifest)
    set(fuzzer_path "-")
    if(NMRKIT_FUZZ)
      set(fuzzer_path "${CMAKE_CURRENT_BINARY_DIR}/${target}${CMAKE_EXECUTABLE_SUFFIX}")
    endif()
    set(options_file "${CMAKE_CURRENT_SOURCE_DIR}/${target}.options")
    if(NOT EXISTS "${options_file}")
      set(options_file "-")
    endif()
    file(APPEND "${manifest}"
         "${target}\t${fuzzer_path}\t${CMAKE_CURRENT_BINARY_DIR}/${target}_replay${CMAKE_EXECUTABLE_SUFFIX}\t${CMAKE_CURRENT_SOURCE_DIR}/corpus/${target}\t${options_file}\n")
  endif()
endfunction()
