/* SPDX-License-Identifier: MIT */
/*
 * ke_irql.c - IRQL (KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql and the raise-to forms), the
 * IRQL checks every shim routine makes, PAGED_CODE, and critical and guarded regions. The
 * state is the calling thread's (struct _KTHREAD, ke_irql.h); only that thread touches it.
 */
#include "ke_irql.h"

/* ---- IRQL ----------------------------------------------------------------------------- */

void kshim_lower_irql_upward(struct _KTHREAD *self, KIRQL new_irql, const char *routine)
{
    kshim_stop("IRQL_LOWER_UPWARD", "%s: to IRQL %u from lower IRQL %u on thread '%s'", routine,
               (unsigned)new_irql, (unsigned)self->irql, self->name);
}

void kshim_require_irql_at_most(const char *routine, KIRQL max_irql)
{
    KIRQL irql = kshim_own_irql(kshim_current_thread());
    if (irql > max_irql) {
        kshim_stop("IRQL_TOO_HIGH", "%s: called at IRQL %u on thread '%s' (maximum %u)", routine,
                   (unsigned)irql, kshim_current_thread()->name, (unsigned)max_irql);
    }
}

const char *kshim_irql_name(KIRQL irql)
{
    switch (irql) {
    case PASSIVE_LEVEL:
        return "PASSIVE";
    case APC_LEVEL:
        return "APC";
    case DISPATCH_LEVEL:
        return "DISPATCH";
    case HIGH_LEVEL:
        return "HIGH";
    default:
        return "DIRQL";
    }
}

KIRQL KeGetCurrentIrql(VOID)
{
    return kshim_own_irql(kshim_current_thread());
}

KIRQL KfRaiseIrql(KIRQL NewIrql)
{
    struct _KTHREAD *self = kshim_current_thread();
    KIRQL old = kshim_own_irql(self);
    if (NewIrql > HIGH_LEVEL) {
        kshim_stop("IRQL_INVALID", "KeRaiseIrql: IRQL %u is above HIGH_LEVEL", (unsigned)NewIrql);
    }
    if (NewIrql < old) {
        kshim_stop("IRQL_RAISE_DOWNWARD", "KeRaiseIrql: to IRQL %u from higher IRQL %u on thread '%s'",
                   (unsigned)NewIrql, (unsigned)old, self->name);
    }
    KSHIM_UNCHECKED_OWN_WRITE(self->irql, NewIrql);
    return old;
}

VOID KeLowerIrql(KIRQL NewIrql)
{
    struct _KTHREAD *self = kshim_current_thread();
    if (NewIrql > kshim_own_irql(self)) {
        kshim_stop("IRQL_LOWER_UPWARD", "KeLowerIrql: to IRQL %u from lower IRQL %u on thread '%s'",
                   (unsigned)NewIrql, (unsigned)self->irql, self->name);
    }
    KSHIM_UNCHECKED_OWN_WRITE(self->irql, NewIrql);
}

KIRQL KeRaiseIrqlToDpcLevel(VOID)
{
    struct _KTHREAD *self = kshim_current_thread();
    KIRQL old = self->irql;
    if (old > DISPATCH_LEVEL) {
        kshim_stop("IRQL_RAISE_DOWNWARD", "KeRaiseIrqlToDpcLevel: called at IRQL %u on thread '%s'",
                   (unsigned)old, self->name);
    }
    self->irql = DISPATCH_LEVEL;
    return old;
}

KIRQL KeRaiseIrqlToSynchLevel(VOID)
{
    struct _KTHREAD *self = kshim_current_thread();
    KIRQL old = self->irql;
    if (old > SYNCH_LEVEL) {
        kshim_stop("IRQL_RAISE_DOWNWARD", "KeRaiseIrqlToSynchLevel: called at IRQL %u on thread '%s'",
                   (unsigned)old, self->name);
    }
    self->irql = SYNCH_LEVEL;
    return old;
}

BOOLEAN KeAreApcsDisabled(VOID)
{
    struct _KTHREAD *self = kshim_current_thread();
    return (BOOLEAN)(self->irql >= APC_LEVEL || self->critical_region_depth > 0);
}

BOOLEAN KeAreAllApcsDisabled(VOID)
{
    return (BOOLEAN)(kshim_current_thread()->irql >= APC_LEVEL);
}

/* ---- critical regions ------------------------------------------------------------------- */

static void enter_region(const char *routine)
{
    kshim_require_irql_at_most(routine, APC_LEVEL);
    kshim_current_thread()->critical_region_depth++;
}

static void leave_region(const char *routine)
{
    kshim_require_irql_at_most(routine, APC_LEVEL);
    struct _KTHREAD *self = kshim_current_thread();
    if (self->critical_region_depth == 0) {
        kshim_stop("CRITICAL_REGION_UNBALANCED", "%s: thread '%s' is not in a critical region",
                   routine, self->name);
    }
    self->critical_region_depth--;
}

VOID KeEnterCriticalRegion(VOID)
{
    enter_region("KeEnterCriticalRegion");
}

VOID KeLeaveCriticalRegion(VOID)
{
    leave_region("KeLeaveCriticalRegion");
}

VOID KeEnterGuardedRegion(VOID)
{
    enter_region("KeEnterGuardedRegion");
}

VOID KeLeaveGuardedRegion(VOID)
{
    leave_region("KeLeaveGuardedRegion");
}

/* ---- PAGED_CODE ------------------------------------------------------------------------ */

void kshim_paged_code_check(const char *function, const char *file, int line)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql > APC_LEVEL) {
        kshim_stop("IRQL_TOO_HIGH", "PAGED_CODE: %s (%s:%d) runs at IRQL %u (> APC_LEVEL)",
                   function, kshim_site_basename(file), line, (unsigned)irql);
    }
}
