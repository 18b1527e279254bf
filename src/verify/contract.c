#include "verify/contract.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/opt.h"

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* C escapes of s[0..n) into out. -1 on a bad escape. */
static int unescape(const char *s, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\') {
            buf_append(out, &c, 1);
            continue;
        }
        if (++i >= n)
            return -1;
        switch (s[i]) {
        case 'r': c = '\r'; break;
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case '0': c = 0; break;
        case '\\': c = '\\'; break;
        case 'x': {
            if (i + 2 >= n)
                return -1;
            int h = hexv(s[i + 1]), l = hexv(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
            break;
        }
        default:
            return -1;
        }
        buf_append(out, &c, 1);
    }
    return 0;
}

/* {repeat:N:TEXT} expansion, then unescaping. */
static int expand(const char *s, size_t n, buf_t *out)
{
    size_t i = 0;
    while (i < n) {
        const char *r = memmem(s + i, n - i, "{repeat:", 8);
        size_t upto = r ? (size_t)(r - s) : n;
        if (unescape(s + i, upto - i, out))
            return -1;
        if (!r)
            break;
        const char *p = r + 8;
        char *end;
        long count = strtol(p, &end, 10);
        if (end == p || *end != ':' || count < 0 || count > (64L << 20))
            return -1;
        const char *text = end + 1;
        const char *close = memchr(text, '}', (size_t)(s + n - text));
        if (!close)
            return -1;
        buf_t one = BUF_INIT;
        if (unescape(text, (size_t)(close - text), &one)) {
            buf_free(&one);
            return -1;
        }
        for (long k = 0; k < count; k++)
            buf_append(out, buf_start(&one), buf_size(&one));
        buf_free(&one);
        i = (size_t)(close + 1 - s);
    }
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* A send line: expand, then replace {len} by the length of what follows "\r\n\r\n". */
static int send_bytes(const char *v, size_t n, contract_step_t *st)
{
    buf_t b = BUF_INIT, mid = BUF_INIT, body = BUF_INIT;
    int rc = -1;
    const char *tok = memmem(v, n, "{len}", 5);
    if (!tok) {
        if (expand(v, n, &b))
            goto out;
    } else {
        const char *sep = memmem(tok, (size_t)(v + n - tok), "\\r\\n\\r\\n", 8);
        if (!sep || expand(v, (size_t)(tok - v), &b) ||
            expand(tok + 5, (size_t)(sep + 8 - tok - 5), &mid) ||
            expand(sep + 8, (size_t)(v + n - sep - 8), &body))
            goto out;
        buf_printf(&b, "%zu", buf_size(&body));
        buf_append(&b, buf_start(&mid), buf_size(&mid));
        buf_append(&b, buf_start(&body), buf_size(&body));
    }
    st->len = buf_size(&b);
    st->data = dupn(st->len ? buf_start(&b) : "", st->len);
    rc = 0;
out:
    buf_free(&b);
    buf_free(&mid);
    buf_free(&body);
    return rc;
}

static contract_step_t *add_step(contract_case_t *c, contract_step_kind_t kind)
{
    c->steps = realloc(c->steps, (size_t)(c->nsteps + 1) * sizeof *c->steps);
    contract_step_t *st = &c->steps[c->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    return st;
}

int contract_parse_case(const char *name, const char *text, size_t len, contract_case_t *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->name = strdup(name);
    contract_step_t *expect = NULL;
    const char *p = text, *end = text + len;
    int lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        size_t n = (size_t)(le - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (n == 0)
            continue;
        if (line[0] == '#') {
            if (!out->comment) {
                const char *c = line + 1;
                while (c < le && *c == ' ')
                    c++;
                out->comment = dupn(c, (size_t)(le - c));
            }
            continue;
        }
        const char *colon = memchr(line, ':', n);
        if (!colon)
            goto bad;
        size_t kn = (size_t)(colon - line);
        const char *v = colon + 1;
        if (v < le && *v == ' ')
            v++;
        size_t vn = (size_t)(le - v);
#define KEY(k) (kn == strlen(k) && memcmp(line, k, kn) == 0)
        if (KEY("send")) {
            if (send_bytes(v, vn, add_step(out, STEP_SEND)))
                goto bad;
            expect = NULL;
        } else if (KEY("pause")) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "%.*s", (int)vn, v);
            if (opt_parse_duration_ns(tmp, &add_step(out, STEP_PAUSE)->pause_ns))
                goto bad;
            expect = NULL;
        } else if (KEY("shutdown")) {
            add_step(out, STEP_SHUTDOWN);
            expect = NULL;
        } else if (KEY("closed")) {
            add_step(out, STEP_CLOSED);
            expect = NULL;
        } else if (KEY("expect")) {
            expect = add_step(out, STEP_EXPECT);
            if (vn == 4 && memcmp(v, "none", 4) == 0)
                expect->status = 0;
            else if ((expect->status = atoi(v)) < 100 || expect->status > 599)
                goto bad;
        } else if (expect && KEY("header")) {
            const char *hc = memchr(v, ':', vn);
            if (!hc || expect->nheaders == CONTRACT_MAX_CHECKS)
                goto bad;
            const char *hv = hc + 1;
            while (hv < le && *hv == ' ')
                hv++;
            expect->header_name[expect->nheaders] = dupn(v, (size_t)(hc - v));
            expect->header_value[expect->nheaders++] = dupn(hv, (size_t)(le - hv));
        } else if (expect && KEY("body")) {
            buf_t b = BUF_INIT;
            if (expand(v, vn, &b))
                goto bad;
            expect->has_body = true;
            expect->body_len = buf_size(&b);
            expect->body = dupn(buf_start(&b) ? buf_start(&b) : "", expect->body_len);
            buf_free(&b);
        } else if (expect && KEY("body-has")) {
            buf_t b = BUF_INIT;
            if (expand(v, vn, &b) || expect->nbody_has == CONTRACT_MAX_CHECKS)
                goto bad;
            expect->body_has[expect->nbody_has++] = dupn(buf_start(&b) ? buf_start(&b) : "", buf_size(&b));
            buf_free(&b);
        } else if (expect && KEY("head-only")) {
            expect->head_only = true;
        } else {
            goto bad;
        }
#undef KEY
    }
    if (out->nsteps == 0) {
        snprintf(err, errlen, "%s: no steps", name);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "%s: line %d: not understood", name, lineno);
    return -1;
}

