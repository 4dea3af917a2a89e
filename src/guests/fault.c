/*
 * fault KIND
 *
 * Makes the machine stop with an error of a chosen kind. The SDK installs no trap
 * handler, so every exception below must end the run with a one-line error from the host.
 *
 *   load             ld from address 0x10, outside guest memory
 *   store            sd to address 0x10
 *   illegal          executes the all-zero word, which is defined as illegal
 *   misaligned-jump  jalr to a code address + 2 (with no C extension bit 1 must be 0)
 *   ebreak           executes ebreak
 *   ecall-bad        hypercall 9999; prints the result, exits 0 if it was -ENOSYS, else 1
 *   exit N           exits with code N
 *
 * Output: `fault: KIND` (for exit: `fault: exit N`) before acting. If the machine carries
 * on after an exception, `fault: KIND did not stop the machine` and exit code 1.
 * Unknown KIND: a usage line and exit code 2.
 */
#include "migration.h"

#define UNMAPPED_ADDRESS 0x10
#define UNKNOWN_HYPERCALL 9999

static void announce(const char *kind, const char *detail)
{
    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "fault: ");
    line_text(&line, kind);
    line_text(&line, detail);
    line_end(&line);
}

static int survived(const char *kind)
{
    announce(kind, " did not stop the machine");
    return 1;
}

static void load_unmapped(void)
{
    uint64_t value;
    __asm__ volatile("ld %0, %1(zero)" : "=r"(value) : "i"(UNMAPPED_ADDRESS) : "memory");
    (void)value;
}

static void store_unmapped(void)
{
    __asm__ volatile("sd %0, %1(zero)" : : "r"(0x5A5A5A5Aul), "i"(UNMAPPED_ADDRESS)
                     : "memory");
}

static void execute_illegal(void)
{
    __asm__ volatile(".word 0x00000000" : : : "memory");
}

static void jump_misaligned(void)
{
    /* The target is real code, so only its alignment is wrong. */
    __asm__ volatile("la t0, 1f\n\t"
                     "addi t0, t0, 2\n\t"
                     "jalr zero, 0(t0)\n"
                     "1:\n\t"
                     "nop\n\t"
                     "nop"
                     :
                     :
                     : "t0", "memory");
}

static void execute_ebreak(void)
{
    __asm__ volatile("ebreak" : : : "memory");
}

static int usage(void)
{
    print("usage: fault load|store|illegal|misaligned-jump|ebreak|ecall-bad|exit N\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        return usage();
    }
    const char *kind = argv[1];

    if (strcmp(kind, "exit") == 0) {
        uint64_t code;
        if (argc != 3 || parse_u64(argv[2], &code) != 0) {
            return usage();
        }
        struct line_buffer line;
        line_begin(&line);
        line_text(&line, "fault: exit ");
        line_u64(&line, code);
        line_end(&line);
        guest_exit((int)code);
    }
    if (argc != 2) {
        return usage();
    }

    if (strcmp(kind, "load") == 0) {
        announce(kind, "");
        load_unmapped();
    } else if (strcmp(kind, "store") == 0) {
        announce(kind, "");
        store_unmapped();
    } else if (strcmp(kind, "illegal") == 0) {
        announce(kind, "");
        execute_illegal();
    } else if (strcmp(kind, "misaligned-jump") == 0) {
        announce(kind, "");
        jump_misaligned();
    } else if (strcmp(kind, "ebreak") == 0) {
        announce(kind, "");
        execute_ebreak();
    } else if (strcmp(kind, "ecall-bad") == 0) {
        announce(kind, "");
        long result = hypercall6(UNKNOWN_HYPERCALL, 0, 0, 0, 0, 0, 0);
        struct line_buffer line;
        line_begin(&line);
        line_text(&line, "fault: hypercall ");
        line_u64(&line, UNKNOWN_HYPERCALL);
        line_text(&line, " returned ");
        line_i64(&line, result);
        line_end(&line);
        return result == -GUEST_ENOSYS ? 0 : 1;
    } else {
        return usage();
    }
    return survived(kind);
}
