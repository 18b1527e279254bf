/* Tests for the socket helpers (src/core/net.c), on the loopback addresses only: resolving
 * numeric addresses, listening on a port the kernel picks, the address format, non-blocking
 * connects that complete or are refused, and SO_REUSEPORT. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "core/net.h"
#include "t.h"

/* A hang guard, not a timing check: loopback connects complete at once. */
#define WAIT_MS 10000

static net_addr_t addr(const char *host, int port)
{
    net_addr_t a;
    char err[256] = "";
    memset(&a, 0, sizeof a);
    if (net_resolve(host, port, &a, err, sizeof err) != 0) {
        fprintf(stderr, "    cannot resolve %s: %s\n", host, err);
        exit(1);
    }
    return a;
}

static char *str(const net_addr_t *a)
{
    static char s[64];
    net_addr_str(a, s, sizeof s);
    return s;
}

/* A listener on host, port chosen by the kernel; *port gets it. */
static int listener(const char *host, bool reuseport, int *port)
{
    net_addr_t a = addr(host, 0);
    int fd = net_listen(&a, reuseport, 16);
    CHECK(fd >= 0);
    if (fd < 0) {
        fprintf(stderr, "    net_listen %s: %s\n", host, strerror(-fd));
        exit(1);
    }
    *port = net_local_port(fd);
    return fd;
}

static int so_error(int fd)
{
    int e = -1;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        return -1;
    return e;
}

TEST(resolve_numeric_ipv4)
{
    net_addr_t a = addr("127.0.0.1", 8080);
    CHECK_INT(a.ss.ss_family, AF_INET);
    CHECK_INT(a.len, sizeof(struct sockaddr_in));
    CHECK_STR(str(&a), "127.0.0.1:8080");
}

TEST(resolve_numeric_ipv6)
{
    net_addr_t a = addr("::1", 8080);
    CHECK_INT(a.ss.ss_family, AF_INET6);
    CHECK_INT(a.len, sizeof(struct sockaddr_in6));
    CHECK_STR(str(&a), "[::1]:8080");
}

TEST(resolve_refuses_a_bad_name_with_a_message)
{
    /* Names that cannot be host names are refused without asking a DNS server. */
    static const char *const bad[] = {"not a host name", "[::1]"};
    for (int i = 0; i < 2; i++) {
        net_addr_t a;
        char err[256] = "", prefix[64];
        CHECK_INT(net_resolve(bad[i], 80, &a, err, sizeof err), -1);
        snprintf(prefix, sizeof prefix, "cannot resolve '%s': ", bad[i]);
        CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
        CHECK(strlen(err) > strlen(prefix)); /* and why */
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            fprintf(stderr, "    message: %s\n", err);
    }
}

TEST(addr_str_formats)
{
    net_addr_t a = addr("10.1.2.3", 65535);
    CHECK_STR(str(&a), "10.1.2.3:65535");
    a = addr("2001:db8::1", 1);
    CHECK_STR(str(&a), "[2001:db8::1]:1");
    net_set_port(&a, 8080);
    CHECK_STR(str(&a), "[2001:db8::1]:8080");
    a = addr("127.0.0.1", 1);
    net_set_port(&a, 443);
    CHECK_STR(str(&a), "127.0.0.1:443");
    char small[8];
    net_addr_str(&a, small, sizeof small); /* cut, and terminated */
    CHECK_STR(small, "127.0.0");
}

TEST(listen_on_port_0_gets_a_port)
{
    int port4 = 0, port6 = 0;
    int fd4 = listener("127.0.0.1", false, &port4);
    int fd6 = listener("::1", false, &port6);
    CHECK(port4 > 0 && port4 < 65536);
    CHECK(port6 > 0 && port6 < 65536);
    /* non-blocking: nothing to accept is EAGAIN, not a wait */
    CHECK(fcntl(fd4, F_GETFL) & O_NONBLOCK);
    CHECK_INT(accept(fd4, NULL, NULL), -1);
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    close(fd4);
    close(fd6);
}

