/* SPDX-License-Identifier: MIT */
/*
 * wsk.h - what network modules that include <wsk.h> instead of <netioddk.h> need from it:
 * the NMR API (netioddk.h) and the socket address types (ws2def.h, ws2ipdef.h), plus the
 * WSK version macros. [STUBBED]: the Winsock Kernel socket interface itself (WSK_CLIENT_*,
 * WskRegister, the socket dispatch tables) is not provided; a module that calls it fails to
 * compile, naming the routine.
 */
#pragma once

#include <netioddk.h>
#include <ws2def.h>
#include <ws2ipdef.h>

#define MAKE_WSK_VERSION(Mj, Mn) ((USHORT)((Mj) << 8) | (USHORT)((Mn) & 0xff))
#define WSK_MAJOR_VERSION(V) ((UCHAR)((V) >> 8))
#define WSK_MINOR_VERSION(V) ((UCHAR)(V))
