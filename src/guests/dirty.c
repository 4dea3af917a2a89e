/*
 * dirty W R [S]
 *
 * Dirties guest memory at a controlled rate, to give live migration a known write load:
 * allocates a working set of W pages (4096 bytes, page aligned) and rewrites them
 * round-robin at R pages per second for S seconds. S omitted or 0 runs until the machine
 * is stopped; R = 0 writes as fast as possible.
 *
 * Each page write is one 8-byte store of a sequence number (never repeated), so the page
 * really changes, at an offset that moves on every pass over the working set, so the
 * stores do not always hit the same word of a page.
 *
 * Output (exact):
 *   dirty: W pages, R pages/s, S s
 *   dirty: N pages written                   about once per second of guest time
 *   dirty: done, N pages written in S s      when S elapses; exit code 0
 * Bad arguments: a usage line and exit code 2. Working set larger than the heap: a
 * message and exit code 3.
 */
#include "migration.h"

#define WORDS_PER_PAGE (GUEST_PAGE_SIZE / 8)
#define PACING_INTERVAL_NS 1000000ull                  /* 1 ms */
#define REPORT_INTERVAL_NS NANOSECONDS_PER_SECOND
/* A backlog longer than this is dropped instead of written in a burst (see main). */
#define MAX_BACKLOG_NS 100000000ull                    /* 100 ms */
/* Pages written between clock reads when unthrottled. */
#define UNTHROTTLED_BATCH 256
/* Limits that keep the pacing arithmetic within 64 bits. */
#define MAX_RATE 1000000000ull
#define MAX_SECONDS 1000000000ull

struct working_set {
    uint64_t *pages;
    uint64_t page_count;
    uint64_t next_page;
    uint64_t pass;
    uint64_t pages_written;
};

static void write_next_page(struct working_set *set)
{
    uint64_t word = (set->pass * 67 + set->next_page) % WORDS_PER_PAGE;
    set->pages[set->next_page * WORDS_PER_PAGE + word] = set->pages_written;
    set->pages_written++;
    set->next_page++;
    if (set->next_page == set->page_count) {
        set->next_page = 0;
        set->pass++;
    }
}

/* Pages due after `elapsed_ns` at `rate` pages/s, split so the product cannot overflow. */
static uint64_t pages_due(uint64_t rate, uint64_t elapsed_ns)
{
    return rate * (elapsed_ns / NANOSECONDS_PER_SECOND) +
           rate * (elapsed_ns % NANOSECONDS_PER_SECOND) / NANOSECONDS_PER_SECOND;
}

/* Inverse of pages_due: the elapsed time at which `pages` pages are due. */
static uint64_t time_for_pages(uint64_t rate, uint64_t pages)
{
    return (pages / rate) * NANOSECONDS_PER_SECOND +
           (pages % rate) * NANOSECONDS_PER_SECOND / rate;
}

static void print_count_line(const char *prefix, uint64_t count, const char *suffix)
{
    struct line_buffer line;
    line_begin(&line);
    line_text(&line, prefix);
    line_u64(&line, count);
    line_text(&line, suffix);
    line_end(&line);
}

static int usage(void)
{
    print("usage: dirty PAGES RATE [SECONDS]   (RATE 0 = unthrottled, SECONDS 0 = forever)\n");
    return 2;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    uint64_t page_count;
    uint64_t rate;
    uint64_t seconds = 0;
    if (argc < 3 || argc > 4 || parse_u64(argv[1], &page_count) != 0 ||
        parse_u64(argv[2], &rate) != 0 || (argc == 4 && parse_u64(argv[3], &seconds) != 0) ||
        page_count == 0 || rate > MAX_RATE || seconds > MAX_SECONDS) {
        return usage();
    }

    struct working_set set = { .page_count = page_count };
    if (page_count <= SIZE_MAX / GUEST_PAGE_SIZE) {
        set.pages = guest_alloc_aligned(page_count * GUEST_PAGE_SIZE, GUEST_PAGE_SIZE);
    }
    if (set.pages == NULL) {
        print_count_line("dirty: cannot allocate ", page_count, " pages");
        print_count_line("dirty: heap has ",
                         guest_heap_available(GUEST_PAGE_SIZE) / GUEST_PAGE_SIZE,
                         " pages free");
        return 3;
    }

    struct line_buffer line;
    line_begin(&line);
    line_text(&line, "dirty: ");
    line_u64(&line, page_count);
    line_text(&line, " pages, ");
    line_u64(&line, rate);
    line_text(&line, " pages/s, ");
    line_u64(&line, seconds);
    line_text(&line, " s");
    line_end(&line);

    uint64_t start = clock_monotonic_ns();
    uint64_t end = seconds != 0 ? start + seconds * NANOSECONDS_PER_SECOND : UINT64_MAX;
    uint64_t next_report = start + REPORT_INTERVAL_NS;
    /* The rate is measured from (pace_origin, pages_at_origin), which may move forward. */
    uint64_t pace_origin = start;
    uint64_t pages_at_origin = 0;

    for (;;) {
        uint64_t now = clock_monotonic_ns();
        if (now >= end) {
            break;
        }

        if (rate == 0) {
            for (int i = 0; i < UNTHROTTLED_BATCH; i++) {
                write_next_page(&set);
            }
        } else {
            /* Page n (counting from 1) is due at (n - 1) / rate: the first one at once. */
            uint64_t due = pages_at_origin + pages_due(rate, now - pace_origin) + 1;
            /*
             * After a long stall (a paused machine, a slow host) catching up would write
             * a burst far above the requested rate; restart the pacing from now instead.
             */
            if (due - set.pages_written > pages_due(rate, MAX_BACKLOG_NS) + 2) {
                pace_origin = now;
                pages_at_origin = set.pages_written;
                due = set.pages_written + 1;
            }
            while (set.pages_written < due) {
                write_next_page(&set);
            }
        }

        /* After the writes, so the count includes every page due by `now`. */
        if (now >= next_report) {
            print_count_line("dirty: ", set.pages_written, " pages written");
            next_report += REPORT_INTERVAL_NS;
            if (next_report <= now) {
                next_report = now + REPORT_INTERVAL_NS;
            }
        }
        if (rate == 0) {
            continue;
        }

        /*
         * Sleeping at least one pacing interval batches the writes for high rates; low
         * rates sleep until their next page is due.
         */
        uint64_t next_page_time =
            pace_origin + time_for_pages(rate, set.pages_written - pages_at_origin);
        uint64_t wake = next_page_time;
        if (wake < now + PACING_INTERVAL_NS) {
            wake = now + PACING_INTERVAL_NS;
        }
        sleep_until_ns(min_u64(wake, min_u64(next_report, end)));
    }

    line_begin(&line);
    line_text(&line, "dirty: done, ");
    line_u64(&line, set.pages_written);
    line_text(&line, " pages written in ");
    line_u64(&line, seconds);
    line_text(&line, " s");
    line_end(&line);
    return 0;
}
