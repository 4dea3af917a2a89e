/*
 * htif [CODE]
 *
 * Exits through the HTIF convention instead of the exit hypercall: stores
 * (CODE << 1) | 1 to the `tohost` symbol, then spins until the host stops the machine.
 * CODE defaults to 0 (the store is then 1, success).
 *
 * Output: `htif: exiting with CODE`. Bad CODE: a usage line and exit code 2 (by hypercall).
 */
#include "migration.h"

/* Defined in crt0.S, in the .tohost section; the host finds it by symbol name. */
extern volatile uint64_t tohost;

int main(int argc, char **argv)
{
    uint64_t code = 0;
    if (argc > 2 || (argc == 2 && parse_u64(argv[1], &code) != 0) || code > (UINT64_MAX >> 1)) {
        print("usage: htif [CODE]\n");
        return 2;
    }

    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "htif: exiting with ");
    line_u64(&line, code);
    line_end(&line);

    tohost = (code << 1) | 1;
    for (;;) {
    }
}
