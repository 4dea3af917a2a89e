/*
 * selftest
 *
 * Exercises RV64IM corner cases whose results the host recomputes: multiply and divide
 * (including division by zero and overflow), the 32-bit W forms, comparisons and
 * branches, shifts by out-of-range amounts, load sign extension, misaligned and
 * page-crossing accesses, plus a few whole computations (CRC-32, fib(90), a sort).
 * Instructions under test are emitted with inline asm so the compiler cannot fold or
 * replace them; with GUEST_HOST_BUILD the same functions are plain C implementing the
 * RISC-V semantics, which gives the reference output.
 *
 * Output: one line per result, `NAME 0xHHHHHHHHHHHHHHHH` (the full 64-bit value, 16
 * lowercase hex digits), then `selftest done`; exit code 0. The exact text is in
 * expected/selftest.out. Definitions the host needs to recompute the lines:
 *
 *   fold(h, v) = (h ^ v) * 0x100000001B3, starting from h = 0xCBF29CE484222325
 *   OP_fold    fold of OP(a, b) over operand_pairs, in order
 *   SHIFT_fold fold of SHIFT(v, s) for v in shift_values (outer loop), s in shift_amounts
 *   B_mask     for branches and slt/sltu: bit (7 * i + j) = B(compare_values[i],
 *              compare_values[j]); for slti/sltiu: bit i = OP(compare_values[i])
 *   crc32_*    reflected CRC-32, polynomial 0xEDB88320, init and final xor 0xFFFFFFFF
 *   crc32_buffer  over 1000 bytes: s = 1; per byte s = s * 1103515245 + 12345 (uint32),
 *              byte = s >> 24
 *   sort_*     1000 values of xorshift32 (x = 2463534242; x ^= x << 13; x ^= x >> 17;
 *              x ^= x << 5; value = x), sorted ascending; sort_hash: h = 0,
 *              h = h * 31 + value (uint64) over the sorted values; sort_ordered: 1
 *   misaligned_* over a 32-byte buffer with byte i = (uint8)(0x80 + 13 * i)
 */
#include "migration.h"

#define FOLD_SEED 0xCBF29CE484222325ull
#define FOLD_PRIME 0x100000001B3ull

static uint64_t fold(uint64_t hash, uint64_t value)
{
    return (hash ^ value) * FOLD_PRIME;
}

static void report(const char *name, uint64_t value)
{
    struct line_buffer line;
    line_begin(&line);
    line_text(&line, name);
    line_text(&line, " ");
    line_hex64(&line, value);
    line_end(&line);
}

/* ---- Instructions under test ------------------------------------------------------- */

typedef uint64_t (*binary_op)(uint64_t, uint64_t);
typedef uint64_t (*unary_op)(uint64_t);

#ifdef GUEST_HOST_BUILD

static uint64_t sign_extend_32(uint32_t value)
{
    return (uint64_t)(int64_t)(int32_t)value;
}

static uint64_t op_mul(uint64_t a, uint64_t b) { return a * b; }
static uint64_t op_mulh(uint64_t a, uint64_t b)
{
    return (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64);
}
static uint64_t op_mulhsu(uint64_t a, uint64_t b)
{
    return (uint64_t)(((__int128)(int64_t)a * (__int128)b) >> 64);
}
static uint64_t op_mulhu(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

/* x86 traps on these cases; RISC-V defines results for them instead. */
static uint64_t op_div(uint64_t a, uint64_t b)
{
    int64_t x = (int64_t)a, y = (int64_t)b;
    if (y == 0) return UINT64_MAX;
    if (x == INT64_MIN && y == -1) return a;
    return (uint64_t)(x / y);
}
static uint64_t op_divu(uint64_t a, uint64_t b) { return b == 0 ? UINT64_MAX : a / b; }
static uint64_t op_rem(uint64_t a, uint64_t b)
{
    int64_t x = (int64_t)a, y = (int64_t)b;
    if (y == 0) return a;
    if (x == INT64_MIN && y == -1) return 0;
    return (uint64_t)(x % y);
}
static uint64_t op_remu(uint64_t a, uint64_t b) { return b == 0 ? a : a % b; }

static uint64_t op_addw(uint64_t a, uint64_t b) { return sign_extend_32((uint32_t)(a + b)); }
static uint64_t op_subw(uint64_t a, uint64_t b) { return sign_extend_32((uint32_t)(a - b)); }
static uint64_t op_mulw(uint64_t a, uint64_t b)
{
    return sign_extend_32((uint32_t)a * (uint32_t)b);
}
static uint64_t op_divw(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)a, y = (int32_t)b;
    if (y == 0) return UINT64_MAX;
    if (x == INT32_MIN && y == -1) return sign_extend_32((uint32_t)x);
    return sign_extend_32((uint32_t)(x / y));
}
static uint64_t op_divuw(uint64_t a, uint64_t b)
{
    uint32_t x = (uint32_t)a, y = (uint32_t)b;
    return y == 0 ? UINT64_MAX : sign_extend_32(x / y);
}
static uint64_t op_remw(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)a, y = (int32_t)b;
    if (y == 0) return sign_extend_32((uint32_t)x);
    if (x == INT32_MIN && y == -1) return 0;
    return sign_extend_32((uint32_t)(x % y));
}
static uint64_t op_remuw(uint64_t a, uint64_t b)
{
    uint32_t x = (uint32_t)a, y = (uint32_t)b;
    return sign_extend_32(y == 0 ? x : x % y);
}

