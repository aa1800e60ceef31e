# SPDX-License-Identifier: MIT
# The bug gallery as a list, and the function that declares it: examples/echo/echo_client.c
# built with one bug each (ECHO_GALLERY_BUG=<number>), each with a driver fuzzer of its own
# against the generic provider. Used by examples/gallery/CMakeLists.txt (the kit's own tree)
# and by tests/lint/driver_consumer (an outside project), so both fuzz the same variants and
# expect the same reports.

# bug number | name | expected report (regular expression alternatives) ... | fuzzer options
set(NMRKIT_GALLERY_BUGS
    "1|context_freed_in_detach|POOL_DOUBLE_FREE|heap-use-after-free|POOL USE AFTER FREE|"
    "2|pending_never_completed|STOP D4|"
    # The second completion is D5 either way; its message depends on whether the binding was
    # cleaned up in between (docs/behaviour.md, D5).
    "3|detach_complete_twice|STOP D5: NmrClientDetachProviderComplete: called twice|STOP D5: NmrClientDetachProviderComplete: the binding is already detached on both sides and cleaned up: called twice|"
    "4|use_after_detach_complete|heap-use-after-free|POOL USE AFTER FREE|"
    "5|wait_in_detach|IRQL_TOO_HIGH|WAIT_AT_RAISED_IRQL|STRICT"
    "6|unload_without_wait|STOP R7: DriverUnload|"
    "7|characteristics_on_stack|STOP R1|stack-use-after|use-after-poison|SEGV|"
    "8|work_item_after_unload|heap-use-after-free|POOL_|POOL USE AFTER FREE|"
    "9|no_rollback|STOP U3|AUDIT_FAILED|"
    "10|call_after_detach|STOP D[129]:|heap-use-after-free|POOL USE AFTER FREE|"
    "11|thread_after_unload|STOP U1: DriverUnload|")

set(NMRKIT_GALLERY_DIR "${CMAKE_CURRENT_LIST_DIR}")

# nmrkit_declare_gallery(<prefix> <echo-client-source> <out-var> [ONLY <name>...])
# Declares driver <prefix><name> and its fuzzer <prefix><name> (and <prefix><name>_replay) for
# every bug, or only for the named ones; sets <out-var> to one "<fuzzer>|<expected report>"
# entry per bug declared.
function(nmrkit_declare_gallery prefix echo_client_source out_var)
  cmake_parse_arguments(ARG "" "" "ONLY" ${ARGN})
  set(entries)
  foreach(entry IN LISTS NMRKIT_GALLERY_BUGS)
    string(REPLACE "|" ";" fields "${entry}")
    list(GET fields 0 number)
    list(GET fields 1 slug)
    if(ARG_ONLY AND NOT slug IN_LIST ARG_ONLY)
      continue()
    endif()
    list(LENGTH fields count)
    math(EXPR last "${count} - 1")
    list(GET fields ${last} mode)
    list(SUBLIST fields 2 -1 patterns)
    list(REMOVE_AT patterns -1)
    list(JOIN patterns "|" expected)
    set(name ${prefix}${slug})
    nmrkit_add_driver(${name} SOURCES "${echo_client_source}"
                      COMPILE_DEFINITIONS ECHO_GALLERY_BUG=${number})
    if(mode STREQUAL "STRICT")
      nmrkit_add_driver_fuzzer(${name} DRIVERS ${name} STRICT)
    else()
      nmrkit_add_driver_fuzzer(${name} DRIVERS ${name})
    endif()
    list(APPEND entries "${name}|${expected}")
  endforeach()
  foreach(slug IN LISTS ARG_ONLY)
    if(NOT "${entries}" MATCHES "(^|;)${prefix}${slug}\\|")
      message(FATAL_ERROR "nmrkit_declare_gallery: no gallery bug named '${slug}'")
    endif()
  endforeach()
  set(${out_var} "${entries}" PARENT_SCOPE)
endfunction()
