/* libFuzzer target for the C grpc service's input path: HTTP/2 frames (nghttp2) and gRPC on
 * them (serve/h2.c: headers, messages, deadlines, resets) into the Ticks service
 * (serve/grpc.c, protobuf-c). The input is what a client sends after the connection preface;
 * the first byte chooses whether the preface is prepended (so both the preface check and the
 * frames behind it are reached). Everything the session wants to send is taken, as a client
 * that reads everything would, so streams run to their end (bounded: at most 64 MiB of output
 * per input, the rest is what a client that stops reading would leave).
 *   - No crash, no read past the input (an exact-size heap copy), no leak once the session is
 *     closed (LeakSanitizer).
 *   - The session's output is whole HTTP/2 frames: it starts with SETTINGS (type 4 on stream
 *     0) and every frame header's length fits what was written.
 * abort() on any violation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "serve/services.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void check_frames(const buf_t *out)
{
    const uint8_t *p = (const uint8_t *)buf_start(out);
    size_t n = buf_size(out), off = 0;
    if (n == 0)
        return;
    if (n < 9 || p[3] != 4 || (p[5] | p[6] | p[7] | p[8]) != 0)
        abort(); /* the server's preface is a SETTINGS frame */
    while (off + 9 <= n) {
        size_t len = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 | p[off + 2];
        if (len > 16384)
            abort(); /* over SETTINGS_MAX_FRAME_SIZE's default, never raised by a client here */
        off += 9 + len;
    }
    if (off != n)
        abort(); /* a frame cut */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static loop_t *loop;
    if (!loop && !(loop = loop_new()))
        abort();
    if (size == 0)
        return 0;
    server_conn_t *c = server_conn_detached(loop, &serve_grpc, NULL);
    if (!c)
        return 0;
    const server_proto_t *p = serve_grpc.proto;
    void *s = server_conn_session(c);
    buf_t out = BUF_INIT;
    bool with_preface = data[0] & 1;
    uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
    memcpy(copy, data + 1, size - 1);
    int rc = 0;
    if (with_preface)
        rc = p->input(s, (const uint8_t *)preface, sizeof preface - 1);
    /* In two reads, as a socket may split them. */
    size_t half = (size - 1) / 2;
    if (rc == 0)
        rc = p->input(s, copy, half);
    if (rc == 0)
        rc = p->input(s, copy + half, size - 1 - half);
    for (int round = 0; round < 1024 && buf_size(&out) < (64u << 20); round++) {
        size_t before = buf_size(&out);
        if (p->output(s, &out, buf_size(&out) + 65536) < 0 || buf_size(&out) == before)
            break;
    }
    check_frames(&out);
    buf_free(&out);
    free(copy);
    server_conn_detached_free(c);
    return 0;
}
