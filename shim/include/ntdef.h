/* SPDX-License-Identifier: MIT */
/*
 * ntdef.h - base types, calling-convention and helper macros of the WDK's ntdef.h.
 *
 * Part of the shim's WDK face: driver-style code includes <ntddk.h> or <wdm.h> and gets
 * this. It is not the control API (that is kshim/kshim.h). It may include only
 * freestanding compiler headers because src/ is compiled with -include kshim/banned.h.
 *
 * Data model: Windows is LLP64, Linux x86-64 is LP64. The shim keeps the Windows sizes
 * where they are part of the contract: LONG and ULONG are 32-bit, LONG64/ULONG64/LONGLONG
 * are 64-bit, ULONG_PTR/LONG_PTR/SIZE_T are pointer-sized, WCHAR is 16-bit.
 * WCHAR and L"": a driver built with the kit's driver dialect (nmrkit_driver_dialect:
 * -fshort-wchar) gets 16-bit L"" literals whose type is WCHAR, as with MSVC; the header
 * checks that (a driver compiled without the dialect fails here, naming the flag). The shim
 * itself is compiled without -fshort-wchar and never passes WCHAR to a libc wide function.
 * Deviation: code outside the dialect gets 32-bit L"" literals; it must spell WCHAR
 * strings as WCHAR arrays.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <basetsd.h>
#include <driverspecs.h>
#include <guiddef.h>
#include <sal.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- calling conventions and declaration helpers (all [STUBBED] unless noted) -------- */
#define NTAPI
#define NTSYSAPI
#define NTSYSCALLAPI
#define NTKERNELAPI
#define NTHALAPI
#define WINAPI
#define STDCALL
#define __stdcall
#define __cdecl
#define FASTCALL
#define FAR
#define NEAR
#define CONST const
#define IN
#define OUT
#define OPTIONAL
#define UNALIGNED
#define RESTRICTED_POINTER
#define POINTER_64
#define POINTER_32
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#define DECLSPEC_CACHEALIGN DECLSPEC_ALIGN(64)
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_SELECTANY __attribute__((weak))
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_NOTHROW
#define DECLSPEC_IMPORT
#define DECLSPEC_EXPORT
/* [CUSTOMISED] FORCEINLINE: inline, always inlined. "static FORCEINLINE" also works.
   Deviation: a non-static FORCEINLINE function whose address is taken has no external
   definition (C99 inline semantics); make such functions static. */
#define FORCEINLINE __inline__ __attribute__((__always_inline__))
#define __forceinline __inline__ __attribute__((__always_inline__))
#define __inline __inline__
#define NOINLINE __attribute__((noinline))
#ifdef __cplusplus
#define EXTERN_C extern "C"
#define EXTERN_C_START extern "C" {
#define EXTERN_C_END }
#else
#define EXTERN_C extern
#define EXTERN_C_START
#define EXTERN_C_END
#endif

/* The shim's own header helpers: inline, always inlined, no static so that driver
   FORCEINLINE functions may call them without "static used in inline" warnings. */
#define KSHIM_INLINE __inline__ __attribute__((__always_inline__))

/* ---- base types [DUPLICATED] (Windows sizes; see the file comment) ------------------- */
#define VOID void
typedef char CHAR;
typedef short SHORT;
typedef int32_t LONG;
typedef void *PVOID;
typedef void **PPVOID;
typedef const void *PCVOID;
typedef unsigned char UCHAR, *PUCHAR;
typedef unsigned short USHORT, *PUSHORT;
typedef uint32_t ULONG, *PULONG;
typedef LONG *PLONG;
typedef CHAR *PCHAR, *PCH, *PSTR, *LPSTR;
typedef const CHAR *PCCH, *PCSTR, *LPCSTR;
typedef SHORT *PSHORT;
typedef signed char SCHAR, *PSCHAR;
typedef char CCHAR;
typedef short CSHORT;
typedef ULONG CLONG;
typedef int INT, *PINT;
typedef unsigned int UINT, *PUINT;
typedef uint32_t DWORD, *PDWORD;
typedef uint16_t WORD, *PWORD;
typedef uint8_t BYTE, *PBYTE;
typedef int BOOL;
typedef UCHAR BOOLEAN, *PBOOLEAN;
/* [CUSTOMISED] WCHAR: 16-bit UTF-16 code unit. In C it is uint16_t, which is the type of an
   L"" element under -fshort-wchar; in C++ under -fshort-wchar it is wchar_t (a distinct
   type there) so that L"" still converts. The ABI is the same in every case. */