static uint64_t op_sll(uint64_t a, uint64_t b) { return a << (b & 63); }
static uint64_t op_srl(uint64_t a, uint64_t b) { return a >> (b & 63); }
static uint64_t op_sra(uint64_t a, uint64_t b) { return (uint64_t)((int64_t)a >> (b & 63)); }
static uint64_t op_sllw(uint64_t a, uint64_t b)
{
    return sign_extend_32((uint32_t)a << (b & 31));
}
static uint64_t op_srlw(uint64_t a, uint64_t b)
{
    return sign_extend_32((uint32_t)a >> (b & 31));
}
static uint64_t op_sraw(uint64_t a, uint64_t b)
{
    return sign_extend_32((uint32_t)((int32_t)a >> (b & 31)));
}

static uint64_t op_slt(uint64_t a, uint64_t b) { return (int64_t)a < (int64_t)b; }
static uint64_t op_sltu(uint64_t a, uint64_t b) { return a < b; }
static uint64_t branch_beq(uint64_t a, uint64_t b) { return a == b; }
static uint64_t branch_bne(uint64_t a, uint64_t b) { return a != b; }
static uint64_t branch_blt(uint64_t a, uint64_t b) { return (int64_t)a < (int64_t)b; }
static uint64_t branch_bge(uint64_t a, uint64_t b) { return (int64_t)a >= (int64_t)b; }
static uint64_t branch_bltu(uint64_t a, uint64_t b) { return a < b; }
static uint64_t branch_bgeu(uint64_t a, uint64_t b) { return a >= b; }

static uint64_t slti_minus_1(uint64_t a) { return (int64_t)a < -1; }
static uint64_t sltiu_minus_1(uint64_t a) { return a < UINT64_MAX; }
static uint64_t sltiu_1(uint64_t a) { return a < 1; }
static uint64_t slli_63(uint64_t a) { return a << 63; }
static uint64_t srli_63(uint64_t a) { return a >> 63; }
static uint64_t srai_63(uint64_t a) { return (uint64_t)((int64_t)a >> 63); }
static uint64_t slliw_31(uint64_t a) { return sign_extend_32((uint32_t)a << 31); }
static uint64_t srliw_31(uint64_t a) { return sign_extend_32((uint32_t)a >> 31); }
static uint64_t sraiw_31(uint64_t a) { return sign_extend_32((uint32_t)((int32_t)a >> 31)); }
static uint64_t srliw_0(uint64_t a) { return sign_extend_32((uint32_t)a); }
static uint64_t addiw_1(uint64_t a) { return sign_extend_32((uint32_t)a + 1); }

static uint64_t lui_0x80000(void) { return 0xFFFFFFFF80000000ull; }
static uint64_t x0_after_writes(void) { return 0; }
static uint64_t jalr_clears_bit_0(void) { return 12; }

