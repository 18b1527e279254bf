/* tests/tools/echo.py, the echo workload in Python (standard library only): an implementation
 * outside the lab's own three, as a user would bring with --impl. It passes every case of
 * contracts/echo/ and stops on SIGTERM as the contract says. Needs python3 on PATH. */
#include "t.h"

#include <signal.h>

#include "tproc.h"
#include "tsock.h"

static char resp[1 << 16];

static const char *echo_py(void)
{
    static char path[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(path, sizeof path, "%s/tests/tools/echo.py", root ? root : ".");
    return path;
}

TEST(py_echo_passes_the_contract)
{
    const char *argv[] = {"python3", echo_py(), "0", NULL};
    CHECK_INT(t_verify("echo", NULL, argv), 0);
}

TEST(py_echo_invalid_json_has_offset_and_reason)
{
    const char *argv[] = {"python3", echo_py(), "0", NULL};
    t_server_t srv;
    if (t_start(&srv, argv) != 0)
        exit(1);
    const char *req = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n[1, 2,]";
    CHECK(http_roundtrip(srv.port, req, strlen(req), resp, sizeof resp) > 0);
    CHECK_INT(resp_status(resp), 400);
    CHECK_STR(resp_body(resp), "{\"error\":\"invalid_json\",\"offset\":6,\"reason\":\"expected a value\"}");
    CHECK_INT(t_stop(&srv, SIGTERM, 15000), 0);
}

TEST(py_echo_sigterm_finishes_request_in_flight_then_exits_0)
{
    const char *argv[] = {"python3", echo_py(), "0", NULL};
    t_server_t srv;
    if (t_start(&srv, argv) != 0)
        exit(1);
    int idle = sock_connect(srv.port);
    int fd = sock_connect(srv.port);
    sock_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n[1,");
    usleep(100000);
    kill(srv.pid, SIGTERM);
    usleep(200000);
    CHECK(sock_connect(srv.port) < 0); /* the listener is closed */
    CHECK(sock_read_all(idle, resp, sizeof resp, 2000) == 0); /* the idle one is closed, unanswered */
    sock_send_str(fd, " 2 ]");
    CHECK(sock_read_all(fd, resp, sizeof resp, 3000) > 0);
    CHECK_INT(resp_status(resp), 200);
    CHECK_STR(resp_body(resp), "[1,2]");
    char conn[32];
    CHECK(resp_header(resp, "Connection", conn, sizeof conn));
    CHECK_STR(conn, "close");
    close(fd);
    close(idle);
    CHECK_INT(t_stop(&srv, SIGTERM, 15000), 0);
    CHECK_INT(t_served(&srv), 1);
}

T_MAIN(T(py_echo_passes_the_contract), T(py_echo_invalid_json_has_offset_and_reason),
       T(py_echo_sigterm_finishes_request_in_flight_then_exits_0))