TEST(local_port_of_a_closed_fd_is_minus_1)
{
    int port;
    int fd = listener("127.0.0.1", false, &port);
    close(fd);
    CHECK_INT(net_local_port(fd), -1);
}

/* net_connect to a listener on host: the connect completes and the listener accepts it. */
static void connect_completes(const char *host)
{
    int port;
    int lfd = listener(host, false, &port);
    net_addr_t a = addr(host, port);
    int fd = net_connect(&a);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
    int one = 0;
    socklen_t len = sizeof one;
    CHECK_INT(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, &len), 0);
    CHECK(one != 0);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    CHECK_INT(poll(&p, 1, WAIT_MS), 1);
    CHECK(p.revents & POLLOUT);
    CHECK(!(p.revents & (POLLERR | POLLHUP)));
    CHECK_INT(so_error(fd), 0);
    struct pollfd l = {.fd = lfd, .events = POLLIN};
    CHECK_INT(poll(&l, 1, WAIT_MS), 1);
    int afd = accept(lfd, NULL, NULL);
    CHECK(afd >= 0);
    /* a byte goes through */
    CHECK_INT(write(fd, "x", 1), 1);
    struct pollfd r = {.fd = afd, .events = POLLIN};
    CHECK_INT(poll(&r, 1, WAIT_MS), 1);
    char c = 0;
    CHECK_INT(read(afd, &c, 1), 1);
    CHECK_INT(c, 'x');
    close(afd);
    close(fd);
    close(lfd);
}

TEST(connect_to_a_listener_completes_ipv4) { connect_completes("127.0.0.1"); }
TEST(connect_to_a_listener_completes_ipv6) { connect_completes("::1"); }

/* net_connect to a port nobody listens on: ECONNREFUSED, at once or through SO_ERROR. */
static void connect_refused(const char *host)
{
    int port;
    close(listener(host, false, &port)); /* a port that was just free, and is again */
    net_addr_t a = addr(host, port);
    int fd = net_connect(&a);
    if (fd < 0) {
        CHECK_INT(fd, -ECONNREFUSED);
        return;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    CHECK_INT(poll(&p, 1, WAIT_MS), 1);
    CHECK(p.revents & (POLLERR | POLLHUP));
    CHECK_INT(so_error(fd), ECONNREFUSED);
    close(fd);
}

TEST(connect_to_a_closed_port_is_refused_ipv4) { connect_refused("127.0.0.1"); }
TEST(connect_to_a_closed_port_is_refused_ipv6) { connect_refused("::1"); }

TEST(reuseport_lets_two_listeners_bind_one_port)
{
    int port, port2 = 0;
    int fd1 = listener("127.0.0.1", true, &port);
    net_addr_t a = addr("127.0.0.1", port);
    int fd2 = net_listen(&a, true, 16);
    CHECK(fd2 >= 0);
    if (fd2 >= 0)
        port2 = net_local_port(fd2);
    CHECK_INT(port2, port);
    close(fd2);
    close(fd1);
}

TEST(without_reuseport_the_second_listener_is_refused)
{
    int port;
    int fd1 = listener("127.0.0.1", false, &port);
    net_addr_t a = addr("127.0.0.1", port);
    CHECK_INT(net_listen(&a, false, 16), -EADDRINUSE);
    /* and a listener without the flag keeps the port from one with it */
    CHECK_INT(net_listen(&a, true, 16), -EADDRINUSE);
    close(fd1);
}

T_MAIN(T(resolve_numeric_ipv4), T(resolve_numeric_ipv6),
       T(resolve_refuses_a_bad_name_with_a_message), T(addr_str_formats),
       T(listen_on_port_0_gets_a_port), T(local_port_of_a_closed_fd_is_minus_1),
       T(connect_to_a_listener_completes_ipv4), T(connect_to_a_listener_completes_ipv6),
       T(connect_to_a_closed_port_is_refused_ipv4), T(connect_to_a_closed_port_is_refused_ipv6),
       T(reuseport_lets_two_listeners_bind_one_port),
       T(without_reuseport_the_second_listener_is_refused))
