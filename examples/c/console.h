/*
 * console.h: what the examples do to print the same bytes on every system.
 *
 * On Windows, standard output and error are put in binary mode, so that a line ends in "\n" as
 * on Linux and `--json` output is byte for byte what the Linux build prints (a program that wants
 * CR LF can convert); and a console is told to show UTF-8, the encoding of every string the
 * library hands out; and the command line is read as UTF-8, the encoding the library takes, since
 * the argv a Windows C runtime hands to main is in the system's ANSI code page, which cannot hold
 * every file name. Elsewhere these do nothing.
 */
#ifndef STORETASKS_EXAMPLES_CONSOLE_H
#define STORETASKS_EXAMPLES_CONSOLE_H

#include <stdio.h>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <windows.h>
#include <shellapi.h>
#ifdef _MSC_VER
#pragma comment(lib, "shell32.lib")
#endif

static inline void console_setup(void) {
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    SetConsoleOutputCP(CP_UTF8);
}

/* Replaces argc and argv with the command line's arguments in UTF-8 (kept for the program's life).
 * If that fails, the runtime's argv stays. */
static inline void console_utf8_args(int *argc, char ***argv) {
    int n = 0;
    LPWSTR *wide = CommandLineToArgvW(GetCommandLineW(), &n);
    if (!wide) return;
    char **utf8 = (char **)calloc((size_t)n + 1, sizeof *utf8);
    int i = 0;
    for (; utf8 && i < n; i++) {
        int len = WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, NULL, 0, NULL, NULL);
        utf8[i] = len > 0 ? (char *)malloc((size_t)len) : NULL;
        if (!utf8[i] || !WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, utf8[i], len, NULL, NULL)) break;
    }
    LocalFree(wide);
    if (utf8 && i == n) {
        *argc = n;
        *argv = utf8;
        return;
    }
    for (int j = 0; utf8 && j <= i && j < n; j++) free(utf8[j]);
    free(utf8);
}

/* Whether standard output is a console that understands the ANSI cursor sequences the live
 * progress view uses (turned on here when the console allows it). */
static inline int console_is_live(void) {
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode = 0;
    if (!_isatty(_fileno(stdout)) || !GetConsoleMode(out, &mode)) return 0;
    return SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}
#else
#include <unistd.h>

static inline void console_setup(void) {}

static inline void console_utf8_args(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
}

static inline int console_is_live(void) { return isatty(STDOUT_FILENO); }
#endif

#endif
