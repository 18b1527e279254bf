/* Differential test of the csv workload: thousands of generated bodies, valid and malformed,
 * sent to all six implementations (C, Go and Rust, each tier idiomatic and tuned); every answer
 * (status and body, byte for byte) must be the same in all six. */
#include "t.h"

#include <signal.h>

#include "core/buf.h"
#include "core/rand.h"
#include "lab/gen.h"
#include "tproc.h"
#include "tsock.h"

#define INPUTS 3000

typedef struct {
    const char *name;
    t_server_t p;
    int fd;
} impl_t;

/* One request on the implementation's keep-alive connection; the whole answer into resp. */
static int ask(impl_t *im, const char *body, size_t len, char *resp, size_t cap)
{
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST /csv HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\n"
                      "Content-Length: %zu\r\n\r\n", len);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (im->fd < 0)
            im->fd = sock_connect(im->p.port);
        if (im->fd >= 0 && sock_send(im->fd, head, (size_t)hl) == 0 &&
            sock_send(im->fd, body, len) == 0) {
            ssize_t n = sock_read_response(im->fd, resp, cap, 10000);
            if (n > 0)
                return 0;
        }
        if (im->fd >= 0)
            close(im->fd);
        im->fd = -1;
    }
    return -1;
}

/* A malformed variant of a valid body: one local edit of a kind the contract names. */
static void mutate(buf_t *b, rng_t *st)
{
    size_t n = buf_size(b);
    if (n == 0)
        return;
    char *s = buf_start(b);
    size_t at = (size_t)rng_below(st, n);
    static const char *const inserts[] = {"\"", ",", "\n", "\r\n", "x", "-", ".", "e5", "\"\"",
                                          " ", "0", "13", "99", ":", "Z", "+", "T"};
    switch (rng_below(st, 4)) {
    case 0: { /* insert */
        const char *ins = inserts[rng_below(st, sizeof inserts / sizeof inserts[0])];
        buf_t t = BUF_INIT;
        buf_append(&t, s, at);
        buf_puts(&t, ins);
        buf_append(&t, s + at, n - at);
        buf_clear(b);
        buf_append(b, buf_start(&t), buf_size(&t));
        buf_free(&t);
        break;
    }
    case 1: /* delete one byte */
        memmove(s + at, s + at + 1, n - at - 1);
        b->len--;
        break;
    case 2: /* replace one byte */
        s[at] = "\",\n0aZ.:-"[rng_below(st, 9)];
        break;
    default: /* truncate */
        b->len = b->off + at;
        break;
    }
}

#define NIMPL 6

TEST(every_csv_implementation_gives_identical_answers)
{
    const char *go = t_peer("go/bin/stackbench-go");
    const char *rust = t_peer("rust/target/release/stackbench-rust");
    impl_t im[NIMPL] = {{.name = "c tuned"},  {.name = "c idiomatic"},    {.name = "go tuned"},
                        {.name = "go idiomatic"}, {.name = "rust tuned"}, {.name = "rust idiomatic"}};
    const char *a0[] = {t_stackbench(), "serve", "csv", "--tier", "tuned", "--port", "0", NULL};
    const char *a1[] = {t_stackbench(), "serve", "csv", "--tier", "idiomatic", "--port", "0", NULL};
    const char *a2[] = {go, "csv", "--tier", "tuned", "--port", "0", NULL};
    const char *a3[] = {go, "csv", "--tier", "idiomatic", "--port", "0", NULL};
    const char *a4[] = {rust, "csv", "--tier", "tuned", "--port", "0", NULL};
    const char *a5[] = {rust, "csv", "--tier", "idiomatic", "--port", "0", NULL};
    const char *const *argv[NIMPL] = {a0, a1, a2, a3, a4, a5};
    for (int i = 0; i < NIMPL; i++) {
        im[i].fd = -1;
        if (t_start(&im[i].p, argv[i]) != 0)
            exit(1);
    }
    static char resp[NIMPL][1 << 16];
    int differ = 0, valid = 0, invalid = 0;
    rng_t st;
    rng_seed(&st, 42, 0);
    for (int k = 0; k < INPUTS && differ < 5; k++) {
        buf_t body = BUF_INIT;
        gen_csv(&body, rng_below(&st, 12), 1000 + (uint64_t)k);
        if (k % 3 != 0) /* two thirds malformed, some of them twice */
            for (int m = 0; m < 1 + (int)rng_below(&st, 2); m++)
                mutate(&body, &st);
        for (int i = 0; i < NIMPL; i++)
            if (ask(&im[i], buf_start(&body) ? buf_start(&body) : "", buf_size(&body), resp[i],
                    sizeof resp[i]) != 0)
                snprintf(resp[i], sizeof resp[i], "(no answer)");
        /* Date headers differ: compare status line and body. */
        for (int i = 1; i < NIMPL; i++) {
            bool same = resp_status(resp[0]) == resp_status(resp[i]) &&
                        strcmp(resp_body(resp[0]), resp_body(resp[i])) == 0;
            if (!same) {
                differ++;
                fprintf(stderr, "    input %d differs (c tuned vs %s):\n    body: %.*s\n    c tuned: %d %s\n    %s: %d %s\n",
                        k, im[i].name, (int)(buf_size(&body) < 300 ? buf_size(&body) : 300),
                        buf_start(&body) ? buf_start(&body) : "", resp_status(resp[0]),
                        resp_body(resp[0]), im[i].name, resp_status(resp[i]), resp_body(resp[i]));
            }
        }
        if (resp_status(resp[0]) == 200)
            valid++;
        else
            invalid++;
        buf_free(&body);
    }
    fprintf(stderr, "    %d valid, %d invalid inputs, %d differences\n", valid, invalid, differ);
    CHECK_INT(differ, 0);
    CHECK(valid > INPUTS / 5);
    CHECK(invalid > INPUTS / 5);
    for (int i = 0; i < NIMPL; i++) {
        if (im[i].fd >= 0)
            close(im[i].fd);
        CHECK_INT(t_stop(&im[i].p, SIGTERM, 15000), 0);
    }
}

T_MAIN(T(every_csv_implementation_gives_identical_answers))