#if defined(__cplusplus) && defined(__SIZEOF_WCHAR_T__) && __SIZEOF_WCHAR_T__ == 2
typedef wchar_t WCHAR;
#else
typedef uint16_t WCHAR;
#endif
typedef WCHAR *PWCHAR, *PWCH, *PWSTR, *LPWSTR, *NWPSTR;
typedef const WCHAR *PCWCH, *PCWSTR, *LPCWSTR;
#ifdef NMRKIT_DRIVER_DIALECT
#if !defined(__SIZEOF_WCHAR_T__) || __SIZEOF_WCHAR_T__ != 2
#error "nmrkit driver dialect: L\"\" must be 16-bit WCHAR; compile with -fshort-wchar (link nmrkit_driver_dialect)"
#endif
#ifndef __cplusplus
_Static_assert(_Generic(L""[0], WCHAR: 1, default: 0), "L\"\" must have the type WCHAR");
#endif
#endif
typedef LONG NTSTATUS, *PNTSTATUS;
typedef void *HANDLE, **PHANDLE;
typedef UCHAR KIRQL, *PKIRQL;
typedef LONG KPRIORITY, *PKPRIORITY;
typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef ULONG LOGICAL, *PLOGICAL;
typedef CCHAR KPROCESSOR_MODE;
typedef ULONG_PTR KAFFINITY, *PKAFFINITY;
typedef LONGLONG USN;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif

/* [DUPLICATED] limits of the Windows types. */
#define MINCHAR 0x80
#define MAXCHAR 0x7f
#define MINSHORT 0x8000
#define MAXSHORT 0x7fff
#define MINLONG 0x80000000
#define MAXLONG 0x7fffffff
#define MAXUCHAR 0xff
#define MAXUSHORT 0xffff
#define MAXULONG 0xffffffffu
#define MAXLONGLONG ((LONGLONG)0x7fffffffffffffffLL)
#define MAXULONG_PTR ((ULONG_PTR)~(ULONG_PTR)0)
#define MAXSIZE_T ((SIZE_T)~(SIZE_T)0)
#define MAXLONG_PTR ((LONG_PTR)(MAXULONG_PTR >> 1))
#define MINLONGLONG ((LONGLONG)~MAXLONGLONG)
#define MAXDWORD 0xffffffffu
#define MAXBYTE 0xff
#define MAXWORD 0xffff

/* [DUPLICATED] System cache line (x64), for DECLSPEC_CACHEALIGN and aligned pool. */
#define SYSTEM_CACHE_ALIGNMENT_SIZE 64

/* [DUPLICATED] DECLARE_HANDLE(name): a distinct opaque handle type name (pointer to a
   struct name##__), as with STRICT in the WDK. */
#define DECLARE_HANDLE(name)                                                                    struct name##__ {                                                                               int unused;                                                                             };                                                                                          typedef struct name##__ *name

/* [DUPLICATED] 32x32 -> 64-bit multiplications. */
#define Int32x32To64(a, b) ((LONGLONG)((LONG)(a)) * (LONGLONG)((LONG)(b)))
#define UInt32x32To64(a, b) ((ULONGLONG)((ULONG)(a)) * (ULONGLONG)((ULONG)(b)))

/* [DUPLICATED] DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE): bitwise operators for a flags enum in
   C++; nothing in C (where enums are integers already). */
