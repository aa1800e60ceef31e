/* SPDX-License-Identifier: MIT */
/*
 * rtl_registry.c - the registry fixture (kshim_registry_load_fixture, kshim_registry_set_value;
 * format in kshim.h) and RtlQueryRegistryValues / RtlFreeUnicodeString over it.
 *
 * Keys are full paths ("\Registry\Machine\...") kept in ASCII; names compare without case
 * (ASCII). Value data is kept as Windows stores it (strings as NUL-terminated UTF-16). The
 * store lives on the C heap, not in pool, so the pool audit sees only what drivers get.
 * The registry lock protects every key and value; it is never held while calling out (query
 * routines) or allocating pool: a query copies what it needs first.
 */
#include "kshim_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICES_ROOT "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\"
#define TAG_REGISTRY_STRING KSHIM_POOL_TAG('R', 't', 'l', 'S')

typedef struct reg_value {
    struct reg_value *next;
    char *name;      /* ASCII; "" for the default value */
    WCHAR *wide_name; /* the same, NUL-terminated UTF-16, as passed to query routines */
    ULONG type;
    uint8_t *data;
    ULONG length;
} reg_value_t;

typedef struct reg_key {
    struct reg_key *next;
    char *path; /* full path, no trailing backslash */
    reg_value_t *values;
} reg_key_t;

/* The registry lock. Protects: keys and their values. */
static kshim_os_mutex_t registry_mutex = KSHIM_OS_MUTEX_INIT;
static reg_key_t *keys;

/* ---- strings --------------------------------------------------------------------------- */

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) {
        kshim_stop("POOL_INTERNAL", "registry fixture: out of memory");
    }
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *copy = xmalloc(n + 1);
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

/* UTF-16 (count code units) to ASCII ('?' for anything else). */
static char *narrow(const WCHAR *wide, size_t count)
{
    char *s = xmalloc(count + 1);
    for (size_t i = 0; i < count; i++) {
        s[i] = wide[i] < 0x80 ? (char)wide[i] : '?';
    }
    s[count] = '\0';
    return s;
}

static size_t wide_length(const WCHAR *wide)
{
    size_t n = 0;
    while (wide[n] != 0) {
        n++;
    }
    return n;
}

/* ASCII to a NUL-terminated UTF-16 copy. */
static WCHAR *widen(const char *s, size_t n)
{
    WCHAR *wide = xmalloc((n + 1) * sizeof(WCHAR));
    for (size_t i = 0; i < n; i++) {
        wide[i] = (WCHAR)(unsigned char)s[i];
    }
    wide[n] = 0;
    return wide;
}

static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
            return false;
        }
    }
    return *a == *b;
}

/* A key path without trailing backslashes. */
static char *key_path(const char *base, const char *relative)
{
    size_t b = strlen(base), r = relative ? strlen(relative) : 0;
    char *path = xmalloc(b + 1 + r + 1);
    memcpy(path, base, b);
    size_t n = b;
    if (r != 0) {
        if (n != 0 && path[n - 1] != '\\') {
            path[n++] = '\\';
        }
        memcpy(path + n, relative, r);
        n += r;
    }
    while (n > 1 && path[n - 1] == '\\') {
        n--;
    }
    path[n] = '\0';
    return path;
}

/* ---- the store (registry lock held) ----------------------------------------------------- */

static reg_key_t *find_key_locked(const char *path)
{
    for (reg_key_t *k = keys; k; k = k->next) {
        if (same_name(k->path, path)) {
            return k;
        }
    }
    return NULL;
}

static reg_key_t *create_key_locked(const char *path)
{
    reg_key_t *k = find_key_locked(path);
    if (k == NULL) {
        k = xmalloc(sizeof *k);
        k->path = xstrndup(path, strlen(path));
        k->values = NULL;
        k->next = keys;
        keys = k;
    }
    return k;
}

static void free_value(reg_value_t *v)
{
    free(v->name);
    free(v->wide_name);
    free(v->data);
    free(v);
}

