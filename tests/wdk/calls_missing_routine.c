/* SPDX-License-Identifier: MIT */
/*
 * calls_missing_routine.c - fixture of wdk.missing_routine_fails_to_compile_naming_it: a driver
 * calling a routine the shim does not provide must fail to build, naming it.
 */
#include <ntddk.h>

NTSTATUS FixtureEntry(VOID);
NTSTATUS FixtureEntry(VOID)
{
    return KeFrobnicateDispatcherObject(NULL);
}
