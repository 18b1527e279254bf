#!/usr/bin/env python3
"""echo.py: the echo workload (contracts/echo.md) in Python 3, standard library only.

    python3 tests/tools/echo.py PORT [--body-limit BYTES]

An implementation of one's own in a language the lab does not build, for `stackbench run
--impl 'py=python3 tests/tools/echo.py {port}'` and `stackbench verify echo URL`. HTTP/1.1 on
asyncio streams (keep-alive, pipelining, chunked bodies, Expect: 100-continue, 10 s request
timeout); POST /echo validates the body against RFC 8259 and answers it minified, everything
but the white space between tokens kept as written. PORT 0 picks a free port. SIGTERM or SIGINT:
stop accepting, finish the requests in flight, print "served N requests" and exit 0.
"""

import argparse
import asyncio
import re
import signal
import sys
import time
from email.utils import formatdate

HOST = "127.0.0.1"
MAX_HEADER = 16 * 1024      # a header section over this is 431
REQUEST_TIMEOUT = 10.0      # a started request must be complete within this
IDLE_TIMEOUT = 60.0         # a keep-alive connection with nothing to do is closed after this
STOP_GRACE = 10.0           # on SIGTERM, how long requests in flight may take
MAX_DEPTH = 128

# ---------------------------------------------------------------------------------------------
# JSON: a validating minifier. The body is checked as UTF-8 once, then walked token by token
# with an explicit stack; every token is copied as written and the white space between tokens
# is dropped.

WS = re.compile(rb"[ \t\r\n]*")
NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# The longest valid prefix of a string (without its closing quote); what follows tells why not.
STRING_PREFIX = re.compile(rb'"(?:[^"\\\x00-\x1f]+|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*')
LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}
DIGITS = frozenset(b"-0123456789")
NUMBER_TAIL = frozenset(b"0123456789.eE+-")
QUOTE, COLON, COMMA = ord('"'), ord(":"), ord(",")
OPEN = {ord("{"): ord("}"), ord("["): ord("]")}


class JsonError(Exception):
    def __init__(self, offset, reason):
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def _string_end(doc, pos):
    """The offset just after the string that starts at doc[pos] (a quote)."""
    end = STRING_PREFIX.match(doc, pos).end()
    if end < len(doc) and doc[end] == QUOTE:
        return end + 1
    if end >= len(doc):
        raise JsonError(end, "unterminated string")
    if doc[end] == ord("\\"):
        raise JsonError(end, "invalid escape")
    raise JsonError(end, "control character in string")


def _scalar_end(doc, pos):
    """The offset just after the string, number or literal at pos."""
    c = doc[pos] if pos < len(doc) else -1
    if c == QUOTE:
        return _string_end(doc, pos)
    if c in DIGITS:
        m = NUMBER.match(doc, pos)
        if m is None:
            raise JsonError(pos, "invalid number")
        end = m.end()
        if end < len(doc) and doc[end] in NUMBER_TAIL:      # 01, 1., 1e, 1.5.2
            raise JsonError(end, "invalid number")
        return end
    word = LITERALS.get(c)
    if word is not None:
        if doc.startswith(word, pos):
            return pos + len(word)
        raise JsonError(pos, "invalid literal")
    if c == -1:
        raise JsonError(pos, "unexpected end of input, expected a value")
    raise JsonError(pos, "expected a value")


def minify(doc):
    """doc (bytes) minified, or JsonError with the offset where it stopped being JSON."""
    try:
        doc.decode("utf-8")
    except UnicodeDecodeError as e:
        raise JsonError(e.start, "invalid UTF-8") from None
    n = len(doc)
    out = []
    closers = []                      # the closing byte of every open array or object
    pos = WS.match(doc, 0).end()
    want_key = False                  # the next token is a member name (after "{" or ",")
    while True:
        # A value (or, in an object, a member name and its colon first).
        if want_key:
            if pos >= n or doc[pos] != QUOTE:
                raise JsonError(pos, "expected a member name")
            end = _string_end(doc, pos)
            out.append(doc[pos:end])
            pos = WS.match(doc, end).end()
            if pos >= n or doc[pos] != COLON:
                raise JsonError(pos, "expected ':'")
            out.append(b":")
            pos = WS.match(doc, pos + 1).end()
            want_key = False
        c = doc[pos] if pos < n else -1
        if c in OPEN:
            if len(closers) == MAX_DEPTH:
                raise JsonError(pos, "nested too deeply")
            out.append(doc[pos:pos + 1])
            pos = WS.match(doc, pos + 1).end()
            if pos < n and doc[pos] == OPEN[c]:
                out.append(doc[pos:pos + 1])        # empty: a complete value
                pos += 1
            else:
                closers.append(OPEN[c])
                want_key = c == ord("{")
                continue
        else:
            end = _scalar_end(doc, pos)
            out.append(doc[pos:end])
            pos = end
        # After a value: a comma, the end of arrays and objects, or the end of the document.
        while True:
            pos = WS.match(doc, pos).end()
            if not closers:
                if pos != n:
                    raise JsonError(pos, "unexpected data after the document")
                return b"".join(out)
            c = doc[pos] if pos < n else -1
            if c == COMMA:
                out.append(b",")
                pos = WS.match(doc, pos + 1).end()
                want_key = closers[-1] == ord("}")
                break
            if c == closers[-1]:
                out.append(doc[pos:pos + 1])
                closers.pop()
                pos += 1
                continue
            if c == -1:
                raise JsonError(pos, "unexpected end of input")
            raise JsonError(pos, "expected ',' or '%c'" % closers[-1])