static reg_value_t **find_value_locked(reg_key_t *key, const char *name)
{
    reg_value_t **link = &key->values;
    while (*link != NULL && !same_name((*link)->name, name)) {
        link = &(*link)->next;
    }
    return link;
}

/* Takes ownership of data. Values keep the order in which they were first set. */
static void set_value_locked(reg_key_t *key, const char *name, ULONG type, uint8_t *data, ULONG length)
{
    reg_value_t **link = find_value_locked(key, name);
    reg_value_t *v = *link;
    if (v == NULL) {
        v = xmalloc(sizeof *v);
        v->name = xstrndup(name, strlen(name));
        v->wide_name = widen(name, strlen(name));
        v->next = NULL;
        v->data = NULL;
        *link = v;
    }
    free(v->data);
    v->type = type;
    v->data = data;
    v->length = length;
}

void kshim_registry_reset(void)
{
    kshim_os_mutex_lock(&registry_mutex);
    while (keys != NULL) {
        reg_key_t *k = keys;
        keys = k->next;
        while (k->values != NULL) {
            reg_value_t *v = k->values;
            k->values = v->next;
            free_value(v);
        }
        free(k->path);
        free(k);
    }
    kshim_os_mutex_unlock(&registry_mutex);
}

NTSTATUS kshim_registry_set_value(PCUNICODE_STRING KeyPath, const char *Name, ULONG Type,
                                  const void *Data, ULONG Length)
{
    char *wide_path = narrow(KeyPath->Buffer, KeyPath->Length / sizeof(WCHAR));
    char *path = key_path(wide_path, NULL);
    uint8_t *copy = xmalloc(Length);
    if (Length != 0) {
        memcpy(copy, Data, Length);
    }
    kshim_os_mutex_lock(&registry_mutex);
    set_value_locked(create_key_locked(path), Name ? Name : "", Type, copy, Length);
    kshim_os_mutex_unlock(&registry_mutex);
    free(wide_path);
    free(path);
    return STATUS_SUCCESS;
}

/* ---- the fixture file ------------------------------------------------------------------- */

typedef struct parsed_value {
    struct parsed_value *next;
    char *key;  /* full path */
    char *name; /* NULL: the key is only declared */
    ULONG type;
    uint8_t *data;
    ULONG length;
} parsed_value_t;

typedef struct parser {
    const char *file;
    unsigned line;
    const char *p;
    char error[160];
} parser_t;

static void skip_blanks(parser_t *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t') {
        ps->p++;
    }
}

static bool fail(parser_t *ps, const char *what)
{
    if (ps->error[0] == '\0') {
        snprintf(ps->error, sizeof ps->error, "%s", what);
    }
    return false;
}

static bool parse_number(parser_t *ps, uint64_t max, uint64_t *out)
{
    skip_blanks(ps);
    if (!isdigit((unsigned char)*ps->p)) {
        return fail(ps, "expected a number");
    }
    char *end;
    errno = 0;
    unsigned long long value = strtoull(ps->p, &end, 0);
    if (errno != 0 || value > max) {
        return fail(ps, "number out of range for the type");
    }
    ps->p = end;
    *out = value;
    return true;
}

/* A quoted ASCII string appended as UTF-16 with its NUL. */
static bool parse_string(parser_t *ps, uint8_t **data, ULONG *length)
{
    skip_blanks(ps);
    if (*ps->p != '"') {
        return fail(ps, "expected a \"quoted string\"");
    }
    ps->p++;
    size_t room = *length + (strlen(ps->p) + 1) * sizeof(WCHAR);
    uint8_t *grown = realloc(*data, room);
    if (grown == NULL) {
        kshim_stop("POOL_INTERNAL", "registry fixture: out of memory");
    }
    *data = grown;
    for (;;) {
        char c = *ps->p++;
        if (c == '\0') {
            return fail(ps, "unterminated string");
        }
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            c = *ps->p++;
            if (c != '"' && c != '\\') {
                return fail(ps, "only \\\" and \\\\ escapes are allowed in strings");
            }
        }
        if ((unsigned char)c >= 0x80) {
            return fail(ps, "strings must be ASCII");
        }
        WCHAR w = (WCHAR)(unsigned char)c;
        memcpy(*data + *length, &w, sizeof w);
        *length += sizeof w;
    }
    WCHAR nul = 0;
    memcpy(*data + *length, &nul, sizeof nul);
    *length += sizeof nul;
    return true;
}

