/* Tests for http_url_parse (src/http/url.c): the parts of an http:// URL, and every malformed
 * form refused with its message. */
#include "http/url.h"
#include "t.h"

/* Parses s, which must be accepted. */
static http_url_t ok(const char *s)
{
    http_url_t u;
    char err[256] = "";
    memset(&u, 0x55, sizeof u); /* nothing left over from before */
    int rc = http_url_parse(s, &u, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "    '%s' refused: %s\n", s, err);
        t_failures++;
    }
    return u;
}

/* Expects s to be refused with exactly the message why. */
#define CHECK_REFUSED(s, why)                                                                     \
    do {                                                                                          \
        http_url_t u_;                                                                            \
        char err_[512] = "";                                                                      \
        CHECK_INT(http_url_parse((s), &u_, err_, sizeof err_), -1);                               \
        CHECK_STR(err_, (why));                                                                   \
    } while (0)

TEST(host_and_port)
{
    http_url_t u = ok("http://127.0.0.1:8080/echo");
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 8080);
    CHECK_STR(u.authority, "127.0.0.1:8080");
    CHECK_STR(u.target, "/echo");
    u = ok("http://example.com:1/");
    CHECK_STR(u.host, "example.com");
    CHECK_INT(u.port, 1);
    u = ok("http://h:65535");
    CHECK_INT(u.port, 65535);
}

TEST(port_defaults_to_80)
{
    http_url_t u = ok("http://localhost/health");
    CHECK_STR(u.host, "localhost");
    CHECK_INT(u.port, 80);
    CHECK_STR(u.authority, "localhost");
    CHECK_STR(u.target, "/health");
}

TEST(ipv6_in_brackets)
{
    http_url_t u = ok("http://[::1]:8080/x");
    CHECK_STR(u.host, "::1"); /* without the brackets */
    CHECK_INT(u.port, 8080);
    CHECK_STR(u.authority, "[::1]:8080");
    CHECK_STR(u.target, "/x");
    u = ok("http://[fe80::1:2]");
    CHECK_STR(u.host, "fe80::1:2");
    CHECK_INT(u.port, 80);
    CHECK_STR(u.authority, "[fe80::1:2]");
    CHECK_STR(u.target, "/");
}

TEST(authority_is_kept_as_written)
{
    /* The Host header says what the user wrote: an explicit :80 stays, case stays. */
    CHECK_STR(ok("http://Example.COM:80/a").authority, "Example.COM:80");
    CHECK_STR(ok("http://Example.COM:80/a").host, "Example.COM");
    CHECK_STR(ok("http://h:0080/").authority, "h:0080");
    CHECK_INT(ok("http://h:0080/").port, 80);
}

TEST(target_defaults_to_slash)
{
    CHECK_STR(ok("http://h").target, "/");
    CHECK_STR(ok("http://h:81").target, "/");
    CHECK_STR(ok("http://h/").target, "/");
}

TEST(target_keeps_path_and_query)
{
    CHECK_STR(ok("http://h/accounts?ids=1,2&x=%20").target, "/accounts?ids=1,2&x=%20");
    CHECK_STR(ok("http://h:9/a/b/").target, "/a/b/");
}

TEST(query_only_target_gets_a_slash)
{
    http_url_t u = ok("http://h?a=1");
    CHECK_STR(u.target, "/?a=1");
    CHECK_STR(u.authority, "h");
    u = ok("http://h:8080?a=1");
    CHECK_STR(u.target, "/?a=1");
    CHECK_INT(u.port, 8080);
    CHECK_STR(u.authority, "h:8080");
}

TEST(no_scheme_refused)
{
    CHECK_REFUSED("127.0.0.1:8080/echo", "URL must start with http:// (got '127.0.0.1:8080/echo')");
    CHECK_REFUSED("", "URL must start with http:// (got '')");
    CHECK_REFUSED("http:/h", "URL must start with http:// (got 'http:/h')");
    CHECK_REFUSED("HTTP://h", "URL must start with http:// (got 'HTTP://h')");
}

TEST(https_refused)
{
    CHECK_REFUSED("https://h/", "URL must start with http:// (got 'https://h/')");
}

TEST(empty_host_refused)
{
    CHECK_REFUSED("http://", "malformed URL 'http://'");
    CHECK_REFUSED("http:///x", "malformed URL 'http:///x'");
    CHECK_REFUSED("http://:8080/", "malformed URL 'http://:8080/'");
    CHECK_REFUSED("http://[]:8080/", "malformed URL 'http://[]:8080/'");
    CHECK_REFUSED("http://?a=1", "malformed URL 'http://?a=1'");
}

TEST(port_out_of_range_refused)
{
    CHECK_REFUSED("http://h:0/", "malformed URL 'http://h:0/'");
    CHECK_REFUSED("http://h:65536/", "malformed URL 'http://h:65536/'");
    CHECK_REFUSED("http://h:99999999999999999999/", "malformed URL 'http://h:99999999999999999999/'");
    CHECK_REFUSED("http://h:-1/", "malformed URL 'http://h:-1/'");
}

TEST(non_numeric_port_refused)
{
    CHECK_REFUSED("http://h:/", "malformed URL 'http://h:/'");
    CHECK_REFUSED("http://h:", "malformed URL 'http://h:'");
    CHECK_REFUSED("http://h:http/", "malformed URL 'http://h:http/'");
    CHECK_REFUSED("http://h:80x/", "malformed URL 'http://h:80x/'");
    CHECK_REFUSED("http://h:8.0/", "malformed URL 'http://h:8.0/'");
}