# ---------------------------------------------------------------------------------------------
# HTTP/1.1

REASONS = {100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
           417: "Expectation Failed", 431: "Request Header Fields Too Large",
           501: "Not Implemented", 505: "HTTP Version Not Supported"}
HEALTH_BODY = b'{"status":"ok"}'
TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])")
FIELD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?")


class HttpError(Exception):
    """An answer that ends the connection: 400, 408, 413, 431, ..."""

    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


class ClientGone(Exception):
    """The client closed its side before the request was complete: no answer."""


def error_body(name, **more):
    extra = "".join(',"%s":%s' % (k, v) for k, v in more.items())
    return ('{"error":"%s"%s}' % (name, extra)).encode()


def json_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DateHeader:
    """The Date value, formatted once a second."""

    def __init__(self):
        self.second = None
        self.value = b""

    def get(self):
        now = int(time.time())
        if now != self.second:
            self.second = now
            self.value = formatdate(now, usegmt=True).encode()
        return self.value


class Request:
    def __init__(self, method, target, minor, headers):
        self.method = method
        self.path = target.split(b"?", 1)[0]
        self.minor = minor              # HTTP/1.minor
        self.headers = headers          # lower-case name -> list of values
        self.body = b""

    def header(self, name):
        values = self.headers.get(name)
        if values is None:
            return None
        if len(values) > 1:
            raise HttpError(400, error_body("bad_request"))
        return values[0]

    def keep_alive(self):
        tokens = [t.strip().lower() for t in (self.header(b"connection") or b"").split(b",")]
        if self.minor == 0:
            return b"keep-alive" in tokens
        return b"close" not in tokens