static bool parse_data(parser_t *ps, const char *type_name, ULONG *type, uint8_t **data, ULONG *length)
{
    *data = NULL;
    *length = 0;
    uint64_t number;
    if (strcmp(type_name, "REG_DWORD") == 0) {
        *type = REG_DWORD;
        if (!parse_number(ps, 0xffffffffu, &number)) {
            return false;
        }
        ULONG v = (ULONG)number;
        *data = xmalloc(sizeof v);
        memcpy(*data, &v, sizeof v);
        *length = sizeof v;
    } else if (strcmp(type_name, "REG_QWORD") == 0) {
        *type = REG_QWORD;
        if (!parse_number(ps, UINT64_MAX, &number)) {
            return false;
        }
        *data = xmalloc(sizeof number);
        memcpy(*data, &number, sizeof number);
        *length = sizeof number;
    } else if (strcmp(type_name, "REG_SZ") == 0 || strcmp(type_name, "REG_EXPAND_SZ") == 0) {
        *type = type_name[4] == 'S' ? REG_SZ : REG_EXPAND_SZ;
        if (!parse_string(ps, data, length)) {
            return false;
        }
    } else if (strcmp(type_name, "REG_MULTI_SZ") == 0) {
        *type = REG_MULTI_SZ;
        skip_blanks(ps);
        while (*ps->p == '"') {
            if (!parse_string(ps, data, length)) {
                return false;
            }
            skip_blanks(ps);
        }
        uint8_t *grown = realloc(*data, *length + sizeof(WCHAR));
        if (grown == NULL) {
            kshim_stop("POOL_INTERNAL", "registry fixture: out of memory");
        }
        *data = grown;
        memset(*data + *length, 0, sizeof(WCHAR)); /* the list's final NUL */
        *length += sizeof(WCHAR);
    } else if (strcmp(type_name, "REG_BINARY") == 0) {
        *type = REG_BINARY;
        *data = xmalloc(strlen(ps->p) / 2 + 1);
        for (skip_blanks(ps); *ps->p != '\0'; skip_blanks(ps)) {
            if (!isxdigit((unsigned char)ps->p[0]) || !isxdigit((unsigned char)ps->p[1]) ||
                (ps->p[2] != '\0' && ps->p[2] != ' ' && ps->p[2] != '\t')) {
                return fail(ps, "REG_BINARY data must be two-digit hex bytes separated by blanks");
            }
            char byte[3] = {ps->p[0], ps->p[1], '\0'};
            (*data)[(*length)++] = (uint8_t)strtoul(byte, NULL, 16);
            ps->p += 2;
        }
    } else if (strcmp(type_name, "REG_NONE") == 0) {
        *type = REG_NONE;
    } else {
        return fail(ps, "unknown type (REG_DWORD, REG_QWORD, REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, "
                        "REG_BINARY or REG_NONE)");
    }
    skip_blanks(ps);
    if (*ps->p != '\0') {
        return fail(ps, "unexpected text after the value");
    }
    return true;
}

/* Remove a '#' comment outside quotes and trailing blanks. */
static void strip_comment(char *line)
{
    bool quoted = false;
    for (char *c = line; *c; c++) {
        if (*c == '\\' && quoted && c[1] != '\0') {
            c++;
        } else if (*c == '"') {
            quoted = !quoted;
        } else if (*c == '#' && !quoted) {
            *c = '\0';
            break;
        }
    }
    size_t n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1])) {
        line[--n] = '\0';
    }
}

