/* SPDX-License-Identifier: MIT */
/*
 * driver_rules.c - rule levels of a driver fuzzer: off, warn or stop per rule.
 *
 * Defaults are calibrated to shipped drivers: nothing a correct, shipped NPI module does is a
 * finding. In force, lowest precedence first: the defaults below; STRICT (the documented but
 * rarely exercised contract); the fuzzer's RULES; the environment variable NMRKIT_RULES of
 * the run ("D5.early=stop,R10=off"; ',' ';' or spaces separate entries), so a replay of a
 * finding runs with the fuzzer's levels unless the developer overrides them.
 *
 * Where each rule is enforced: the harness (R5-R7, U1-U3, D1, D2, D9), the verifier through
 * nmr_verifier_set_rule_level (R8, R10, A9, D5.early) or through its configuration (D8: at
 * stop, detach and cleanup callbacks run at DISPATCH_LEVEL, so a wait in them is a
 * WAIT_AT_RAISED_IRQL stop; below stop they run at the caller's IRQL, PASSIVE_LEVEL for an
 * unload). Every other verifier and shim stop is always a stop: the registrar cannot continue
 * after it; asking for a lower level is an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_internal.h"

typedef struct rule {
    const char *id;
    driver_level_t level;        /* in force */
    driver_level_t calibrated;   /* default */
    driver_level_t strict;       /* with STRICT */
    bool lowerable;              /* false: only "stop" is accepted */
    const char *what;
} rule_t;

static rule_t rules[] = {
    {"R5", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "DriverUnload returns while a wait is in progress"},
    {"R6", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "DriverUnload returns with a registration never deregistered"},
    {"R7", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "DriverUnload returns without NmrWaitFor*"},
    {"U1", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "code of an unloaded driver runs"},
    {"U2", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "pool of a driver outstanding after its unload"},
    {"U3", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "a failed DriverEntry leaves a registration or pool"},
    {"D1", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "a call into the peer from the driver's own detach callback"},
    {"D2", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "a call into the peer after the driver's detach completed"},
    {"D9", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, true, "a call into the peer after cleanup"},
    {"D5.early", LEVEL_WARN, LEVEL_WARN, LEVEL_STOP, true,
     "DetachComplete before the NMR requested the detach (XDP's provider does it)"},
    {"D8", LEVEL_OFF, LEVEL_OFF, LEVEL_STOP, true,
     "detach and cleanup callbacks run at DISPATCH_LEVEL (shipped drivers block in them at PASSIVE_LEVEL)"},
    {"R8", LEVEL_WARN, LEVEL_WARN, LEVEL_WARN, true, "NmrWaitFor* before NmrDeregister*"},
    {"R10", LEVEL_WARN, LEVEL_WARN, LEVEL_WARN, true, "characteristics Version, Length, Size (Version 1 is shipped)"},
    {"A9", LEVEL_WARN, LEVEL_WARN, LEVEL_WARN, true, "a provider declines with a status other than STATUS_NOINTERFACE"},
    /* Always stops (the registrar cannot continue). */
    {"R1", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"R3", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"R4", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"R9", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"A1", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"A2", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"A3", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"A4", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"A8", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"D4", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"D5", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"D6", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
    {"D11", LEVEL_STOP, LEVEL_STOP, LEVEL_STOP, false, NULL},
};

static const char *const level_names[] = {"off", "warn", "stop"};
static char summary[768];

static rule_t *rule_find(const char *id, size_t length)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (strlen(rules[i].id) == length && strncmp(rules[i].id, id, length) == 0) {
            return &rules[i];
        }
    }
    return NULL;
}

/* Apply "<rule>=<level>" entries; exits 2 with a message naming the bad entry. */
static void apply_entries(const char *text, const char *source)
{
    const char *p = text;
    while (p != NULL && *p != '\0') {
        while (*p == ',' || *p == ';' || *p == ' ') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        size_t length = strcspn(p, ",; ");
        const char *equals = memchr(p, '=', length);
        rule_t *rule = equals != NULL ? rule_find(p, (size_t)(equals - p)) : NULL;
        int level = -1;
        if (equals != NULL) {
            size_t level_length = length - (size_t)(equals + 1 - p);
            for (int i = 0; i < 3; i++) {
                if (strlen(level_names[i]) == level_length &&
                    strncmp(level_names[i], equals + 1, level_length) == 0) {
                    level = i;
                }
            }
        }
        if (rule == NULL || level < 0) {
            fprintf(stderr,
                    "nmrkit: %s: bad rule level '%.*s': expected <rule>=off|warn|stop with a "
                    "rule among R1 R3-R10 A1-A4 A8 A9 D1 D2 D4-D6 D5.early D8 D9 D11 U1-U3\n",
                    source, (int)length, p);
            exit(2);
        }
        if (!rule->lowerable && level != LEVEL_STOP) {
            fprintf(stderr,
                    "nmrkit: %s: '%.*s': %s is always a stop (the registrar cannot continue "
                    "after it)\n",
                    source, (int)length, p, rule->id);
            exit(2);
        }
        rule->level = (driver_level_t)level;
        p += length;
    }
}

