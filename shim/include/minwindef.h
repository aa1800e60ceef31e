/* SPDX-License-Identifier: MIT */
/*
 * minwindef.h - the Windows SDK's minimal definitions some kernel code shares with user mode
 * (BOOL, DWORD, WORD, BYTE, the LOWORD/HIWORD family, MAX_PATH). [DUPLICATED] over ntdef.h's
 * types. Freestanding headers only.
 */
#pragma once

#include <ntdef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef BOOL *PBOOL, *LPBOOL;
typedef BYTE *LPBYTE;
typedef int *LPINT;
typedef WORD *LPWORD;
typedef LONG *LPLONG;
typedef DWORD *LPDWORD;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef float FLOAT, *PFLOAT;

#define MAX_PATH 260
#define MAKEWORD(a, b) ((WORD)(((BYTE)(((DWORD_PTR)(a)) & 0xff)) | ((WORD)((BYTE)(((DWORD_PTR)(b)) & 0xff))) << 8))
#define MAKELONG(a, b) ((LONG)(((WORD)(((DWORD_PTR)(a)) & 0xffff)) | ((DWORD)((WORD)(((DWORD_PTR)(b)) & 0xffff))) << 16))
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#define LOBYTE(w) ((BYTE)(((DWORD_PTR)(w)) & 0xff))
#define HIBYTE(w) ((BYTE)((((DWORD_PTR)(w)) >> 8) & 0xff))

#ifdef __cplusplus
}
#endif
