/* SPDX-License-Identifier: MIT */
/*
 * driverspecs.h - driver annotations (IRQL, function classes, pool), as empty macros.
 *
 * [STUBBED] Every annotation expands to nothing. The shim enforces the IRQL contracts
 * they describe at run time instead (a routine called above its maximum IRQL stops with
 * IRQL_TOO_HIGH; waiting above APC_LEVEL stops with WAIT_AT_RAISED_IRQL).
 * Deviation: annotations are not checked statically.
 * Includes only sal.h, so it is safe under kshim/banned.h.
 */
#pragma once

#include <sal.h>

#define _IRQL_requires_(irql)
#define _IRQL_requires_max_(irql)
#define _IRQL_requires_min_(irql)
#define _IRQL_requires_same_
#define _IRQL_raises_(irql)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(kind, param)
#define _IRQL_restores_global_(kind, param)
#define _IRQL_always_function_max_(irql)
#define _IRQL_always_function_min_(irql)
#define _IRQL_is_cancel_
#define _IRQL_uses_cancel_
#define _IRQL_lowers_(irql)
#define _Function_class_(name)
#define _Dispatch_type_(type)
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _Kernel_float_used_
#define _Kernel_requires_resource_held_(kind)
#define _Kernel_requires_resource_not_held_(kind)
#define _Kernel_acquires_resource_(kind)
#define _Kernel_releases_resource_(kind)
#define _Kernel_clear_do_init_(yesno)
#define _Kernel_IoGetDmaAdapter_
#define _Kernel_ptr_
#define _User_ptr_
#define _Enum_is_bitflag_

#define __drv_aliasesMem
#define __drv_allocatesMem(kind)
#define __drv_freesMem(kind)
#define __drv_maxIRQL(irql)
#define __drv_minIRQL(irql)
#define __drv_requiresIRQL(irql)
#define __drv_setsIRQL(irql)
#define __drv_raisesIRQL(irql)
#define __drv_savesIRQL
#define __drv_restoresIRQL
#define __drv_savesIRQLGlobal(kind, param)
#define __drv_restoresIRQLGlobal(kind, param)
#define __drv_when(cond, annotations)
#define __drv_functionClass(name)
#define __drv_dispatchType(type)
#define __drv_strictType(type, mode)
#define __drv_strictTypeMatch(mode)
#define __drv_inTry
#define __drv_notInTry
#define __drv_reportError(why)
#define __drv_acquiresResource(kind)
#define __drv_releasesResource(kind)
#define __drv_mustHold(kind)
#define __drv_neverHold(kind)
#define __drv_acquiresCriticalRegion
#define __drv_releasesCriticalRegion
#define __drv_mustHoldCriticalRegion
#define __drv_acquiresExclusiveResource(kind)
#define __drv_releasesExclusiveResource(kind)
#define __drv_valueIs(values)
#define __drv_constant
#define __drv_nonConstant
#define __drv_preferredFunction(func, why)
#define __drv_isObjectPointer
#define __drv_useCancelIRQL
#define __drv_clearDoInit(yesno)
#define __drv_innerMustHoldGlobal(kind, param)
#define __drv_innerNeverHoldGlobal(kind, param)
#define __drv_sameIRQL
#define __drv_floatUsed
#define __drv_floatSaved
#define __drv_floatRestored
