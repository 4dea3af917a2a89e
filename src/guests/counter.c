/*
 * counter [ROUNDS [STEPS]]
 *
 * Deterministic integer workload: ROUNDS rounds (default 20) of STEPS steps (default
 * 3500000), one progress line per round. Every round costs the same number of
 * instructions, so the default run is about 2.45 billion instructions (see README.md).
 * The state carries over between rounds, so the first lines of a long run equal the
 * output of a shorter one.
 *
 * Output (exact):
 *   counter: ROUNDS rounds of STEPS steps
 *   round I/ROUNDS acc=0xHHHHHHHHHHHHHHHH        for I = 1..ROUNDS
 *   checksum 0xHHHHHHHHHHHHHHHH
 * Numbers are decimal; 0x values are 16 lowercase hex digits. Bad arguments print a usage
 * line and exit with code 2.
 *
 * The algorithm, written to port directly to C# (unchecked arithmetic; uint = uint32_t,
 * ulong = uint64_t, int = int32_t, long = int64_t; Math.BigMul(ulong, ulong, out _) gives
 * the high half of the 128-bit product):
 *
 *   x = 0x9E3779B97F4A7C15; y = 12345; acc = 0                  (ulong, uint, ulong)
 *   each step:
 *     x ^= x << 13; x ^= x >> 7; x ^= x << 17;                   xorshift64
 *     y = y * 1664525 + 1013904223;                               32-bit LCG
 *     ulong d  = (x >> 44) | 1;                                   odd, never zero
 *     ulong q  = acc / d, r = acc % d;                            unsigned 64-bit
 *     long  sq = (long)acc / (long)d;                             signed 64-bit, d > 0
 *     int   a  = (int)(y ^ (y >> 16));
 *     int   b  = (int)(x & 0xFFFF) | 1;                           positive
 *     int   wq = a / b, wr = a % b;                               signed 32-bit
 *     ulong hi = high 64 bits of acc * x;                         unsigned 128-bit
 *     acc = (acc ^ hi) * 0xBF58476D1CE4E5B9 + q + (r << 11) + (ulong)sq
 *           + (ulong)(long)wq + ((ulong)(uint)wr << (int)(y >> 27));
 *   after each round print acc; at the end checksum = acc ^ x ^ (ulong)y.
 *
 * Expected output of `counter 3` (also in expected/counter-3.out):
 *   counter: 3 rounds of 3500000 steps
 *   round 1/3 acc=0x33a3469aff11e041
 *   round 2/3 acc=0x2140f0091c401303
 *   round 3/3 acc=0x542c00ec209d14e7
 *   checksum 0xb4cf5a8b1c0ac651
 */
#include "migration.h"

#define DEFAULT_ROUNDS 20
#define DEFAULT_STEPS 3500000

struct counter_state {
    uint64_t x;
    uint32_t y;
    uint64_t acc;
};

static uint64_t high_product(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

static void counter_step(struct counter_state *state)
{
    uint64_t x = state->x;
    uint32_t y = state->y;
    uint64_t acc = state->acc;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    y = y * 1664525u + 1013904223u;

    uint64_t divisor = (x >> 44) | 1;
    uint64_t quotient = acc / divisor;
    uint64_t remainder = acc % divisor;
    int64_t signed_quotient = (int64_t)acc / (int64_t)divisor;

    int32_t word_dividend = (int32_t)(y ^ (y >> 16));
    int32_t word_divisor = (int32_t)(x & 0xFFFF) | 1;
    int32_t word_quotient = word_dividend / word_divisor;
    int32_t word_remainder = word_dividend % word_divisor;

    uint64_t high = high_product(acc, x);
    acc = (acc ^ high) * 0xBF58476D1CE4E5B9ull + quotient + (remainder << 11) +
          (uint64_t)signed_quotient + (uint64_t)(int64_t)word_quotient +
          ((uint64_t)(uint32_t)word_remainder << (y >> 27));

    state->x = x;
    state->y = y;
    state->acc = acc;
}

static int usage(void)
{
    print("usage: counter [ROUNDS [STEPS]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t rounds = DEFAULT_ROUNDS;
    uint64_t steps = DEFAULT_STEPS;
    if (argc > 3 || (argc > 1 && parse_u64(argv[1], &rounds) != 0) ||
        (argc > 2 && parse_u64(argv[2], &steps) != 0)) {
        return usage();
    }

    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "counter: ");
    line_u64(&line, rounds);
    line_text(&line, " rounds of ");
    line_u64(&line, steps);
    line_text(&line, " steps");
    line_end(&line);

    struct counter_state state = { .x = 0x9E3779B97F4A7C15ull, .y = 12345, .acc = 0 };
    for (uint64_t round = 1; round <= rounds; round++) {
        for (uint64_t step = 0; step < steps; step++) {
            counter_step(&state);
        }
        line_begin(&line);
        line_text(&line, "round ");
        line_u64(&line, round);
        line_text(&line, "/");
        line_u64(&line, rounds);
        line_text(&line, " acc=");
        line_hex64(&line, state.acc);
        line_end(&line);
    }

    line_begin(&line);
    line_text(&line, "checksum ");
    line_hex64(&line, state.acc ^ state.x ^ state.y);
    line_end(&line);
    return 0;
}