static void case_free(contract_case_t *c)
{
    for (int i = 0; i < c->nsteps; i++) {
        contract_step_t *s = &c->steps[i];
        free(s->data);
        free(s->body);
        for (int k = 0; k < s->nheaders; k++) {
            free(s->header_name[k]);
            free(s->header_value[k]);
        }
        for (int k = 0; k < s->nbody_has; k++)
            free(s->body_has[k]);
    }
    free(c->steps);
    free(c->name);
    free(c->comment);
}

void contract_free(contract_t *c)
{
    for (int i = 0; i < c->ncases; i++)
        case_free(&c->cases[i]);
    free(c->cases);
    c->cases = NULL;
    c->ncases = 0;
}

static int add_case(contract_t *out, const char *name, const char *text, size_t len, char *err,
                    size_t errlen)
{
    out->cases = realloc(out->cases, (size_t)(out->ncases + 1) * sizeof *out->cases);
    if (contract_parse_case(name, text, len, &out->cases[out->ncases], err, errlen)) {
        case_free(&out->cases[out->ncases]);
        return -1;
    }
    out->ncases++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int contract_load_dir(const char *dir, contract_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open '%s': %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".case") == 0) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        buf_t b = BUF_INIT;
        char chunk[65536];
        size_t r;
        while (f && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
            buf_append(&b, chunk, r);
        if (f)
            fclose(f);
        names[i][strlen(names[i]) - 5] = 0;
        if (rc == 0 && add_case(out, names[i], buf_start(&b) ? buf_start(&b) : "", buf_size(&b),
                                err, errlen))
            rc = -1;
        buf_free(&b);
        free(names[i]);
    }
    free(names);
    if (rc == 0 && out->ncases == 0) {
        snprintf(err, errlen, "no .case files in '%s'", dir);
        rc = -1;
    }
    if (rc)
        contract_free(out);
    return rc;
}

int contract_load_builtin(const char *workload, contract_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < contract_nbuiltins; i++) {
        const contract_builtin_t *b = &contract_builtins[i];
        if (strcmp(b->workload, workload) != 0)
            continue;
        if (add_case(out, b->name, b->text, b->len, err, errlen)) {
            contract_free(out);
            return -1;
        }
    }
    if (out->ncases == 0) {
        snprintf(err, errlen, "no contract for workload '%s'", workload);
        return -1;
    }
    return 0;
}
