# SPDX-License-Identifier: MIT
# Build helpers shared by every nmrkit directory. Nothing here touches global state
# outside nmrkit's own directories, so the project can be a subdirectory of another.

include_guard(GLOBAL)

# This directory (cmake/), for files the helpers below refer to.
set(NMRKIT_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# Warning flags for nmrkit's own targets (PRIVATE: consumers keep their own flags).
if(NOT TARGET nmrkit_warnings)
  add_library(nmrkit_warnings INTERFACE)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang|GNU")
    # Pool tags are multi-character constants (the WDK idiom), so -Wmultichar is off.
    target_compile_options(nmrkit_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter -Wno-multichar)
  endif()
endif()

# Give a target nmrkit's language level and warnings.
function(nmrkit_target_defaults target)
  set_target_properties(${target} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS ON)
  target_link_libraries(${target} PRIVATE nmrkit_warnings)
endfunction()

# A fuzz target's own source (its reference model and oracles) keeps its edges in libFuzzer's
# coverage but not its comparisons: their operands are the model's predictions and
# bookkeeping, not input bytes, so their traces taught libFuzzer nothing and cost a sixth of
# every target's time (README.md, Performance). The registrar's are off too
# (nmrkit_edges_only_coverage).
# Nor its indirect calls (every fuzz_trace_event is one, fuzz_trace.h): libFuzzer uses their
# caller-callee pairs only with -use_value_profile=1, which no nmrkit run passes (as for the
# registrar's; 1% of fuzz_nmr_ops per execution).
# Applies to <source> as compiled in <target> only (a driver fuzzer's driver sources keep
# theirs).
function(nmrkit_fuzz_model_coverage target source)
  if("fuzzer-no-link" IN_LIST NMRKIT_SANITIZERS)
    set_property(SOURCE "${source}" TARGET_DIRECTORY ${target} APPEND PROPERTY COMPILE_OPTIONS
                 -fno-sanitize-coverage=trace-cmp,indirect-calls)
  endif()
endfunction()

# Code that keeps its edges in libFuzzer's coverage but not its comparisons or indirect calls:
# the registrar (src/, and the canaries' broken copies of it) and the driver fuzzer runtime
# (harness/driver_*.c; a driver fuzzer's driver sources keep theirs).
# Every decision a harness reads from its input is a byte or a few bits chosen from a menu
# (fuzz_take_*), never a value this code compares as is: its operands are handle serials,
# list links, states, sizes, loop indexes and names derived from those choices, so
# libFuzzer's mutator found nothing in their traces to put back into an input. In the
# registrar they cost 13-20% of fuzz_nmr_ops and fuzz_nmr_characteristics per execution;
# without them the targets reach the same coverage in the same number of executions
# (measured from an empty corpus, 3 seeds each, 2026-12-06). In the driver fuzzer runtime the
# loop that restores a driver's image alone traced two comparisons per byte, a third of every
# driver fuzzer's time (2026-12-07). Indirect calls (callouts into modules and drivers, the
# state coverage hook) are not traced either: libFuzzer uses their caller-callee pairs only
# with -use_value_profile=1, which no nmrkit run passes (1.3% of fuzz_nmr_ops per execution).
function(nmrkit_edges_only_coverage target)
  if("fuzzer-no-link" IN_LIST NMRKIT_SANITIZERS)
    target_compile_options(${target} PRIVATE -fno-sanitize-coverage=trace-cmp,indirect-calls)
  endif()
endfunction()

# Sanitizer and coverage flags for every target defined below the calling directory.
# Directory-scoped (not global), so an including project is unaffected.
macro(nmrkit_apply_instrumentation)
  if(NMRKIT_SANITIZERS)
    list(JOIN NMRKIT_SANITIZERS "," _nmrkit_san)
    add_compile_options(-fsanitize=${_nmrkit_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${_nmrkit_san})
    if("fuzzer-no-link" IN_LIST NMRKIT_SANITIZERS)
      # Code whose branches say nothing about the behaviour under test stays out of
      # libFuzzer's coverage (see the list for what and why).
      # The compiler's dependency files do not name the list: its hash among the flags makes
      # an edited list reconfigure and recompile what it applies to.
      set(_nmrkit_ignorelist "${NMRKIT_CMAKE_DIR}/fuzz-coverage-ignorelist.txt")
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_nmrkit_ignorelist}")
      file(MD5 "${_nmrkit_ignorelist}" _nmrkit_ignorelist_md5)
      add_compile_options("-fsanitize-coverage-ignorelist=${_nmrkit_ignorelist}"
                          "-DNMRKIT_COVERAGE_IGNORELIST_MD5=${_nmrkit_ignorelist_md5}")
    endif()
  endif()
  if(NMRKIT_COVERAGE)
    add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
    add_link_options(-fprofile-instr-generate)
  endif()
endmacro()
