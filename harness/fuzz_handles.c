/* SPDX-License-Identifier: MIT */
/*
 * fuzz_handles.c - the handle ledger (fuzz_handles.h): an open-addressing hash table of
 * handle -> ordinal. A slot belongs to the current input when its epoch is the ledger's, so
 * a reset is one increment (a full clear only when the epoch counter wraps).
 */
#include "fuzz_handles.h"

#include "fuzz_oracle.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TABLE_SIZE 2048u /* a power of two, more than twice FUZZ_HANDLES_MAX */

typedef struct ledger_slot {
    HANDLE handle;
    unsigned ordinal;
    unsigned epoch; /* 0 never names an input, so the zero-initialised table starts empty */
} ledger_slot_t;

static ledger_slot_t table[TABLE_SIZE];
static unsigned epoch;
static unsigned count;

_Static_assert(TABLE_SIZE > 2 * FUZZ_HANDLES_MAX, "the table must stay at most half full");

void fuzz_handles_reset(void)
{
    if (++epoch == 0) {
        memset(table, 0, sizeof table);
        epoch = 1;
    }
    count = 0;
}

static size_t slot_of(HANDLE handle)
{
    uint64_t h = (uint64_t)(uintptr_t)handle;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)(h & (TABLE_SIZE - 1));
}

unsigned fuzz_handle_ordinal(HANDLE handle)
{
    for (size_t i = slot_of(handle);; i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].epoch != epoch) {
            return 0;
        }
        if (table[i].handle == handle) {
            return table[i].ordinal;
        }
    }
}

unsigned fuzz_handle_issue(HANDLE handle, const char *what)
{
    if (handle == NULL) {
        fuzz_oracle_fail("%s: the NMR gave a NULL handle", what);
    }
    /* One probe sequence both finds an earlier issue of the handle and ends at the free slot
       the handle goes into (fuzz_handle_ordinal's walk, not made twice). */
    size_t i = slot_of(handle);
    while (table[i].epoch == epoch) {
        if (table[i].handle == handle) {
            fuzz_oracle_fail("%s: handle h%u was issued before in this input (handles are never "
                             "reused)",
                             what, table[i].ordinal);
        }
        i = (i + 1) & (TABLE_SIZE - 1);
    }
    if (count == FUZZ_HANDLES_MAX) {
        fuzz_oracle_fail("harness: handle ledger full (%u handles in one input)", count);
    }
    table[i].handle = handle;
    table[i].ordinal = ++count;
    table[i].epoch = epoch;
    return count;
}

unsigned fuzz_handle_count(void)
{
    return count;
}
