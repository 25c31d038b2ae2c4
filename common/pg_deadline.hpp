#pragma once
// PostgreSQL statements with a deadline (docs/ha.md "A store that hangs"). A PostgreSQL server
// that hangs instead of refusing (its process frozen, its host paused, a network that drops
// packets instead of resetting) leaves a blocking libpq call (PQexecParams, PQreset) waiting
// without end: the kernel of a frozen server's host still acknowledges what is sent, so TCP
// never gives up, and a dropped path gives up only after tcp_retries2 (about 15 minutes).
// A thread waiting there cannot report, retry or reconnect.
//
// execWithDeadline() sends the statement (PQsendQueryParams) and waits for the answer on the
// socket with poll() until a deadline; past it the connection is closed (the caller's next
// statement opens a new one, with the same deadline on the connection attempt:
// PQconnectStart/PQconnectPoll). withStoreTimeouts() adds to a connection string what the
// kernel and the server can do themselves: TCP keepalives and tcp_user_timeout (libpq >= 12,
// Debian 12 has 15) so that a dead path breaks the connection, and the server's
// statement_timeout so that a statement stuck on a lock ends on the server too (an abandoned
// statement would otherwise keep its locks until it is granted them).
//
// Header-only; include it only from code that links libpq (durable/, gateway/cluster/,
// keymap/).

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <poll.h>
#include <string>
#include <vector>

#include <libpq-fe.h>

namespace iwf::pg {

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// `conninfo` (a postgresql:// URL or key=value words) with the parameters above added unless it
// names them already: keepalives after `timeout` idle, probed every second, 3 probes;
// tcp_user_timeout `timeout`; connect_timeout (whole seconds, at least 2: libpq's minimum);
// the server's statement_timeout `timeout`.
inline std::string withStoreTimeouts(const std::string& conninfo,
                                     std::chrono::milliseconds timeout) {
    const bool url =
        conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
    const long long ms = timeout.count();
    const long long idle_s = std::max<long long>(1, ms / 1000);
    const long long connect_s = std::max<long long>(2, (ms + 999) / 1000);
    const std::vector<std::pair<std::string, std::string>> add{
        {"keepalives", "1"},
        {"keepalives_idle", std::to_string(idle_s)},
        {"keepalives_interval", "1"},
        {"keepalives_count", "3"},
        {"tcp_user_timeout", std::to_string(ms)},
        {"connect_timeout", std::to_string(connect_s)},
        {"options", "-c statement_timeout=" + std::to_string(ms)},
    };
    std::string out = conninfo;
    for (const auto& [key, value] : add) {
        if (conninfo.find(key + "=") != std::string::npos ||
            (key == "options" && conninfo.find("statement_timeout") != std::string::npos)) {
            continue;  // the operator's own setting wins
        }
        if (url) {
            std::string v;  // percent-encoded (RFC 3986) where a URL needs it
            for (char ch : value) {
                v += ch == ' '   ? std::string("%20")
                     : ch == '=' ? std::string("%3D")
                                 : std::string(1, ch);
            }
            out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + v;
        } else {
            out += " " + key + "='" + value + "'";
        }
    }
    return out;
}

// Waits until the socket of `c` is readable (or writable) or the deadline passes.
inline bool waitSocket(PGconn* c, bool write, std::chrono::steady_clock::time_point deadline) {
    const int fd = PQsocket(c);
    if (fd < 0) {
        return false;
    }
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            return false;
        }
        pollfd p{fd, static_cast<short>(write ? POLLOUT : POLLIN), 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            return false;
        }
    }
}

// Opens `conninfo` within the deadline; null when it fails or the deadline passes.
inline PGconn* connectWithDeadline(const std::string& conninfo,
                                   std::chrono::steady_clock::time_point deadline) {
    PGconn* c = PQconnectStart(conninfo.c_str());
    if (c == nullptr) {
        return nullptr;
    }
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    for (;;) {
        if (PQstatus(c) == CONNECTION_BAD || st == PGRES_POLLING_FAILED) {
            PQfinish(c);
            return nullptr;
        }
        if (st == PGRES_POLLING_OK) {
            return c;
        }
        if (!waitSocket(c, st == PGRES_POLLING_WRITING, deadline)) {
            PQfinish(c);
            return nullptr;
        }
        st = PQconnectPoll(c);
    }
}

// One statement on `*conn` (re-opened first when it is broken or was abandoned), answered
// within `timeout` or abandoned: then `*conn` is closed and null is returned, like a statement
// whose connection broke. The last result of the statement otherwise (error results too).
inline Result execWithDeadline(PGconn*& conn, const std::string& conninfo, const char* sql,
                               const std::vector<std::string>& params,
                               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto abandon = [&conn] {
        PQfinish(conn);
        conn = nullptr;
        return Result();
    };
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        conn = connectWithDeadline(conninfo, deadline);
        if (conn == nullptr) {
            return Result();
        }
    }
    // Sending never blocks either (PQexec, used elsewhere on the connection, ignores this).
    if (PQsetnonblocking(conn, 1) != 0) {
        return abandon();
    }
    std::vector<const char*> v;
    v.reserve(params.size());
    for (const auto& p : params) {
        v.push_back(p.c_str());
    }
    if (PQsendQueryParams(conn, sql, static_cast<int>(v.size()), nullptr, v.data(), nullptr,
                          nullptr, 0) == 0) {
        return abandon();
    }
    for (int f; (f = PQflush(conn)) != 0;) {
        if (f < 0 || !waitSocket(conn, true, deadline)) {
            return abandon();
        }
    }
    Result last;
    for (;;) {
        while (PQisBusy(conn) != 0) {
            if (!waitSocket(conn, false, deadline) || PQconsumeInput(conn) == 0) {
                return abandon();
            }
        }
        PGresult* r = PQgetResult(conn);
        if (r == nullptr) {
            return last;
        }
        last.reset(r);
    }
}

}  // namespace iwf::pg
