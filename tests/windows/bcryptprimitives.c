/*
 * A stand-in for Windows' bcryptprimitives.dll, for the tests under Wine only (never shipped):
 * Wine 8 lacks that DLL, whose ProcessPrng the Rust standard library uses for random numbers,
 * so a program linking storetasks.dll would not load. This one fills the buffer from
 * RtlGenRandom (advapi32's SystemFunction036), as the real one fills it from the system's RNG.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