TEST(garbage_after_the_host_refused)
{
    CHECK_REFUSED("http://[::1]x/", "malformed URL 'http://[::1]x/'");
    CHECK_REFUSED("http://[::1]8080/", "malformed URL 'http://[::1]8080/'");
    CHECK_REFUSED("http://h:80:81/", "malformed URL 'http://h:80:81/'");
    CHECK_REFUSED("http://h:80#frag", "malformed URL 'http://h:80#frag'");
}

TEST(port_with_a_sign_or_white_space_refused)
{
    /* digits only: strtol's sign and leading blanks are not part of a port */
    CHECK_REFUSED("http://h:+80/", "malformed URL 'http://h:+80/'");
    CHECK_REFUSED("http://h: 80/", "malformed URL 'http://h: 80/'");
    CHECK_REFUSED("http://h:\t80/", "malformed URL 'http://h:\t80/'");
    CHECK_REFUSED("http://h:-0/", "malformed URL 'http://h:-0/'");
    CHECK_REFUSED("http://h:80 /", "malformed URL 'http://h:80 /'");
}

/* "http://" + a host of n bytes + rest, in a buffer of its own. */
static const char *url_with_host(size_t n, const char *rest)
{
    static char s[4096];
    memcpy(s, "http://", 7);
    memset(s + 7, 'a', n);
    snprintf(s + 7 + n, sizeof s - 7 - n, "%s", rest);
    return s;
}

/* "http://h" + a target of n bytes ('/' then 'b's, or '?' then 'b's). */
static const char *url_with_target(char first, size_t n)
{
    static char s[4096] = "http://h";
    s[8] = first;
    memset(s + 9, 'b', n - 1);
    s[8 + n] = 0;
    return s;
}

TEST(host_too_long_refused_not_cut)
{
    http_url_t u = ok(url_with_host(255, "/x")); /* host[256]: 255 and its NUL fit */
    CHECK_INT(strlen(u.host), 255);
    CHECK_STR(u.target, "/x");
    CHECK_REFUSED(url_with_host(256, "/x"), "URL too long: a host of at most 255 bytes, got 256");
    CHECK_REFUSED(url_with_host(300, ""), "URL too long: a host of at most 255 bytes, got 300");
    char s[400] = "http://[";
    memset(s + 8, 'f', 256);
    strcpy(s + 264, "]:80/");
    CHECK_REFUSED(s, "URL too long: a host of at most 255 bytes, got 256");
}

/* ":" + k zeros + "80/" */
static const char *port_with_zeros(size_t k)
{
    static char s[128] = ":";
    memset(s + 1, '0', k);
    strcpy(s + 1 + k, "80/");
    return s;
}

TEST(authority_too_long_refused_not_cut)
{
    /* a host that fits and a port with leading zeros: host:port over authority[300] */
    http_url_t u = ok(url_with_host(255, port_with_zeros(41)));
    CHECK_INT(u.port, 80);
    CHECK_INT(strlen(u.authority), 299); /* 255 + ":" + 41 zeros + "80" */
    CHECK_REFUSED(url_with_host(255, port_with_zeros(42)),
                  "URL too long: a host and port of at most 299 bytes, got 300");
}

TEST(target_too_long_refused_not_cut)
{
    http_url_t u = ok(url_with_target('/', 2047)); /* target[2048]: 2047 and its NUL fit */
    CHECK_INT(strlen(u.target), 2047);
    CHECK_REFUSED(url_with_target('/', 2048),
                  "URL too long: a path and query of at most 2047 bytes, got 2048");
    CHECK_REFUSED(url_with_target('/', 3000),
                  "URL too long: a path and query of at most 2047 bytes, got 3000");
    /* a query-only target gets its "/" first: that byte counts */
    u = ok(url_with_target('?', 2046));
    CHECK_INT(strlen(u.target), 2047);
    CHECK(u.target[0] == '/' && u.target[1] == '?');
    CHECK_REFUSED(url_with_target('?', 2047),
                  "URL too long: a path and query of at most 2047 bytes, got 2048");
}

TEST(unterminated_bracket_refused)
{
    CHECK_REFUSED("http://[::1", "malformed URL 'http://[::1'");
    CHECK_REFUSED("http://[::1:8080/", "malformed URL 'http://[::1:8080/'");
}

TEST(unbracketed_ipv6_refused)
{
    /* "::1" cannot be told from a host and a port: brackets are required. */
    CHECK_REFUSED("http://::1/", "malformed URL 'http://::1/'");
}

T_MAIN(T(host_and_port), T(port_defaults_to_80), T(ipv6_in_brackets),
       T(authority_is_kept_as_written), T(target_defaults_to_slash),
       T(target_keeps_path_and_query), T(query_only_target_gets_a_slash), T(no_scheme_refused),
       T(https_refused), T(empty_host_refused), T(port_out_of_range_refused),
       T(non_numeric_port_refused), T(port_with_a_sign_or_white_space_refused),
       T(host_too_long_refused_not_cut), T(authority_too_long_refused_not_cut),
       T(target_too_long_refused_not_cut), T(garbage_after_the_host_refused),
       T(unterminated_bracket_refused), T(unbracketed_ipv6_refused))
