/* SPDX-License-Identifier: MIT */
/*
 * kshim_fault.c - the one fault-injection choke point (kshim_fault_should_fail), fault
 * plans, the KSHIM_FAULT environment variable and the observer.
 *
 * Sites are reported as "<basename>:<line>" of the calling driver code; a plan's site filter
 * is a substring of that. Eligible calls are counted in every mode (OFF included) so that a
 * sweep can count first and then inject each one in turn.
 */
#include "kshim_stop.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The fault lock. Protects: plan, plan_site, eligible, injected, last_injected_site,
   observer, observer_context. Never held while calling the observer or taking another lock. */
static kshim_os_mutex_t fault_mutex = KSHIM_OS_MUTEX_INIT;
static kshim_fault_plan_t plan;
static char *plan_site; /* owned copy of plan.site */
static unsigned long eligible;
static unsigned long injected;
static const char *last_injected_site;
static kshim_fault_observer_fn *observer;
static void *observer_context;
static pthread_once_t environment_once = PTHREAD_ONCE_INIT;

static void set_plan(const kshim_fault_plan_t *new_plan)
{
    char *site_copy = NULL;
    if (new_plan && new_plan->site) {
        site_copy = strdup(new_plan->site);
        if (site_copy == NULL) {
            kshim_stop("FAULT_PLAN_MALFORMED", "out of memory copying the site filter");
        }
    }
    kshim_os_mutex_lock(&fault_mutex);
    if (plan_site != NULL) { /* ASan's free unwinds the stack before it looks at the pointer */
        free(plan_site);
    }
    plan_site = site_copy;
    if (new_plan) {
        plan = *new_plan;
        plan.site = plan_site;
    } else {
        kshim_unchecked_memset(&plan, 0, sizeof plan); /* the static plan, its own sizeof */
    }
    eligible = 0;
    injected = 0;
    last_injected_site = NULL;
    kshim_os_mutex_unlock(&fault_mutex);
}

static bool parse_tag(const char *value, size_t len, ULONG *tag)
{
    if (len > 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) {
        char buf[32];
        if (len >= sizeof buf) {
            return false;
        }
        memcpy(buf, value, len);
        buf[len] = '\0';
        char *end;
        unsigned long long v = strtoull(buf, &end, 16);
        if (*end != '\0' || v == 0 || v > 0xffffffffULL) {
            return false;
        }
        *tag = (ULONG)v;
        return true;
    }
    if (len != 4) {
        return false;
    }
    *tag = KSHIM_POOL_TAG(value[0], value[1], value[2], value[3]);
    return true;
}

/* Parse "nth=N,mode=transient|persistent|off[,site=SUBSTR][,tag=ABCD|0xHEX]". */
static void parse_plan(const char *text, kshim_fault_plan_t *out, char **site_out)
{
    kshim_fault_plan_t p = {KSHIM_FAULT_OFF, 0, NULL, 0};
    bool have_mode = false, have_nth = false;
    *site_out = NULL;
    const char *field = text;
    if (*text == '\0') {
        kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT is empty (expected \"nth=N,mode=...\")");
    }
    while (*field) {
        const char *end = strchr(field, ',');
        size_t flen = end ? (size_t)(end - field) : strlen(field);
        const char *eq = memchr(field, '=', flen);
        if (eq == NULL) {
            kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT field \"%.*s\" has no '='", (int)flen, field);
        }
        size_t klen = (size_t)(eq - field);
        const char *value = eq + 1;
        size_t vlen = flen - klen - 1;
        if (klen == 3 && strncmp(field, "nth", 3) == 0) {
            char buf[32];
            char *num_end;
            if (vlen == 0 || vlen >= sizeof buf || value[0] == '-' || value[0] == '+') {
                kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT field nth: \"%.*s\" is not a positive integer",
                           (int)vlen, value);
            }
            memcpy(buf, value, vlen);
            buf[vlen] = '\0';
            unsigned long n = strtoul(buf, &num_end, 10);
            if (*num_end != '\0' || n == 0) {
                kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT field nth: \"%s\" is not a positive integer",
                           buf);
            }
            p.nth = n;
            have_nth = true;
        } else if (klen == 4 && strncmp(field, "mode", 4) == 0) {
            if (vlen == 9 && strncmp(value, "transient", 9) == 0) {
                p.mode = KSHIM_FAULT_TRANSIENT;
            } else if (vlen == 10 && strncmp(value, "persistent", 10) == 0) {
                p.mode = KSHIM_FAULT_PERSISTENT;
            } else if (vlen == 3 && strncmp(value, "off", 3) == 0) {
                p.mode = KSHIM_FAULT_OFF;
            } else {
                kshim_stop("FAULT_PLAN_MALFORMED",
                           "KSHIM_FAULT field mode: \"%.*s\" is not transient, persistent or off",
                           (int)vlen, value);
            }
            have_mode = true;
        } else if (klen == 4 && strncmp(field, "site", 4) == 0) {
            if (vlen == 0) {
                kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT field site: empty");
            }
            free(*site_out);
            *site_out = strndup(value, vlen);
        } else if (klen == 3 && strncmp(field, "tag", 3) == 0) {
            if (!parse_tag(value, vlen, &p.tag)) {
                kshim_stop("FAULT_PLAN_MALFORMED",
                           "KSHIM_FAULT field tag: \"%.*s\" is not 4 characters or 0x<hex>", (int)vlen,
                           value);
            }
        } else {
            kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT field \"%.*s\": unknown (nth, mode, site, tag)",
                       (int)klen, field);
        }
        field = end ? end + 1 : field + flen;
    }
    if (!have_mode) {
        kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT field mode: missing");
    }
    if (p.mode != KSHIM_FAULT_OFF && !have_nth) {
        kshim_stop("FAULT_PLAN_MALFORMED", "KSHIM_FAULT field nth: missing");
    }
    p.site = *site_out;
    *out = p;
}

