/*
 * Guest entry point. The host enters at _start with a0 = argc, a1 = argv and a2 = the
 * exclusive upper limit of the heap (see migration.h).
 */
#include "migration.h"

    .section .text.init, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* Relaxation would turn this into a gp-relative load of gp itself. */
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top

    /* Callee-saved registers keep the entry arguments across the .bss loop and main. */
    mv      s0, a0
    mv      s1, a1
    mv      s2, a2

    /* The linker script aligns both ends of .bss to 8 bytes. */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    /* Stored only now because guest_memory_limit itself lives in .bss. */
    la      t0, guest_memory_limit
    sd      s2, 0(t0)

    mv      a0, s0
    mv      a1, s1
    call    main

    /* a0 already holds main's return value. */
    li      a7, HYPERCALL_EXIT
    ecall
3:  j       3b
    .size _start, . - _start

/*
 * HTIF mailbox. @nobits keeps the preceding .bss out of the file: a section with contents
 * after .bss would force the linker to store .bss as zeros.
 */
    .section .tohost, "aw", @nobits
    .balign 64
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost:
    .skip 8
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost:
    .skip 8
