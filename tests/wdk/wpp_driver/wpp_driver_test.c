// SPDX-License-Identifier: MIT
// The WPP compile fixture runs: WPP_INIT_TRACING, custom trace functions of both declaration forms,
// DoTraceMessage and WPP_CLEANUP are no-ops whose arguments are never evaluated (tracing disabled).
#include <ntddk.h>

#include <stdio.h>

NTSTATUS WppFixtureDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);
VOID WppFixtureDriverUnload(PDRIVER_OBJECT DriverObject);
extern ULONG WppFixtureArgumentsEvaluated;

int main(void)
{
    DRIVER_OBJECT driver;
    RtlZeroMemory(&driver, sizeof driver);
    UNICODE_STRING path = RTL_CONSTANT_STRING(L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\wpp");
    if (WppFixtureDriverEntry(&driver, &path) != STATUS_SUCCESS) {
        fprintf(stderr, "wpp fixture: DriverEntry failed\n");
        return 1;
    }
    WppFixtureDriverUnload(&driver);
    if (WppFixtureArgumentsEvaluated != 0) {
        fprintf(stderr, "wpp fixture: trace arguments were evaluated %lu times\n",
                (unsigned long)WppFixtureArgumentsEvaluated);
        return 1;
    }
    printf("ok WPP tracing compiles out: generated .tmh files, custom trace functions, no argument evaluated\n");
    return 0;
}
