/* SPDX-License-Identifier: MIT */
/*
 * ntintsafe.h - the WDK's overflow-checked integer routines (Rtl<Type>Add, Sub, Mult and
 * Rtl<From>To<To> conversions). [DUPLICATED]: on overflow the result is set to the WDK's
 * error value (all ones for unsigned targets, -1 for signed ones) and the routine returns
 * STATUS_INTEGER_OVERFLOW; otherwise STATUS_SUCCESS. Built on the compiler's overflow
 * builtins; freestanding headers only.
 */
#pragma once

#include <ntdef.h>
#include <ntstatus.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSHIM_INTSAFE_E_RESULT(type) ((type)~(type)0)

/* One checked operation: Rtl<Name><Op>(a, b, &result). */
#define KSHIM_INTSAFE_OP(Name, Type, Op, builtin)                                           \
    static __inline__ NTSTATUS Rtl##Name##Op(_In_ Type Augend, _In_ Type Addend,            \
                                             _Out_ Type *pResult)                   \
    {                                                                                       \
        if (__builtin_##builtin##_overflow(Augend, Addend, pResult)) {                      \
            *pResult = KSHIM_INTSAFE_E_RESULT(Type);                                        \
            return STATUS_INTEGER_OVERFLOW;                                                 \
        }                                                                                   \
        return STATUS_SUCCESS;                                                              \
    }
#define KSHIM_INTSAFE_ARITH(Name, Type)                                                     \
    KSHIM_INTSAFE_OP(Name, Type, Add, add)                                                  \
    KSHIM_INTSAFE_OP(Name, Type, Sub, sub)                                                  \
    KSHIM_INTSAFE_OP(Name, Type, Mult, mul)

KSHIM_INTSAFE_ARITH(UInt8, UINT8)
KSHIM_INTSAFE_ARITH(UShort, USHORT)
KSHIM_INTSAFE_ARITH(UInt16, UINT16)
KSHIM_INTSAFE_ARITH(UInt, UINT)
KSHIM_INTSAFE_ARITH(UInt32, UINT32)
KSHIM_INTSAFE_ARITH(ULong, ULONG)
KSHIM_INTSAFE_ARITH(DWord, DWORD)
KSHIM_INTSAFE_ARITH(ULongLong, ULONGLONG)
KSHIM_INTSAFE_ARITH(UInt64, UINT64)
KSHIM_INTSAFE_ARITH(DWord64, DWORD64)
KSHIM_INTSAFE_ARITH(ULongPtr, ULONG_PTR)
KSHIM_INTSAFE_ARITH(SizeT, SIZE_T)
KSHIM_INTSAFE_ARITH(Int8, INT8)
KSHIM_INTSAFE_ARITH(Short, SHORT)
KSHIM_INTSAFE_ARITH(Int, INT)
KSHIM_INTSAFE_ARITH(Int32, INT32)
KSHIM_INTSAFE_ARITH(Long, LONG)
KSHIM_INTSAFE_ARITH(LongLong, LONGLONG)
KSHIM_INTSAFE_ARITH(Int64, INT64)
KSHIM_INTSAFE_ARITH(LongPtr, LONG_PTR)

/* One checked conversion: Rtl<From>To<To>(value, &result). */
#define KSHIM_INTSAFE_CONVERT(FromName, FromType, ToName, ToType)                           \
    static __inline__ NTSTATUS Rtl##FromName##To##ToName(_In_ FromType Operand, _Out_ ToType *pResult) \
    {                                                                                       \
        if (__builtin_add_overflow(Operand, 0, pResult)) { /* exact: the value must fit */  \
            *pResult = KSHIM_INTSAFE_E_RESULT(ToType);                                      \
            return STATUS_INTEGER_OVERFLOW;                                                 \
        }                                                                                   \
        return STATUS_SUCCESS;                                                              \
    }

KSHIM_INTSAFE_CONVERT(ULong, ULONG, UShort, USHORT)
KSHIM_INTSAFE_CONVERT(ULong, ULONG, UChar, UCHAR)
KSHIM_INTSAFE_CONVERT(ULong, ULONG, Long, LONG)
KSHIM_INTSAFE_CONVERT(ULong, ULONG, Int, INT)
KSHIM_INTSAFE_CONVERT(Long, LONG, ULong, ULONG)
KSHIM_INTSAFE_CONVERT(Int, INT, ULong, ULONG)
KSHIM_INTSAFE_CONVERT(ULongLong, ULONGLONG, ULong, ULONG)
KSHIM_INTSAFE_CONVERT(ULongLong, ULONGLONG, SizeT, SIZE_T)
KSHIM_INTSAFE_CONVERT(ULongLong, ULONGLONG, LongLong, LONGLONG)
KSHIM_INTSAFE_CONVERT(LongLong, LONGLONG, ULong, ULONG)
KSHIM_INTSAFE_CONVERT(LongLong, LONGLONG, Long, LONG)
KSHIM_INTSAFE_CONVERT(SizeT, SIZE_T, ULong, ULONG)
KSHIM_INTSAFE_CONVERT(SizeT, SIZE_T, UShort, USHORT)
KSHIM_INTSAFE_CONVERT(SizeT, SIZE_T, UInt, UINT)
KSHIM_INTSAFE_CONVERT(SizeT, SIZE_T, UInt32, UINT32)
KSHIM_INTSAFE_CONVERT(ULongPtr, ULONG_PTR, ULong, ULONG)
KSHIM_INTSAFE_CONVERT(UInt, UINT, UShort, USHORT)
KSHIM_INTSAFE_CONVERT(UInt, UINT, UInt8, UINT8)
KSHIM_INTSAFE_CONVERT(UShort, USHORT, UChar, UCHAR)
KSHIM_INTSAFE_CONVERT(Long, LONG, UShort, USHORT)

#undef KSHIM_INTSAFE_OP
#undef KSHIM_INTSAFE_ARITH
#undef KSHIM_INTSAFE_CONVERT

#ifdef __cplusplus
}
#endif