#ifdef __cplusplus
#define DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE)                                                \
    extern "C++" {                                                                          \
    inline ENUMTYPE operator|(ENUMTYPE a, ENUMTYPE b) { return ENUMTYPE(((int)a) | ((int)b)); } \
    inline ENUMTYPE &operator|=(ENUMTYPE &a, ENUMTYPE b) { return (ENUMTYPE &)(((int &)a) |= ((int)b)); } \
    inline ENUMTYPE operator&(ENUMTYPE a, ENUMTYPE b) { return ENUMTYPE(((int)a) & ((int)b)); } \
    inline ENUMTYPE &operator&=(ENUMTYPE &a, ENUMTYPE b) { return (ENUMTYPE &)(((int &)a) &= ((int)b)); } \
    inline ENUMTYPE operator~(ENUMTYPE a) { return ENUMTYPE(~((int)a)); }                  \
    inline ENUMTYPE operator^(ENUMTYPE a, ENUMTYPE b) { return ENUMTYPE(((int)a) ^ ((int)b)); } \
    inline ENUMTYPE &operator^=(ENUMTYPE &a, ENUMTYPE b) { return (ENUMTYPE &)(((int &)a) ^= ((int)b)); } \
    }
#else
#define DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE) /* nothing in C */
#endif

/* ---- NTSTATUS classification [DUPLICATED] ------------------------------------------- */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)

/* ---- helper macros [DUPLICATED] ------------------------------------------------------ */
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
#define UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
/* FIELD_OFFSET / CONTAINING_RECORD use __builtin_offsetof (no null-pointer arithmetic). */
#define FIELD_OFFSET(type, field) ((LONG)__builtin_offsetof(type, field))
#define UFIELD_OFFSET(type, field) ((ULONG)__builtin_offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field)                                               \
    (__builtin_offsetof(type, field) + RTL_FIELD_SIZE(type, field))
#define RTL_CONTAINS_FIELD(Struct, Size, Field)                                             \
    ((((PCHAR)(&(Struct)->Field)) + sizeof((Struct)->Field)) <= (((PCHAR)(Struct)) + (Size)))
#define CONTAINING_RECORD(address, type, field)                                             \
    ((type *)((PCHAR)(address) - (ULONG_PTR)__builtin_offsetof(type, field)))
#define TYPE_ALIGNMENT(t) __alignof__(t)
#define RTL_NUMBER_OF_V1(A) (sizeof(A) / sizeof((A)[0]))
#define RTL_NUMBER_OF_V2(A) RTL_NUMBER_OF_V1(A)
#define RTL_NUMBER_OF(A) RTL_NUMBER_OF_V1(A)
#define ARRAYSIZE(A) RTL_NUMBER_OF_V1(A)
#define _ARRAYSIZE(A) RTL_NUMBER_OF_V1(A)
#define RTL_BITS_OF(sizeOfArg) (sizeof(sizeOfArg) * 8)
#define ALIGN_DOWN_BY(length, alignment) ((ULONG_PTR)(length) & ~((ULONG_PTR)(alignment) - 1))
#define ALIGN_UP_BY(length, alignment)                                                      \
    (ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment) - 1), alignment))
#define ALIGN_DOWN_POINTER_BY(address, alignment) ((PVOID)ALIGN_DOWN_BY(address, alignment))
#define ALIGN_UP_POINTER_BY(address, alignment) ((PVOID)ALIGN_UP_BY(address, alignment))
#define ALIGN_DOWN(length, type) ALIGN_DOWN_BY(length, sizeof(type))
#define ALIGN_UP(length, type) ALIGN_UP_BY(length, sizeof(type))
#if !defined(NOMINMAX) && !defined(__cplusplus)
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#endif
#ifdef __cplusplus
#define C_ASSERT(e) static_assert((e), #e)
#else
#define C_ASSERT(e) _Static_assert((e), #e)
#endif
#define Add2Ptr(P, I) ((PVOID)((PUCHAR)(P) + (I)))
#define PtrOffset(B, O) ((ULONG)((ULONG_PTR)(O) - (ULONG_PTR)(B)))
#define FlagOn(_F, _SF) ((_F) & (_SF))
#define BooleanFlagOn(F, SF) ((BOOLEAN)(((F) & (SF)) != 0))
#define SetFlag(_F, _SF) ((_F) |= (_SF))
#define ClearFlag(_F, _SF) ((_F) &= ~(_SF))
#define PAGE_SIZE 0x1000
#define PAGE_SHIFT 12L

