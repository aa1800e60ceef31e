/* SPDX-License-Identifier: MIT */
/*
 * initguid.h - [DUPLICATED] include after <ntddk.h>/<wdm.h> in exactly the translation
 * units that must define (not just declare) the GUIDs named by later DEFINE_GUID uses.
 * Not "#pragma once": it must be able to switch DEFINE_GUID after guiddef.h was seen.
 */
#ifndef INITGUID
#define INITGUID
#endif
#include <guiddef.h>