static void free_parsed(parsed_value_t *list)
{
    while (list != NULL) {
        parsed_value_t *next = list->next;
        free(list->key);
        free(list->name);
        free(list->data);
        free(list);
        list = next;
    }
}

static parsed_value_t *parsed_append(parsed_value_t ***tail, const char *key, char *name)
{
    parsed_value_t *item = calloc(1, sizeof *item);
    if (item == NULL) {
        kshim_stop("POOL_INTERNAL", "registry fixture: out of memory");
    }
    item->key = xstrndup(key, strlen(key));
    item->name = name;
    **tail = item;
    *tail = &item->next;
    return item;
}

static bool parse_line(parser_t *ps, char *line, const char *root, char **section,
                       parsed_value_t ***tail)
{
    strip_comment(line);
    ps->p = line;
    skip_blanks(ps);
    if (*ps->p == '\0') {
        return true;
    }
    if (*ps->p == '[') {
        const char *close = strchr(ps->p, ']');
        if (close == NULL || close[1] != '\0') {
            return fail(ps, "a section is \"[sub\\key]\" alone on its line");
        }
        char *relative = xstrndup(ps->p + 1, (size_t)(close - ps->p - 1));
        free(*section);
        *section = key_path(root, relative);
        free(relative);
        parsed_append(tail, *section, NULL);
        return true;
    }
    const char *equals = strchr(ps->p, '=');
    if (equals == NULL) {
        return fail(ps, "expected \"<name> = <REG_TYPE> <data>\"");
    }
    const char *name_end = equals;
    while (name_end > ps->p && (name_end[-1] == ' ' || name_end[-1] == '\t')) {
        name_end--;
    }
    if (name_end == ps->p) {
        return fail(ps, "missing value name (\"@\" is the default value)");
    }
    char *name = xstrndup(ps->p, (size_t)(name_end - ps->p));
    if (strcmp(name, "@") == 0) {
        name[0] = '\0';
    }
    parsed_value_t *item = parsed_append(tail, *section, name);
    ps->p = equals + 1;
    skip_blanks(ps);
    const char *type_start = ps->p;
    while (*ps->p && *ps->p != ' ' && *ps->p != '\t') {
        ps->p++;
    }
    char *type_name = xstrndup(type_start, (size_t)(ps->p - type_start));
    bool ok = parse_data(ps, type_name, &item->type, &item->data, &item->length);
    free(type_name);
    return ok;
}

