/* SPDX-License-Identifier: MIT */
/*
 * ex_pool.h - layer 3 of the shim (pool): tracked allocations for the shim's own objects and
 * the pool's owner records. Includes only layer 2.
 */
#pragma once

#include "ke_irql.h"

/* ---- pool ----------------------------------------------------------------------------- */

/* A tracked allocation for the shim's own objects: no fault check, no IRQL check. */
void *kshim_pool_alloc_internal(size_t size, ULONG tag, const char *site, bool zero);
/* Free a tracked allocation (stops like ExFreePoolWithTag with no tag check). */
void kshim_pool_free_internal(void *p, const char *routine, const char *site);
/* Print the tag as 4 characters in memory order into out[5]. */
void kshim_tag_to_chars(ULONG tag, char out[5]);

/* Every pool allocation is a yield point (ke_dispatcher_*.c, layer 4, implements it): with
   fibers the schedule may switch threads here; with real threads, nothing. Never call it
   inside a dispatcher-lock region. */
void kshim_sched_yield_point(void);
/* Describe an address a sanitizer reported, when it lies in a pool block freed during this
   input or just past the requested bytes of a live one: one line (tag, size, allocating and
   freeing lines) into out. False when the address is not the pool's or the pool is busy. */
bool kshim_pool_describe_address(uintptr_t address, char *out, size_t size);
/* Forget the owner of every live allocation (kshim_reset). */
void kshim_pool_forget_owners(void);