/* ---- lists (types here; the inline routines are in wdm.h, as in the WDK) ------------- */
/* [DUPLICATED] Doubly linked circular list entry. */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY, *RESTRICTED_POINTER PRLIST_ENTRY;

/* [DUPLICATED] Singly linked list entry (PushEntryList/PopEntryList). */
typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

/* ---- 64-bit integers, LUID [DUPLICATED] ---------------------------------------------- */
typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _LUID {
    ULONG LowPart;
    LONG HighPart;
} LUID, *PLUID;

typedef LARGE_INTEGER PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

/* ---- counted strings [DUPLICATED] ---------------------------------------------------- */
/* Length and MaximumLength are in bytes; Buffer need not be NUL-terminated. */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWCH Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING, OEM_STRING, *POEM_STRING;
typedef const STRING *PCSTRING;
typedef const ANSI_STRING *PCANSI_STRING;

/* [CUSTOMISED] RTL_CONSTANT_STRING(s): a counted string over a literal or array (bytes, no
   NUL). Deviation: in C the buffer is cast through void *, so const arrays are accepted
   without a qualifier warning (the WDK relies on MSVC not warning). */
#ifdef __cplusplus
#define RTL_CONSTANT_STRING(s)                                                              \
    { (USHORT)(sizeof(s) - sizeof((s)[0])), (USHORT)sizeof(s), (s) }
#else
#define RTL_CONSTANT_STRING(s)                                                              \
    { (USHORT)(sizeof(s) - sizeof((s)[0])), (USHORT)sizeof(s), (void *)(s) }
#endif
#define DECLARE_CONST_UNICODE_STRING(_var, _string)                                         \
    const WCHAR _var##_buffer[] = _string;                                                  \
    const UNICODE_STRING _var = {sizeof(_string) - sizeof(WCHAR), sizeof(_string),          \
                                 (PWCH)_var##_buffer}
#define DECLARE_UNICODE_STRING_SIZE(_var, _size)                                            \
    WCHAR _var##_buffer[_size];                                                             \
    UNICODE_STRING _var = {0, (_size) * sizeof(WCHAR), _var##_buffer}

/* ---- object attributes [DUPLICATED] -------------------------------------------------- */
#define OBJ_INHERIT 0x00000002L
#define OBJ_PERMANENT 0x00000010L
#define OBJ_EXCLUSIVE 0x00000020L
#define OBJ_CASE_INSENSITIVE 0x00000040L
#define OBJ_OPENIF 0x00000080L
#define OBJ_OPENLINK 0x00000100L
#define OBJ_KERNEL_HANDLE 0x00000200L
#define OBJ_FORCE_ACCESS_CHECK 0x00000400L
#define OBJ_VALID_ATTRIBUTES 0x000007F2L

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;
typedef const OBJECT_ATTRIBUTES *PCOBJECT_ATTRIBUTES;

#define InitializeObjectAttributes(p, n, a, r, s)                                           \
    do {                                                                                    \
        (p)->Length = sizeof(OBJECT_ATTRIBUTES);                                            \
        (p)->RootDirectory = (r);                                                           \
        (p)->Attributes = (a);                                                              \
        (p)->ObjectName = (n);                                                              \
        (p)->SecurityDescriptor = (s);                                                      \
        (p)->SecurityQualityOfService = NULL;                                               \
    } while (0)

/* ---- misc enums [DUPLICATED] --------------------------------------------------------- */
typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;
typedef enum _TIMER_TYPE { NotificationTimer, SynchronizationTimer } TIMER_TYPE;
typedef enum _WAIT_TYPE { WaitAll, WaitAny, WaitNotification, WaitDequeue } WAIT_TYPE;

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

#ifdef __cplusplus
}
#endif