bool kshim_fault_plan_from_environment(void)
{
    const char *text = getenv("KSHIM_FAULT");
    if (text == NULL) {
        return false;
    }
    kshim_fault_plan_t p;
    char *site;
    parse_plan(text, &p, &site);
    set_plan(&p);
    free(site);
    return true;
}

static void environment_once_fn(void)
{
    kshim_fault_plan_from_environment();
}

void kshim_fault_set_plan(const kshim_fault_plan_t *new_plan)
{
    /* The automatic reading of KSHIM_FAULT happens first, so an explicit plan wins. */
    pthread_once(&environment_once, environment_once_fn);
    set_plan(new_plan);
}

unsigned long kshim_fault_eligible_calls(void)
{
    kshim_os_mutex_lock(&fault_mutex);
    unsigned long n = eligible;
    kshim_os_mutex_unlock(&fault_mutex);
    return n;
}

unsigned long kshim_fault_injected_calls(void)
{
    kshim_os_mutex_lock(&fault_mutex);
    unsigned long n = injected;
    kshim_os_mutex_unlock(&fault_mutex);
    return n;
}

const char *kshim_fault_last_injected_site(void)
{
    kshim_os_mutex_lock(&fault_mutex);
    const char *site = last_injected_site;
    kshim_os_mutex_unlock(&fault_mutex);
    return site;
}

void kshim_fault_set_observer(kshim_fault_observer_fn *fn, void *context)
{
    kshim_os_mutex_lock(&fault_mutex);
    observer = fn;
    observer_context = context;
    kshim_os_mutex_unlock(&fault_mutex);
}

bool kshim_fault_should_fail(const char *site, ULONG tag)
{
    pthread_once(&environment_once, environment_once_fn);
    const char *where = NULL; /* the site's basename, found only when something needs it */
    kshim_os_mutex_lock(&fault_mutex);
    if (plan.site != NULL) {
        where = kshim_site_basename(site);
    }
    bool is_eligible = (plan.site == NULL || strstr(where, plan.site) != NULL) &&
                       (plan.tag == 0 || plan.tag == tag);
    bool fail = false;
    kshim_fault_observer_fn *fn = NULL;
    void *context = NULL;
    if (is_eligible) {
        eligible++;
        switch (plan.mode) {
        case KSHIM_FAULT_OFF:
            break;
        case KSHIM_FAULT_TRANSIENT:
            fail = eligible == plan.nth;
            break;
        case KSHIM_FAULT_PERSISTENT:
            fail = eligible >= plan.nth;
            break;
        }
        fn = observer;
        context = observer_context;
        if ((fail || fn != NULL) && where == NULL) {
            where = kshim_site_basename(site);
        }
        if (fail) {
            injected++;
            last_injected_site = where;
        }
    }
    kshim_os_mutex_unlock(&fault_mutex);
    if (fn) {
        fn(where, tag, fail, context);
    }
    return fail;
}
