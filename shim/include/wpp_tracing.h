/* SPDX-License-Identifier: MIT */
/*
 * wpp_tracing.h - WPP software tracing compiled out. A WPP driver includes, after its own trace
 * header, a per-source `<source>.tmh` that the WPP preprocessor generates on Windows; the kit
 * generates that file instead (nmrkit_driver_wpp, cmake/NmrkitWpp.cmake), including this header
 * and one no-op macro per custom trace function the driver declares in a `begin_wpp config`
 * block (`FUNC Name(...)` or `FUNC Name{...}(...)`).
 * [STUBBED]: WPP_INIT_TRACING, WPP_CLEANUP, DoTraceMessage and the custom trace functions do
 * nothing. Deviation: on Windows the arguments of a trace call are evaluated only when the trace
 * is enabled; here they are never evaluated, as with tracing disabled, so a trace argument with a
 * side effect behaves as it does with no trace session. The TRACE_LEVEL_* values are those of
 * evntrace.h.
 */
#pragma once

#define WPP_INIT_TRACING(DriverObject, RegistryPath) ((void)(DriverObject), (void)(RegistryPath))
#define WPP_CLEANUP(DriverObject) ((void)(DriverObject))
#define DoTraceMessage(...) ((void)0)
#define DoDebugTrace(...) ((void)0)
#define WPP_RECORDER_LEVEL_FLAGS_ENABLED(...) 0

#ifndef TRACE_LEVEL_NONE
#define TRACE_LEVEL_NONE 0
#define TRACE_LEVEL_CRITICAL 1
#define TRACE_LEVEL_FATAL 1
#define TRACE_LEVEL_ERROR 2
#define TRACE_LEVEL_WARNING 3
#define TRACE_LEVEL_INFORMATION 4
#define TRACE_LEVEL_VERBOSE 5
#endif
