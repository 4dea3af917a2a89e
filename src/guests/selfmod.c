/*
 * selfmod
 *
 * Self-modifying code: copies the machine code of `int f(void) { return 42; }` into a
 * writable buffer, runs it, patches the returned immediate to 43 and runs it again, with
 * fence.i before each call as RISC-V requires. A machine that caches decoded instructions
 * must drop them when the buffer is written (or at fence.i) to print 43.
 *
 * Output (exact):
 *   selfmod 42
 *   selfmod 43
 * Exit code 0 if both results were right, else 1.
 */
#include "migration.h"

#define ADDI_A0_ZERO(immediate) ((uint32_t)(immediate) << 20 | 0x00000513u)
#define RET 0x00008067u

static const uint32_t return_42[] = { ADDI_A0_ZERO(42), RET };

/* In .bss: writable and, in this machine's single RWX segment, executable. */
static uint32_t code_buffer[2] __attribute__((aligned(4)));

typedef long (*generated_function)(void);

static long call_code_buffer(void)
{
    /* The build targets plain rv64im; fence.i belongs to Zifencei, enabled just here. */
    __asm__ volatile(".option push\n\t"
                     ".option arch, +zifencei\n\t"
                     "fence.i\n\t"
                     ".option pop"
                     :
                     :
                     : "memory");
    generated_function function = (generated_function)(uintptr_t)code_buffer;
    return function();
}

static long run_and_print(void)
{
    long result = call_code_buffer();
    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "selfmod ");
    line_i64(&line, result);
    line_end(&line);
    return result;
}

int main(void)
{
    /* volatile keeps the copy and the patch as real stores into the buffer. */
    volatile uint32_t *code = code_buffer;
    code[0] = return_42[0];
    code[1] = return_42[1];
    long first = run_and_print();

    code[0] = ADDI_A0_ZERO(43);
    long second = run_and_print();

    return first == 42 && second == 43 ? 0 : 1;
}
