/* SPDX-License-Identifier: MIT */
/*
 * sample_driver_other_unit.c - a second translation unit of the compile fixture that uses the
 * header's non-static inline function too (it links once, as with MSVC).
 */
#include "sample_driver.h"

ULONG SampleRoundUpFromOtherUnit(ULONG Value)
{
    return SampleRoundUp(Value, 8);
}
