# SPDX-License-Identifier: MIT
# apply_canary_patch.cmake - copy src/ (its top-level .c and .h files) into DESTINATION and apply
# one canary patch to the copy. A build step of every canary core (tests/canary/CMakeLists.txt),
# also run by hand:
#   cmake -DSOURCE_DIR=<nmrkit>/src -DDESTINATION=<dir> -DPATCH=<slug>.patch -DGIT=git \
#         -P tests/canary/apply_canary_patch.cmake
# Without PATCH the copy is the real core (the lint compares against it). Fails, naming the
# patch and quoting git, when the patch no longer applies.
#
# git apply, not patch(1): git is on every machine that has the sources, patch is not on a
# fresh Debian. Inside a repository git apply silently skips paths outside the current
# directory's part of the work tree (and a build tree is usually inside the work tree), so
# repository discovery is stopped at the copy: git then applies like GNU patch.
cmake_minimum_required(VERSION 3.21)
foreach(var SOURCE_DIR DESTINATION GIT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "apply_canary_patch.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${DESTINATION}")
file(GLOB sources "${SOURCE_DIR}/*.c" "${SOURCE_DIR}/*.h")
file(COPY ${sources} DESTINATION "${DESTINATION}")

if(PATCH)
  get_filename_component(parent "${DESTINATION}" DIRECTORY)
  file(REAL_PATH "${parent}" parent) # git compares the ceiling with the real current directory
  set(ENV{GIT_CEILING_DIRECTORIES} "${parent}")
  unset(ENV{GIT_DIR})
  unset(ENV{GIT_WORK_TREE})
  execute_process(COMMAND "${GIT}" apply --verbose --whitespace=nowarn "${PATCH}"
    WORKING_DIRECTORY "${DESTINATION}" RESULT_VARIABLE status
    OUTPUT_VARIABLE output ERROR_VARIABLE output)
  # "Skipped patch" would mean a path outside the copy: never a success.
  if(NOT status EQUAL 0 OR output MATCHES "Skipped patch" OR NOT output MATCHES "Applied patch")
    message(FATAL_ERROR "canary patch ${PATCH} no longer applies to src/ (rebase it on the "
      "current src/: tests/canary/README.md says how):\n${output}")
  endif()
endif()

# Copies keep the sources' times; a fresh time makes the copy newer than this step's inputs.
file(GLOB copies "${DESTINATION}/*")
file(TOUCH ${copies})
