/* net: sockets for both sides: resolving, listening, non-blocking connecting. */
#ifndef SB_CORE_NET_H
#define SB_CORE_NET_H

#include <stdbool.h>
#include <sys/socket.h>

typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
} net_addr_t;

/* host: name or numeric IPv4/IPv6 (without brackets). 0, or -1 with a message in err. */
int net_resolve(const char *host, int port, net_addr_t *out, char *err, size_t errlen);
/* A non-blocking listening socket. reuseport: SO_REUSEPORT, so that one socket per worker can
 * bind the same port and the kernel spreads connections. fd or -errno. */
int net_listen(const net_addr_t *a, bool reuseport, int backlog);
int net_local_port(int fd);
void net_set_port(net_addr_t *a, int port);
/* "127.0.0.1:8080" or "[::1]:8080". */
void net_addr_str(const net_addr_t *a, char *out, size_t n);
/* Starts a non-blocking connect with TCP_NODELAY. fd (connect may still be in progress) or
 * -errno. */
int net_connect(const net_addr_t *a);
void net_nodelay(int fd);

#endif