class Connection:
    def __init__(self, server, reader, writer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.idle = True                # waiting for the first byte of a request
        self.deadline = 0.0

    async def fill(self):
        """Reads more into the buffer before the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise asyncio.TimeoutError
        data = await asyncio.wait_for(self.reader.read(65536), remaining)
        if not data:
            raise ClientGone
        self.buf += data

    async def read_head(self):
        """The header section of the next request (without its final CRLF CRLF), or None when
        the client closed or went quiet between requests."""
        self.idle = not self.buf
        if self.idle and self.server.stopping:
            return None
        self.deadline = time.monotonic() + (IDLE_TIMEOUT if self.idle else REQUEST_TIMEOUT)
        while True:
            while self.buf.startswith(b"\r\n"):     # empty lines before a request are ignored
                del self.buf[:2]
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                if end > MAX_HEADER:
                    raise HttpError(431, error_body("headers_too_large"))
                head = bytes(self.buf[:end])
                del self.buf[:end + 4]
                return head
            if len(self.buf) > MAX_HEADER:
                raise HttpError(431, error_body("headers_too_large"))
            try:
                await self.fill()
            except (ClientGone, asyncio.TimeoutError):
                if self.idle:
                    return None
                raise
            if self.idle and self.buf:
                self.idle = False
                self.deadline = time.monotonic() + REQUEST_TIMEOUT
                if self.server.stopping:            # a new request after the stop began
                    return None

    @staticmethod
    def parse_head(head):
        lines = head.split(b"\r\n")
        m = REQUEST_LINE.fullmatch(lines[0])
        if m is None:
            raise HttpError(400, error_body("bad_request"))
        method, target, major, minor = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        if major != 1 or minor > 1:
            raise HttpError(505, error_body("http_version_not_supported"))
        headers = {}
        for line in lines[1:]:
            f = FIELD.fullmatch(line)
            if f is None:
                raise HttpError(400, error_body("bad_request"))
            headers.setdefault(f.group(1).lower(), []).append(f.group(2))
        req = Request(method, target, minor, headers)
        if minor == 1 and len(headers.get(b"host", ())) != 1:
            raise HttpError(400, error_body("bad_request"))
        return req

    async def read_body(self, req):
        limit = self.server.body_limit
        te = req.header(b"transfer-encoding")
        cl = req.header(b"content-length")
        if te is not None and cl is not None:
            raise HttpError(400, error_body("bad_request"))
        if te is not None:
            if te.lower() != b"chunked":
                raise HttpError(501, error_body("not_implemented"))
            await self.continue_if_asked(req)
            req.body = await self.read_chunked(limit)
            return
        if cl is None:
            return
        if not cl.isdigit():
            raise HttpError(400, error_body("bad_request"))
        length = int(cl)
        if length > limit:
            raise HttpError(413, error_body("body_too_large", limit=limit))
        if len(self.buf) < length:
            await self.continue_if_asked(req)
        while len(self.buf) < length:
            await self.fill()
        req.body = bytes(self.buf[:length])
        del self.buf[:length]

    async def continue_if_asked(self, req):
        expect = req.header(b"expect")
        if expect is None:
            return
        if expect.lower() != b"100-continue":
            raise HttpError(417, error_body("expectation_failed"))
        if req.minor == 1 and not self.buf:
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    async def read_line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[:end + 2]
                return line
            if len(self.buf) > 8192:
                raise HttpError(400, error_body("bad_request"))
            await self.fill()

    async def read_chunked(self, limit):
        parts = []
        total = 0
        while True:
            m = CHUNK_SIZE.fullmatch(await self.read_line())
            if m is None:
                raise HttpError(400, error_body("bad_request"))
            size = int(m.group(1), 16)
            if size == 0:
                break
            total += size
            if total > limit:
                raise HttpError(413, error_body("body_too_large", limit=limit))
            while len(self.buf) < size + 2:
                await self.fill()
            if self.buf[size:size + 2] != b"\r\n":
                raise HttpError(400, error_body("bad_request"))
            parts.append(bytes(self.buf[:size]))
            del self.buf[:size + 2]
        while True:                                 # the trailer section, ignored
            line = await self.read_line()
            if not line:
                return b"".join(parts)
            if FIELD.fullmatch(line) is None:
                raise HttpError(400, error_body("bad_request"))

    def route(self, req):
        """(status, extra header lines, body) for a complete request."""
        if req.path == b"/echo":
            if req.method != b"POST":
                return 405, b"Allow: POST\r\n", error_body("method_not_allowed")
            try:
                return 200, b"", minify(req.body)
            except JsonError as e:
                return 400, b"", error_body("invalid_json", offset=e.offset,
                                            reason=json_string(e.reason))
        if req.path == b"/health":
            if req.method not in (b"GET", b"HEAD"):
                return 405, b"Allow: GET, HEAD\r\n", error_body("method_not_allowed")
            return 200, b"", HEALTH_BODY
        return 404, b"", error_body("not_found")

    def respond(self, status, extra, body, keep_alive=True, head_only=False, minor=1):
        connection = b""
        if not keep_alive:
            connection = b"Connection: close\r\n"
        elif minor == 0:
            connection = b"Connection: keep-alive\r\n"
        self.writer.write(b"".join((
            b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status].encode()),
            b"Date: ", self.server.date.get(), b"\r\n",
            b"Content-Type: application/json\r\n",
            b"Content-Length: %d\r\n" % len(body),
            extra, connection, b"\r\n",
            b"" if head_only else body)))
        self.server.served += 1

    async def serve(self):
        try:
            while True:
                head = await self.read_head()
                if head is None:
                    return
                req = self.parse_head(head)
                await self.read_body(req)
                keep_alive = req.keep_alive() and not self.server.stopping
                status, extra, body = self.route(req)
                self.respond(status, extra, body, keep_alive, req.method == b"HEAD", req.minor)
                if not keep_alive:
                    await self.writer.drain()
                    return
                if self.writer.transport.get_write_buffer_size() > 65536:
                    await self.writer.drain()       # a client that does not read its answers
        except HttpError as e:
            self.respond(e.status, b"", e.body, keep_alive=False)
            await self.linger()
        except asyncio.TimeoutError:
            self.respond(408, b"", error_body("request_timeout"), keep_alive=False)
            await self.linger()
        except (ClientGone, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.writer.close()

    async def linger(self):
        """After an error answer: half-close, then read and drop what the client still sends
        for a moment, so that closing does not reset the connection before it read the answer."""
        try:
            await self.writer.drain()
            self.writer.write_eof()
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                data = await asyncio.wait_for(self.reader.read(65536),
                                              deadline - time.monotonic())
                if not data:
                    break
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass


class Server:
    def __init__(self, body_limit):
        self.body_limit = body_limit
        self.date = DateHeader()
        self.served = 0
        self.stopping = False
        self.connections = {}           # task -> Connection

    async def handle(self, reader, writer):
        conn = Connection(self, reader, writer)
        task = asyncio.current_task()
        self.connections[task] = conn
        try:
            await conn.serve()
        finally:
            del self.connections[task]

    def stop(self):
        """Stop accepting; idle connections are closed now, the others after their request."""
        self.stopping = True
        self.listener.close()
        for task, conn in list(self.connections.items()):
            if conn.idle:
                task.cancel()

    async def run(self, port):
        self.listener = await asyncio.start_server(self.handle, HOST, port, backlog=1024)
        port = self.listener.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopped.set)
        print("listening on http://%s:%d" % (HOST, port), file=sys.stderr, flush=True)
        await stopped.wait()
        self.stop()
        tasks = list(self.connections)
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # Stopped: a second signal must not kill us on the way out (closing the loop would put
        # the default action back), so ignore them from here on.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)
        print("served %d requests" % self.served, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description="The echo workload in Python (asyncio).")
    parser.add_argument("port", type=int, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--body-limit", type=int, default=1048576, metavar="BYTES",
                        help="largest request body (default 1048576)")
    args = parser.parse_args()
    asyncio.run(Server(args.body_limit).run(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
