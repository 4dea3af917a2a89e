/*
 * idle
 *
 * A machine that is up but doing nothing: prints one line, then sleeps forever in steps
 * of one second of guest time, so it costs the host almost no CPU while running and gives
 * checkpoints and migrations a guest whose memory stays still.
 *
 * Each step is one sleep_until hypercall with an absolute deadline. A machine paused or
 * restored in the middle of one re-issues it and wakes at the same guest time; a restore
 * whose clock has passed the deadline just starts the next step.
 *
 * Output (exact):
 *   idle: ready
 * It never exits by itself. Any argument: a usage line and exit code 2.
 */
#include "migration.h"

#define STEP_NS NANOSECONDS_PER_SECOND

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        print("usage: idle\n");
        return 2;
    }

    print("idle: ready\n");
    for (;;) {
        /* From the clock read now, not the previous deadline: after a long pause there is no
         * backlog of missed steps to run through. */
        sleep_until_ns(clock_monotonic_ns() + STEP_NS);
    }
}
