/*
 * console.h: what the examples do to print the same bytes on every system.
 *
 * On Windows, standard output and error are put in binary mode, so that a line ends in "\n" as
 * on Linux and `--json` output is byte for byte what the Linux build prints (a program that wants
 * CR LF can convert); and a console is told to show UTF-8, the encoding of every string the
 * library hands out. Elsewhere these do nothing.
 */
#ifndef STORETASKS_EXAMPLES_CONSOLE_H
#define STORETASKS_EXAMPLES_CONSOLE_H

#include <stdio.h>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <windows.h>

static inline void console_setup(void) {
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    SetConsoleOutputCP(CP_UTF8);
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

static inline int console_is_live(void) { return isatty(STDOUT_FILENO); }
#endif

#endif