/* Little-endian byte access, so the host build has no misaligned pointer casts. */
static uint64_t load_bytes(const void *address, int size)
{
    const uint8_t *bytes = address;
    uint64_t value = 0;
    for (int i = size - 1; i >= 0; i--) {
        value = value << 8 | bytes[i];
    }
    return value;
}
static void store_bytes(void *address, uint64_t value, int size)
{
    uint8_t *bytes = address;
    for (int i = 0; i < size; i++) {
        bytes[i] = (uint8_t)(value >> (8 * i));
    }
}
static uint64_t load_lb(const void *p) { return (uint64_t)(int64_t)(int8_t)load_bytes(p, 1); }
static uint64_t load_lh(const void *p) { return (uint64_t)(int64_t)(int16_t)load_bytes(p, 2); }
static uint64_t load_lw(const void *p) { return (uint64_t)(int64_t)(int32_t)load_bytes(p, 4); }
static uint64_t load_ld(const void *p) { return load_bytes(p, 8); }
static uint64_t load_lbu(const void *p) { return load_bytes(p, 1); }
static uint64_t load_lhu(const void *p) { return load_bytes(p, 2); }
static uint64_t load_lwu(const void *p) { return load_bytes(p, 4); }
static void store_sb(void *p, uint64_t v) { store_bytes(p, v, 1); }
static void store_sh(void *p, uint64_t v) { store_bytes(p, v, 2); }
static void store_sw(void *p, uint64_t v) { store_bytes(p, v, 4); }
static void store_sd(void *p, uint64_t v) { store_bytes(p, v, 8); }

#else /* RISC-V */

#define REGISTER_OP(function, mnemonic)                                                 \
    static uint64_t function(uint64_t a, uint64_t b)                                    \
    {                                                                                   \
        uint64_t result;                                                                \
        __asm__ volatile(mnemonic " %0, %1, %2" : "=r"(result) : "r"(a), "r"(b));       \
        return result;                                                                  \
    }

