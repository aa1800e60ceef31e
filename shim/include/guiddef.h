/* SPDX-License-Identifier: MIT */
/*
 * guiddef.h - GUID, DEFINE_GUID and GUID comparison, as in the SDK's guiddef.h.
 *
 * Exception to "#pragma once everywhere": like the SDK header, the DEFINE_GUID part is
 * outside the include guard, so including <initguid.h> (which defines INITGUID and
 * re-includes this file) switches DEFINE_GUID from declaring to defining.
 *   without INITGUID: DEFINE_GUID(name, ...) declares   extern const GUID name;
 *   with INITGUID:    DEFINE_GUID(name, ...) defines    const GUID name = {...} (weak, so
 *                     several translation units may define the same GUID, like selectany).
 * Includes nothing, so it is safe under kshim/banned.h.
 */
#ifndef KSHIM_GUIDDEF_H_TYPES
#define KSHIM_GUIDDEF_H_TYPES

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef GUID_DEFINED
#define GUID_DEFINED
/* [DUPLICATED] 16-byte GUID: Data1 32-bit, Data2/Data3 16-bit, Data4 8 bytes. */
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
#endif

typedef GUID *LPGUID;
typedef const GUID *LPCGUID;
typedef const GUID *REFGUID;
typedef GUID IID;
typedef const GUID *REFIID;
typedef GUID CLSID;

/*
 * [CUSTOMISED] IsEqualGUID(a, b): nonzero iff the 16 bytes are equal. Any IRQL.
 * Deviation: takes pointers in C++ too (the SDK takes references in C++).
 */
#define IsEqualGUID(rguid1, rguid2) (__builtin_memcmp((rguid1), (rguid2), sizeof(GUID)) == 0)

/* [DUPLICATED] InlineIsEqualGUID(a, b): field-wise comparison; same result as IsEqualGUID. */
#define InlineIsEqualGUID(rguid1, rguid2)                                                   \
    ((rguid1)->Data1 == (rguid2)->Data1 && (rguid1)->Data2 == (rguid2)->Data2 &&            \
     (rguid1)->Data3 == (rguid2)->Data3 &&                                                  \
     __builtin_memcmp((rguid1)->Data4, (rguid2)->Data4, 8) == 0)

#define IsEqualIID(riid1, riid2) IsEqualGUID(riid1, riid2)

#ifdef __cplusplus
}
#endif

#endif /* KSHIM_GUIDDEF_H_TYPES */

/* ---- DEFINE_GUID: re-evaluated on every inclusion (see the file comment) --------------- */
#undef DEFINE_GUID
#ifdef INITGUID
#ifdef __cplusplus
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                        \
    extern "C" const GUID __attribute__((weak)) name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                        \
    const GUID __attribute__((weak)) name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
#endif
#else
#ifdef __cplusplus
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) extern "C" const GUID name
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) extern const GUID name
#endif
#endif
