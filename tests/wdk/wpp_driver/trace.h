/* SPDX-License-Identifier: MIT */
/* trace.h - the WPP configuration of the WPP compile fixture, as a WPP driver writes it. */
#pragma once

#define WPP_CONTROL_GUIDS                                                                      \
    WPP_DEFINE_CONTROL_GUID(WppFixtureTraceGuid, (5c1e8a40, 2f1b, 4b7e, 9d33, 6a2c7e4b1f00), \
                            WPP_DEFINE_BIT(TRACE_DRIVER) WPP_DEFINE_BIT(TRACE_BINDING))

#define WPP_LEVEL_FLAGS_LOGGER(level, flags) WPP_LEVEL_LOGGER(flags)
#define WPP_LEVEL_FLAGS_ENABLED(level, flags) \
    (WPP_LEVEL_ENABLED(flags) && WPP_CONTROL(WPP_BIT_##flags).Level >= level)

// begin_wpp config
// FUNC TraceEvents(LEVEL, FLAGS, MSG, ...);
// FUNC TraceBinding{LEVEL=TRACE_LEVEL_VERBOSE}(FLAGS, MSG, ...);
// end_wpp

/* Not WPP configuration (outside the block above), so not a trace function: wpp_driver.c
   defines and calls it, which would not compile had it become a no-op macro.
   FUNC NotATraceFunction(x) */
