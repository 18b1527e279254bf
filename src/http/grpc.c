#include "http/grpc.h"

#include <errno.h>
#include <string.h>

static const char *const code_names[GRPC_NCODES] = {
    "OK",        "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS",     "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED",  "OUT_OF_RANGE",   "UNIMPLEMENTED",    "INTERNAL",
    "UNAVAILABLE", "DATA_LOSS",        "UNAUTHENTICATED",
};

/* grpc-go's codes.Code String(), which go-grpc-middleware's grpc_code label carries and the
 * dashboards written for it expect (grpc-go spells CANCELLED "Canceled"). */
static const char *const code_labels[GRPC_NCODES] = {
    "OK",       "Canceled",          "Unknown",          "InvalidArgument", "DeadlineExceeded",
    "NotFound", "AlreadyExists",     "PermissionDenied", "ResourceExhausted",
    "FailedPrecondition", "Aborted", "OutOfRange",       "Unimplemented",   "Internal",
    "Unavailable", "DataLoss",       "Unauthenticated",
};

const char *grpc_code_label(int code)
{
    return code >= 0 && code < GRPC_NCODES ? code_labels[code] : "Unknown";
}

const char *grpc_code_name(int code)
{
    return code >= 0 && code < GRPC_NCODES ? code_names[code] : "?";
}

int grpc_code_parse(const char *name)
{
    for (int i = 0; i < GRPC_NCODES; i++)
        if (strcmp(code_names[i], name) == 0)
            return i;
    return -1;
}

int grpc_prefix_append(buf_t *out, size_t len)
{
    if (buf_reserve(out, GRPC_PREFIX) < 0)
        return -ENOMEM;
    grpc_prefix_write((uint8_t *)buf_end(out), (uint32_t)len);
    buf_commit(out, GRPC_PREFIX);
    return 0;
}

int grpc_timeout_parse(const char *s, size_t n, int64_t *ns)
{
    if (n < 2 || n > 9)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    int64_t unit;
    switch (s[n - 1]) {
    case 'H': unit = 3600LL * 1000000000; break;
    case 'M': unit = 60LL * 1000000000; break;
    case 'S': unit = 1000000000; break;
    case 'm': unit = 1000000; break;
    case 'u': unit = 1000; break;
    case 'n': unit = 1; break;
    default: return -1;
    }
    /* 99999999 hours overflows int64 nanoseconds: saturate. */
    *ns = v > INT64_MAX / unit ? INT64_MAX : v * unit;
    return 0;
}

size_t grpc_timeout_format(int64_t ns, char *out)
{
    static const struct {
        char c;
        int64_t ns;
    } units[] = {{'n', 1}, {'u', 1000}, {'m', 1000000}, {'S', 1000000000},
                 {'M', 60LL * 1000000000}, {'H', 3600LL * 1000000000}};
    if (ns < 0)
        ns = 0;
    size_t u = 0;
    /* The finest unit in which the value fits 8 digits, exact when it can be. */
    while (u + 1 < sizeof units / sizeof units[0] &&
           (ns / units[u].ns > 99999999 || (ns % units[u + 1].ns == 0 && ns > 0)))
        u++;
    int64_t v = (ns + units[u].ns - 1) / units[u].ns;
    if (v > 99999999)
        v = 99999999;
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t len = 0;
    while (nd)
        out[len++] = digits[--nd];
    out[len++] = units[u].c;
    out[len] = 0;
    return len;
}

size_t grpc_message_encode(const char *msg, size_t n, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (outlen == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)msg[i];
        if (ch >= 0x20 && ch <= 0x7e && ch != '%') {
            if (o + 1 >= outlen)
                break;
            out[o++] = (char)ch;
        } else {
            if (o + 3 >= outlen)
                break;
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = 0;
    return o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t grpc_message_decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return o;
}

void grpc_reader_init(grpc_reader_t *r, uint32_t max)
{
    *r = (grpc_reader_t){.max = max ? max : GRPC_MAX_MESSAGE};
}

void grpc_reader_free(grpc_reader_t *r)
{
    buf_free(&r->part);
}

grpc_read_t grpc_reader_feed(grpc_reader_t *r, const uint8_t *p, size_t n, grpc_message_cb cb,
                             void *ud)
{
    while (n > 0) {
        if (r->have_head < GRPC_PREFIX) {
            size_t take = GRPC_PREFIX - r->have_head;
            if (take > n)
                take = n;
            /* The common case, a whole message inside the chunk, is handed over in place. */
            if (r->have_head == 0 && n >= GRPC_PREFIX) {
                uint32_t len = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 8 | p[4];
                if (p[0] == 0 && len <= r->max && n - GRPC_PREFIX >= len) {
                    r->messages++;
                    if (cb(ud, p + GRPC_PREFIX, len))
                        return GRPC_READ_STOP;
                    p += GRPC_PREFIX + len;
                    n -= GRPC_PREFIX + len;
                    continue;
                }
            }
            memcpy(r->head + r->have_head, p, take);
            r->have_head += take;
            p += take;
            n -= take;
            if (r->have_head < GRPC_PREFIX)
                break;
            if (r->head[0] > 1)
                return GRPC_READ_BAD_FLAG;
            if (r->head[0] == 1)
                return GRPC_READ_COMPRESSED;
            r->need = (uint32_t)r->head[1] << 24 | (uint32_t)r->head[2] << 16 |
                      (uint32_t)r->head[3] << 8 | r->head[4];
            if (r->need > r->max)
                return GRPC_READ_TOO_LARGE;
            buf_clear(&r->part);
        }
        size_t have = buf_size(&r->part);
        size_t take = r->need - have;
        if (take > n)
            take = n;
        if (take && buf_append(&r->part, p, take) < 0)
            return GRPC_READ_NOMEM;
        p += take;
        n -= take;
        if (buf_size(&r->part) < r->need)
            break;
        r->have_head = 0;
        r->messages++;
        if (cb(ud, (const uint8_t *)buf_start(&r->part), r->need))
            return GRPC_READ_STOP;
        buf_clear(&r->part);
        if (r->part.cap > 65536)
            buf_free(&r->part);
    }
    return GRPC_READ_OK;
}