#define IMMEDIATE_OP(function, mnemonic, immediate)                                     \
    static uint64_t function(uint64_t a)                                                \
    {                                                                                   \
        uint64_t result;                                                                \
        __asm__ volatile(mnemonic " %0, %1, " #immediate : "=r"(result) : "r"(a));      \
        return result;                                                                  \
    }

/* Reports whether the branch was taken. */
#define BRANCH_OP(function, mnemonic)                                                   \
    static uint64_t function(uint64_t a, uint64_t b)                                    \
    {                                                                                   \
        uint64_t taken;                                                                 \
        __asm__ volatile("li %0, 1\n\t" mnemonic " %1, %2, 1f\n\tli %0, 0\n1:"          \
                         : "=&r"(taken)                                                 \
                         : "r"(a), "r"(b));                                             \
        return taken;                                                                   \
    }

#define LOAD_OP(function, mnemonic)                                                     \
    static uint64_t function(const void *address)                                       \
    {                                                                                   \
        uint64_t result;                                                                \
        __asm__ volatile(mnemonic " %0, 0(%1)" : "=r"(result) : "r"(address) : "memory"); \
        return result;                                                                  \
    }

#define STORE_OP(function, mnemonic)                                                    \
    static void function(void *address, uint64_t value)                                 \
    {                                                                                   \
        __asm__ volatile(mnemonic " %0, 0(%1)" : : "r"(value), "r"(address) : "memory"); \
    }

REGISTER_OP(op_mul, "mul")
REGISTER_OP(op_mulh, "mulh")
REGISTER_OP(op_mulhsu, "mulhsu")
REGISTER_OP(op_mulhu, "mulhu")
REGISTER_OP(op_div, "div")
REGISTER_OP(op_divu, "divu")
REGISTER_OP(op_rem, "rem")
REGISTER_OP(op_remu, "remu")
REGISTER_OP(op_addw, "addw")
REGISTER_OP(op_subw, "subw")
REGISTER_OP(op_mulw, "mulw")
REGISTER_OP(op_divw, "divw")
REGISTER_OP(op_divuw, "divuw")
REGISTER_OP(op_remw, "remw")
REGISTER_OP(op_remuw, "remuw")
REGISTER_OP(op_sll, "sll")
REGISTER_OP(op_srl, "srl")
REGISTER_OP(op_sra, "sra")
REGISTER_OP(op_sllw, "sllw")
REGISTER_OP(op_srlw, "srlw")
REGISTER_OP(op_sraw, "sraw")
REGISTER_OP(op_slt, "slt")
REGISTER_OP(op_sltu, "sltu")
BRANCH_OP(branch_beq, "beq")
BRANCH_OP(branch_bne, "bne")
BRANCH_OP(branch_blt, "blt")
BRANCH_OP(branch_bge, "bge")
BRANCH_OP(branch_bltu, "bltu")
BRANCH_OP(branch_bgeu, "bgeu")
IMMEDIATE_OP(slti_minus_1, "slti", -1)
IMMEDIATE_OP(sltiu_minus_1, "sltiu", -1)
IMMEDIATE_OP(sltiu_1, "sltiu", 1)
IMMEDIATE_OP(slli_63, "slli", 63)
IMMEDIATE_OP(srli_63, "srli", 63)
IMMEDIATE_OP(srai_63, "srai", 63)
IMMEDIATE_OP(slliw_31, "slliw", 31)
IMMEDIATE_OP(srliw_31, "srliw", 31)
IMMEDIATE_OP(sraiw_31, "sraiw", 31)
IMMEDIATE_OP(srliw_0, "srliw", 0)
IMMEDIATE_OP(addiw_1, "addiw", 1)
LOAD_OP(load_lb, "lb")
LOAD_OP(load_lh, "lh")
LOAD_OP(load_lw, "lw")
LOAD_OP(load_ld, "ld")
LOAD_OP(load_lbu, "lbu")
LOAD_OP(load_lhu, "lhu")
LOAD_OP(load_lwu, "lwu")
STORE_OP(store_sb, "sb")
STORE_OP(store_sh, "sh")
STORE_OP(store_sw, "sw")
STORE_OP(store_sd, "sd")

static uint64_t lui_0x80000(void)
{
    uint64_t result;
    __asm__ volatile("lui %0, 0x80000" : "=r"(result));
    return result;
}

/* Writes to x0 must be discarded, whatever instruction makes them. */
static uint64_t x0_after_writes(void)
{
    uint64_t result;
    __asm__ volatile("addi zero, zero, 5\n\t"
                     "lui zero, 0x12345\n\t"
                     "add zero, %1, %1\n\t"
                     "mv %0, zero"
                     : "=r"(result)
                     : "r"(7ul));
    return result;
}

/*
 * jalr clears bit 0 of its target: jumping to base + 17 must land on base + 16, skip the
 * addi at base + 12, and link base + 12. The result is link - base = 12.
 */
static uint64_t jalr_clears_bit_0(void)
{
    uint64_t link_offset;
    uint64_t base;
    __asm__ volatile("auipc %1, 0\n\t"
                     "addi t0, %1, 17\n\t"
                     "jalr %0, 0(t0)\n\t"
                     "addi %1, %1, 1000\n\t"
                     "sub %0, %0, %1"
                     : "=&r"(link_offset), "=&r"(base)
                     :
                     : "t0");
    return link_offset;
}

#endif /* GUEST_HOST_BUILD */

/* ---- Operands ---------------------------------------------------------------------- */

/* volatile: every operand is a real load, so no result can be computed at compile time. */
static const volatile uint64_t operand_pairs[][2] = {
    { 0, 0 },
    { 1, UINT64_MAX },
    { UINT64_MAX, UINT64_MAX },
    { 0x8000000000000000ull, UINT64_MAX },
    { 0x7FFFFFFFFFFFFFFFull, 0x7FFFFFFFFFFFFFFFull },
    { 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull },
    { 0x8000000000000000ull, 0x8000000000000000ull },
    { 0x123456789ABCDEF0ull, 0xFEDCBA9876543210ull },
    { (uint64_t)-7, 2 },
    { 7, (uint64_t)-2 },
    { 0xFFFFFFFF80000000ull, 0x00000000FFFFFFFFull },
    { 0x0123456789ABCDEFull, 0 },
    { 0x00000000FFFFFFFFull, 0xFFFFFFFF00000001ull },
};
#define OPERAND_PAIR_COUNT (sizeof(operand_pairs) / sizeof(operand_pairs[0]))

static const volatile uint64_t compare_values[] = {
    0, 1, UINT64_MAX, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull, 0x80000000ull,
    0xFFFFFFFFull,
};
#define COMPARE_VALUE_COUNT (sizeof(compare_values) / sizeof(compare_values[0]))

static const volatile uint64_t shift_values[] = {
    0x8000000000000001ull, 0xF0E1D2C3B4A59687ull, 0x0000000080000000ull,
};
static const volatile uint64_t shift_amounts[] = {
    0, 1, 31, 32, 33, 63, 64, 65, 127, UINT64_MAX,
};

struct named_binary_op {
    const char *name;
    binary_op op;
};

static const struct named_binary_op arithmetic_ops[] = {
    { "mul_fold", op_mul },     { "mulh_fold", op_mulh },   { "mulhsu_fold", op_mulhsu },
    { "mulhu_fold", op_mulhu }, { "div_fold", op_div },     { "divu_fold", op_divu },
    { "rem_fold", op_rem },     { "remu_fold", op_remu },   { "addw_fold", op_addw },
    { "subw_fold", op_subw },   { "mulw_fold", op_mulw },   { "divw_fold", op_divw },
    { "divuw_fold", op_divuw }, { "remw_fold", op_remw },   { "remuw_fold", op_remuw },
};

static const struct named_binary_op shift_ops[] = {
    { "sll_fold", op_sll },   { "srl_fold", op_srl },   { "sra_fold", op_sra },
    { "sllw_fold", op_sllw }, { "srlw_fold", op_srlw }, { "sraw_fold", op_sraw },
};

static const struct named_binary_op compare_ops[] = {
    { "slt_mask", op_slt },       { "sltu_mask", op_sltu },     { "beq_mask", branch_beq },
    { "bne_mask", branch_bne },   { "blt_mask", branch_blt },   { "bge_mask", branch_bge },
    { "bltu_mask", branch_bltu }, { "bgeu_mask", branch_bgeu },
};

struct named_unary_op {
    const char *name;
    unary_op op;
};

static const struct named_unary_op compare_immediate_ops[] = {
    { "slti_minus_1_mask", slti_minus_1 },
    { "sltiu_minus_1_mask", sltiu_minus_1 },
    { "sltiu_1_mask", sltiu_1 },
};

static const struct named_unary_op shift_immediate_ops[] = {
    { "slli_63", slli_63 },   { "srli_63", srli_63 },   { "srai_63", srai_63 },
    { "slliw_31", slliw_31 }, { "srliw_31", srliw_31 }, { "sraiw_31", sraiw_31 },
    { "srliw_0", srliw_0 },
};
static const volatile uint64_t shift_immediate_operand = 0x8000000180000001ull;

#define ARRAY_LENGTH(array) (sizeof(array) / sizeof((array)[0]))

/* ---- Tests ------------------------------------------------------------------------- */

static void test_arithmetic(void)
{
    for (size_t k = 0; k < ARRAY_LENGTH(arithmetic_ops); k++) {
        uint64_t hash = FOLD_SEED;
        for (size_t i = 0; i < OPERAND_PAIR_COUNT; i++) {
            hash = fold(hash, arithmetic_ops[k].op(operand_pairs[i][0], operand_pairs[i][1]));
        }
        report(arithmetic_ops[k].name, hash);
    }

    /* The defined results of the cases that trap on other architectures. */
    static const volatile uint64_t dividend = 0xFEDCBA9876543210ull;
    static const volatile uint64_t word_dividend = 0x0123456789ABCDEFull;
    static const volatile uint64_t zero = 0;
    static const volatile uint64_t minus_one = UINT64_MAX;
    static const volatile uint64_t int64_min = 0x8000000000000000ull;
    static const volatile uint64_t int32_min_with_junk = 0x1234567880000000ull;
    static const volatile uint64_t word_minus_one_with_junk = 0x00000000FFFFFFFFull;
    report("div_by_zero", op_div(dividend, zero));
    report("divu_by_zero", op_divu(dividend, zero));
    report("rem_by_zero", op_rem(dividend, zero));
    report("remu_by_zero", op_remu(dividend, zero));
    report("divw_by_zero", op_divw(word_dividend, zero));
    report("divuw_by_zero", op_divuw(word_dividend, zero));
    report("remw_by_zero", op_remw(word_dividend, zero));
    report("remuw_by_zero", op_remuw(word_dividend, zero));
    report("div_overflow", op_div(int64_min, minus_one));
    report("rem_overflow", op_rem(int64_min, minus_one));
    report("divw_overflow", op_divw(int32_min_with_junk, word_minus_one_with_junk));
    report("remw_overflow", op_remw(int32_min_with_junk, word_minus_one_with_junk));

    report("mulh_min_min", op_mulh(int64_min, int64_min));
    report("mulhsu_minus_1_max", op_mulhsu(minus_one, minus_one));
    report("mulhu_max_max", op_mulhu(minus_one, minus_one));
    static const volatile uint64_t int32_max = 0x7FFFFFFF;
    static const volatile uint64_t two = 2;
    report("mulw_wrap", op_mulw(int32_max, two));
    report("addiw_wrap", addiw_1(int32_max));
    report("lui_0x80000", lui_0x80000());
}

static void test_comparisons(void)
{
    for (size_t k = 0; k < ARRAY_LENGTH(compare_ops); k++) {
        uint64_t mask = 0;
        for (size_t i = 0; i < COMPARE_VALUE_COUNT; i++) {
            for (size_t j = 0; j < COMPARE_VALUE_COUNT; j++) {
                uint64_t bit = compare_ops[k].op(compare_values[i], compare_values[j]);
                mask |= (bit & 1) << (COMPARE_VALUE_COUNT * i + j);
            }
        }
        report(compare_ops[k].name, mask);
    }
    for (size_t k = 0; k < ARRAY_LENGTH(compare_immediate_ops); k++) {
        uint64_t mask = 0;
        for (size_t i = 0; i < COMPARE_VALUE_COUNT; i++) {
            mask |= (compare_immediate_ops[k].op(compare_values[i]) & 1) << i;
        }
        report(compare_immediate_ops[k].name, mask);
    }
}

static void test_shifts(void)
{
    for (size_t k = 0; k < ARRAY_LENGTH(shift_ops); k++) {
        uint64_t hash = FOLD_SEED;
        for (size_t i = 0; i < ARRAY_LENGTH(shift_values); i++) {
            for (size_t j = 0; j < ARRAY_LENGTH(shift_amounts); j++) {
                hash = fold(hash, shift_ops[k].op(shift_values[i], shift_amounts[j]));
            }
        }
        report(shift_ops[k].name, hash);
    }
    report("sll_by_64", op_sll(shift_values[0], shift_amounts[6]));
    report("sra_by_65", op_sra(shift_values[0], shift_amounts[7]));
    static const volatile uint64_t high_word_value = 0xFFFFFFFF80000000ull;
    report("srlw_by_32", op_srlw(high_word_value, shift_amounts[3]));
    for (size_t k = 0; k < ARRAY_LENGTH(shift_immediate_ops); k++) {
        report(shift_immediate_ops[k].name, shift_immediate_ops[k].op(shift_immediate_operand));
    }
}

static void test_control_and_registers(void)
{
    report("x0_after_writes", x0_after_writes());
    report("jalr_clears_bit_0", jalr_clears_bit_0());
}

static const uint8_t sign_bytes[16] __attribute__((aligned(8))) = {
    0x80, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x80,
    0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_load_extension(void)
{
    report("lb_80", load_lb(&sign_bytes[0]));
    report("lbu_80", load_lbu(&sign_bytes[0]));
    report("lb_7f", load_lb(&sign_bytes[8]));
    report("lh_ff80", load_lh(&sign_bytes[0]));
    report("lhu_ff80", load_lhu(&sign_bytes[0]));
    report("lh_007f", load_lh(&sign_bytes[8]));
    report("lw_ffffff80", load_lw(&sign_bytes[0]));
    report("lwu_ffffff80", load_lwu(&sign_bytes[0]));
    report("lw_80000000", load_lw(&sign_bytes[4]));
    report("lwu_80000000", load_lwu(&sign_bytes[4]));
    report("ld_mixed", load_ld(&sign_bytes[0]));

    /* Narrow stores write only the low bytes of the register. */
    static uint64_t store_target[1];
    store_sd(store_target, 0x1122334455667788ull);
    store_sb((uint8_t *)store_target + 0, 0xFFFFFFFFFFFFFFABull);
    store_sh((uint8_t *)store_target + 2, 0xFFFFFFFFFFFFCDEFull);
    store_sw((uint8_t *)store_target + 4, 0x0000000189ABCDEFull);
    report("store_widths", load_ld(store_target));
}

static uint8_t misaligned_buffer[32] __attribute__((aligned(8)));
/* Two pages, so one access can straddle the boundary between them. */
static uint8_t page_pair[2 * GUEST_PAGE_SIZE] __attribute__((aligned(GUEST_PAGE_SIZE)));

static void test_misaligned(void)
{
    for (size_t i = 0; i < sizeof(misaligned_buffer); i++) {
        misaligned_buffer[i] = (uint8_t)(0x80 + 13 * i);
    }
    report("misaligned_ld_1", load_ld(misaligned_buffer + 1));
    report("misaligned_ld_7", load_ld(misaligned_buffer + 7));
    report("misaligned_lw_3", load_lw(misaligned_buffer + 3));
    report("misaligned_lwu_5", load_lwu(misaligned_buffer + 5));
    report("misaligned_lh_1", load_lh(misaligned_buffer + 1));
    report("misaligned_lhu_7", load_lhu(misaligned_buffer + 7));

    store_sd(misaligned_buffer + 3, 0x0123456789ABCDEFull);
    store_sw(misaligned_buffer + 13, 0x89ABCDEFull);
    store_sh(misaligned_buffer + 23, 0xBEEFull);
    uint64_t hash = FOLD_SEED;
    for (size_t i = 0; i < sizeof(misaligned_buffer); i += 8) {
        hash = fold(hash, load_ld(misaligned_buffer + i));
    }
    report("misaligned_stores", hash);

    uint8_t *straddle = page_pair + GUEST_PAGE_SIZE - 3;
    store_sd(straddle, 0xA1B2C3D4E5F60718ull);
    report("page_crossing_ld", load_ld(straddle));
    report("page_crossing_low_word", load_ld(page_pair + GUEST_PAGE_SIZE - 8));
    report("page_crossing_high_word", load_ld(page_pair + GUEST_PAGE_SIZE));
}

static uint32_t crc32(const uint8_t *data, size_t length)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

#define CRC_BUFFER_LENGTH 1000
static uint8_t crc_buffer[CRC_BUFFER_LENGTH];

static void test_crc32(void)
{
    static const uint8_t check_input[] = "123456789";
    report("crc32_check", crc32(check_input, sizeof(check_input) - 1));

    uint32_t state = 1;
    for (size_t i = 0; i < CRC_BUFFER_LENGTH; i++) {
        state = state * 1103515245u + 12345u;
        crc_buffer[i] = (uint8_t)(state >> 24);
    }
    report("crc32_buffer", crc32(crc_buffer, CRC_BUFFER_LENGTH));
}

static void test_fibonacci(void)
{
    static const volatile uint64_t count = 90;
    uint64_t previous = 0;
    uint64_t current = 1;
    for (uint64_t i = 1; i < count; i++) {
        uint64_t next = previous + current;
        previous = current;
        current = next;
    }
    report("fib90", current);
}

#define SORT_LENGTH 1000
static uint32_t sort_values[SORT_LENGTH];

static void test_sort(void)
{
    static const volatile uint32_t seed = 2463534242u;
    uint32_t x = seed;
    for (size_t i = 0; i < SORT_LENGTH; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        sort_values[i] = x;
    }
    for (size_t i = 1; i < SORT_LENGTH; i++) {
        uint32_t value = sort_values[i];
        size_t j = i;
        while (j > 0 && sort_values[j - 1] > value) {
            sort_values[j] = sort_values[j - 1];
            j--;
        }
        sort_values[j] = value;
    }
    uint64_t hash = 0;
    uint64_t ordered = 1;
    for (size_t i = 0; i < SORT_LENGTH; i++) {
        hash = hash * 31 + sort_values[i];
        if (i > 0 && sort_values[i - 1] > sort_values[i]) {
            ordered = 0;
        }
    }
    report("sort_hash", hash);
    report("sort_ordered", ordered);
}

int main(void)
{
    test_arithmetic();
    test_comparisons();
    test_shifts();
    test_control_and_registers();
    test_load_extension();
    test_misaligned();
    test_crc32();
    test_fibonacci();
    test_sort();
    print("selftest done\n");
    return 0;
}