/* D8 at stop: detach and cleanup callbacks at DISPATCH_LEVEL (driver_rules_configure). */
static bool callbacks_at_dispatch;

void driver_rules_configure(const nmrkit_driver_fuzzer_t *fuzzer)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        rules[i].level = fuzzer->strict ? rules[i].strict : rules[i].calibrated;
    }
    apply_entries(fuzzer->rules, "RULES of the fuzzer");
    apply_entries(getenv("NMRKIT_RULES"), "NMRKIT_RULES");
    size_t used = 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0] && used < sizeof summary; i++) {
        if (!rules[i].lowerable) {
            continue;
        }
        used += (size_t)snprintf(summary + used, sizeof summary - used, "%s%s=%s",
                                 used ? " " : "", rules[i].id, level_names[rules[i].level]);
    }
    if (fuzzer->strict && used < sizeof summary) {
        snprintf(summary + used, sizeof summary - used, " (STRICT)");
    }
    callbacks_at_dispatch = driver_rule_level("D8") == LEVEL_STOP;
}

static nmr_rule_level_t verifier_level(driver_level_t level)
{
    return level == LEVEL_OFF    ? NMR_RULE_LEVEL_OFF
           : level == LEVEL_WARN ? NMR_RULE_LEVEL_WARN
                                 : NMR_RULE_LEVEL_STOP;
}

/* The rules whose level the verifier applies itself (nmr_verifier_set_rule_level). */
static bool enforced_by_verifier(const char *id)
{
    static const char *const verifier_rules[] = {"R8", "R10", "A9", "D5.early"};
    for (size_t i = 0; i < sizeof verifier_rules / sizeof verifier_rules[0]; i++) {
        if (strcmp(verifier_rules[i], id) == 0) {
            return true;
        }
    }
    return false;
}

void driver_rules_offer_to_verifier(void)
{
    /* Every rule is offered to the verifier, which takes exactly the ones it calibrates:
       a mismatch between this table and the verifier would be a silent wrong level. */
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        NTSTATUS status = nmr_verifier_set_rule_level(rules[i].id, verifier_level(rules[i].level));
        if ((status == STATUS_SUCCESS) != enforced_by_verifier(rules[i].id)) {
            fuzz_oracle_fail("harness: the verifier %s rule %s, which driver_rules.c %s",
                             status == STATUS_SUCCESS ? "calibrates" : "does not calibrate",
                             rules[i].id,
                             enforced_by_verifier(rules[i].id) ? "leaves to it" : "enforces");
        }
    }
}

void driver_rules_apply(nmr_verifier_config_t *config)
{
    config->detach_at_dispatch = callbacks_at_dispatch;
    config->cleanup_at_dispatch = callbacks_at_dispatch;
}

driver_level_t driver_rule_level(const char *id)
{
    rule_t *rule = rule_find(id, strlen(id));
    return rule != NULL ? rule->level : LEVEL_STOP;
}

const char *driver_rules_summary(void)
{
    return summary;
}

void driver_finding(const char *rule, const char *function, const char *driver,
                    const char *format, ...)
{
    driver_level_t level = driver_rule_level(rule);
    if (level == LEVEL_OFF) {
        return;
    }
    char message[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof message, format, arguments);
    va_end(arguments);
    fprintf(stderr, "*** NMR VERIFIER %s %s: %s: %s; driver %s [level %s=%s]\n",
            level == LEVEL_STOP ? "STOP" : "WARNING", rule, function, message, driver, rule,
            level_names[level]);
    driver_trace("%s %s: %s: %s; driver %s", level == LEVEL_STOP ? "STOP" : "WARNING", rule,
                 function, message, driver);
    if (level == LEVEL_STOP) {
        KeBugCheckEx(0x100000d1 /* NMR_INVALID_STATE-style code of driver-level findings */,
                     (ULONG_PTR)rule, 0, 0, 0);
    }
}