NTSTATUS kshim_registry_load_fixture(PCUNICODE_STRING RegistryPath, const char *fixture_file)
{
    FILE *f = fopen(fixture_file, "r");
    if (f == NULL) {
        fprintf(stderr, "kshim registry fixture %s: %s\n", fixture_file, strerror(errno));
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    char *root_wide = narrow(RegistryPath->Buffer, RegistryPath->Length / sizeof(WCHAR));
    char *root = key_path(root_wide, NULL);
    free(root_wide);
    char *section = key_path(root, NULL);
    parsed_value_t *parsed = NULL, **tail = &parsed;
    parsed_append(&tail, root, NULL);
    parser_t ps = {.file = fixture_file};
    char *line = NULL;
    size_t capacity = 0;
    bool ok = true;
    while (ok && getline(&line, &capacity, f) != -1) {
        ps.line++;
        ok = parse_line(&ps, line, root, &section, &tail);
    }
    free(line);
    fclose(f);
    free(section);
    free(root);
    if (!ok) {
        fprintf(stderr, "kshim registry fixture %s:%u: %s\n", fixture_file, ps.line, ps.error);
        free_parsed(parsed);
        return STATUS_INVALID_PARAMETER;
    }
    kshim_os_mutex_lock(&registry_mutex);
    for (parsed_value_t *item = parsed; item != NULL; item = item->next) {
        reg_key_t *key = create_key_locked(item->key);
        if (item->name != NULL) {
            set_value_locked(key, item->name, item->type, item->data, item->length);
            item->data = NULL; /* now the store's */
        }
    }
    kshim_os_mutex_unlock(&registry_mutex);
    free_parsed(parsed);
    return STATUS_SUCCESS;
}

/* ---- RtlQueryRegistryValues -------------------------------------------------------------- */

/* A value copied out of the store for one table entry. */
typedef struct found_value {
    WCHAR *name; /* NUL-terminated */
    ULONG type;
    uint8_t *data;
    ULONG length;
} found_value_t;

static void found_free(found_value_t *v)
{
    free(v->name);
    free(v->data);
}

static bool key_exists(const char *path)
{
    kshim_os_mutex_lock(&registry_mutex);
    bool exists = find_key_locked(path) != NULL;
    kshim_os_mutex_unlock(&registry_mutex);
    return exists;
}

/* Copies of the values of key (name == NULL: all, in order), optionally deleting them. */
static size_t copy_values(const char *path, const char *name, bool delete_after, found_value_t **out)
{
    kshim_os_mutex_lock(&registry_mutex);
    reg_key_t *key = find_key_locked(path);
    size_t count = 0;
    for (reg_value_t *v = key ? key->values : NULL; v; v = v->next) {
        count += name == NULL || same_name(v->name, name);
    }
    found_value_t *values = xmalloc(count * sizeof *values);
    size_t i = 0;
    for (reg_value_t **link = key ? &key->values : NULL; link && *link;) {
        reg_value_t *v = *link;
        if (name != NULL && !same_name(v->name, name)) {
            link = &v->next;
            continue;
        }
        values[i].name = widen(v->name, strlen(v->name));
        values[i].type = v->type;
        values[i].length = v->length;
        values[i].data = xmalloc(v->length);
        memcpy(values[i].data, v->data, v->length);
        i++;
        if (delete_after) {
            *link = v->next;
            free_value(v);
        } else {
            link = &v->next;
        }
    }
    kshim_os_mutex_unlock(&registry_mutex);
    *out = values;
    return count;
}

static __attribute__((noreturn)) void invalid_query(const char *what, unsigned index)
{
    kshim_stop("REGISTRY_QUERY_INVALID", "RtlQueryRegistryValues: QueryTable[%u]: %s", index, what);
}

static NTSTATUS store_direct_string(PUNICODE_STRING destination, const void *data, ULONG length)
{
    if (length > 0xfffe) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    if (destination->Buffer == NULL) {
        PWCH buffer = kshim_ExAllocatePool2(POOL_FLAG_PAGED, length ? length : sizeof(WCHAR),
                                            TAG_REGISTRY_STRING, "RtlQueryRegistryValues");
        if (buffer == NULL) {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        destination->Buffer = buffer;
        destination->MaximumLength = (USHORT)(length ? length : sizeof(WCHAR));
    } else if (length > destination->MaximumLength) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    memcpy(destination->Buffer, data, length);
    /* Length excludes the terminating NUL. */
    destination->Length = (USHORT)(length >= sizeof(WCHAR) ? length - sizeof(WCHAR) : 0);
    return STATUS_SUCCESS;
}

static NTSTATUS store_direct(const RTL_QUERY_REGISTRY_TABLE *entry, ULONG type, const void *data,
                             ULONG length)
{
    if (type == REG_SZ || type == REG_EXPAND_SZ || type == REG_MULTI_SZ) {
        return store_direct_string(entry->EntryContext, data, length);
    }
    if (length <= sizeof(ULONG)) {
        memcpy(entry->EntryContext, data, length);
        return STATUS_SUCCESS;
    }
    LONG size;
    memcpy(&size, entry->EntryContext, sizeof size);
    uint8_t *buffer = entry->EntryContext;
    if (size < 0) { /* data only, into -size bytes */
        if ((ULONG)(-(int64_t)size) < length) {
            return STATUS_BUFFER_TOO_SMALL;
        }
        memcpy(buffer, data, length);
        return STATUS_SUCCESS;
    }
    if ((ULONG)size < 2 * sizeof(ULONG) + length) { /* length, type, then data */
        return STATUS_BUFFER_TOO_SMALL;
    }
    ULONG header[2] = {length, type};
    memcpy(buffer, header, sizeof header);
    memcpy(buffer + sizeof header, data, length);
    return STATUS_SUCCESS;
}

/* Hand one value to the entry: DIRECT store, or the routine (REG_MULTI_SZ one string at a
   time unless NOEXPAND). */
static NTSTATUS deliver(const RTL_QUERY_REGISTRY_TABLE *entry, PWSTR name, ULONG type,
                        const void *data, ULONG length, PVOID Context)
{
    if (entry->Flags & RTL_QUERY_REGISTRY_DIRECT) {
        return store_direct(entry, type, data, length);
    }
    if (type == REG_MULTI_SZ && !(entry->Flags & RTL_QUERY_REGISTRY_NOEXPAND)) {
        const WCHAR *s = data;
        size_t units = length / sizeof(WCHAR);
        size_t at = 0;
        while (at < units && s[at] != 0) {
            size_t n = 0;
            while (at + n < units && s[at + n] != 0) {
                n++;
            }
            NTSTATUS status = entry->QueryRoutine(name, REG_SZ, (PVOID)(s + at),
                                                  (ULONG)((n + 1) * sizeof(WCHAR)), Context,
                                                  entry->EntryContext);
            if (!NT_SUCCESS(status)) {
                return status;
            }
            at += n + 1;
        }
        return STATUS_SUCCESS;
    }
    return entry->QueryRoutine(name, type, (PVOID)data, length, Context, entry->EntryContext);
}

/* The length of a default whose DefaultLength is 0 (strings: up to and with the NUL(s)). */
static ULONG default_length(ULONG type, const void *data, ULONG length)
{
    if (length != 0 || data == NULL) {
        return length;
    }
    const WCHAR *s = data;
    if (type == REG_SZ || type == REG_EXPAND_SZ) {
        return (ULONG)((wide_length(s) + 1) * sizeof(WCHAR));
    }
    if (type == REG_MULTI_SZ) {
        size_t n = 0;
        while (s[n] != 0 || s[n + 1] != 0) {
            n++;
        }
        return (ULONG)((n + 2) * sizeof(WCHAR));
    }
    return 0;
}

static NTSTATUS query_entry(const RTL_QUERY_REGISTRY_TABLE *entry, unsigned index,
                            const char *current, PVOID Context)
{
    ULONG flags = entry->Flags;
    if ((flags & RTL_QUERY_REGISTRY_DIRECT) && entry->EntryContext == NULL) {
        invalid_query("RTL_QUERY_REGISTRY_DIRECT without an EntryContext", index);
    }
    if (!(flags & RTL_QUERY_REGISTRY_DIRECT) && entry->QueryRoutine == NULL) {
        invalid_query("neither a QueryRoutine nor RTL_QUERY_REGISTRY_DIRECT", index);
    }
    if ((flags & RTL_QUERY_REGISTRY_DIRECT) && entry->Name == NULL) {
        invalid_query("RTL_QUERY_REGISTRY_DIRECT without a value Name", index);
    }
    if (flags & RTL_QUERY_REGISTRY_NOVALUE) {
        return entry->QueryRoutine(entry->Name, REG_NONE, NULL, 0, Context, entry->EntryContext);
    }
    char *name = entry->Name ? narrow(entry->Name, wide_length(entry->Name)) : NULL;
    found_value_t *values;
    size_t count = current ? copy_values(current, name, (flags & RTL_QUERY_REGISTRY_DELETE) != 0,
                                         &values)
                           : (values = NULL, 0);
    free(name);
    NTSTATUS status = STATUS_SUCCESS;
    ULONG expected_type = (ULONG)(entry->DefaultType & RTL_QUERY_REGISTRY_TYPECHECK_MASK) >>
                          RTL_QUERY_REGISTRY_TYPECHECK_SHIFT;
    for (size_t i = 0; i < count && NT_SUCCESS(status); i++) {
        if ((flags & RTL_QUERY_REGISTRY_TYPECHECK) && values[i].type != expected_type) {
            status = STATUS_OBJECT_TYPE_MISMATCH;
            break;
        }
        status = deliver(entry, values[i].name, values[i].type, values[i].data, values[i].length,
                         Context);
    }
    for (size_t i = 0; i < count; i++) {
        found_free(&values[i]);
    }
    free(values);
    if (count != 0 || entry->Name == NULL) {
        return status;
    }
    ULONG type = entry->DefaultType & ~(ULONG)RTL_QUERY_REGISTRY_TYPECHECK_MASK;
    if (type != REG_NONE) {
        return deliver(entry, entry->Name, type, entry->DefaultData,
                       default_length(type, entry->DefaultData, entry->DefaultLength), Context);
    }
    return (flags & RTL_QUERY_REGISTRY_REQUIRED) ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_SUCCESS;
}

NTSTATUS RtlQueryRegistryValues(ULONG RelativeTo, PCWSTR Path, PRTL_QUERY_REGISTRY_TABLE QueryTable,
                                PVOID Context, PVOID Environment)
{
    (void)Environment;
    kshim_require_irql_at_most("RtlQueryRegistryValues", PASSIVE_LEVEL);
    bool optional = (RelativeTo & RTL_REGISTRY_OPTIONAL) != 0;
    ULONG root = RelativeTo & ~(ULONG)RTL_REGISTRY_OPTIONAL;
    if (root != RTL_REGISTRY_ABSOLUTE && root != RTL_REGISTRY_SERVICES) {
        kshim_stop("REGISTRY_QUERY_INVALID",
                   "RtlQueryRegistryValues: RelativeTo 0x%lx (the shim supports RTL_REGISTRY_ABSOLUTE "
                   "and RTL_REGISTRY_SERVICES)", (unsigned long)RelativeTo);
    }
    char *relative = narrow(Path, wide_length(Path));
    char *top = key_path(root == RTL_REGISTRY_SERVICES ? SERVICES_ROOT : "", relative);
    free(relative);
    if (!key_exists(top)) {
        free(top);
        return optional ? STATUS_SUCCESS : STATUS_OBJECT_NAME_NOT_FOUND;
    }
    char *current = key_path(top, NULL);
    NTSTATUS status = STATUS_SUCCESS;
    for (unsigned i = 0; NT_SUCCESS(status) && (QueryTable[i].QueryRoutine != NULL || QueryTable[i].Name != NULL); i++) {
        const RTL_QUERY_REGISTRY_TABLE *entry = &QueryTable[i];
        if (entry->Flags & RTL_QUERY_REGISTRY_TOPKEY) {
            free(current);
            current = key_path(top, NULL);
            continue;
        }
        if (entry->Flags & RTL_QUERY_REGISTRY_SUBKEY) {
            char *sub = entry->Name ? narrow(entry->Name, wide_length(entry->Name)) : NULL;
            free(current);
            current = key_path(top, sub);
            free(sub);
            if (!key_exists(current)) {
                free(current);
                current = NULL; /* values below read as absent */
                if (entry->Flags & RTL_QUERY_REGISTRY_REQUIRED) {
                    status = STATUS_OBJECT_NAME_NOT_FOUND;
                }
            }
            continue;
        }
        status = query_entry(entry, i, current, Context);
    }
    free(current);
    free(top);
    return status;
}

VOID RtlFreeUnicodeString(PUNICODE_STRING UnicodeString)
{
    if (UnicodeString->Buffer != NULL) {
        kshim_ExFreePoolWithTag(UnicodeString->Buffer, 0, "RtlFreeUnicodeString");
    }
    UnicodeString->Buffer = NULL;
    UnicodeString->Length = UnicodeString->MaximumLength = 0;
}
