#pragma once
// The admin HTTP endpoint (Boost.Beast): /healthz, /metrics (Prometheus text), /v1/status
// (JSON) and whatever routes other parts add (/v1/calls, /v1/keymap, ...). Plain HTTP/1.1
// on a loopback address by default. Completion handlers, no coroutines (Asio 1.18 enables
// co_await only with GCC here, and the fuzz build uses clang).
//
// Routes (docs/operating.md "Admin API"):
//   route("/v1/status", handler)                     GET (and HEAD) of one exact path
//   route("POST", "/v1/calls/{id}/end", handler)     a method and a pattern: `{name}` matches
//                                                     one path segment (percent-decoded into
//                                                     req.param("name")), a trailing `/*`
//                                                     any rest (req.param("*"))
// A path no route matches is 404; a path some route matches with another method is 405 with
// an Allow header. Literal routes win over patterns.
//
// Read-only by default, safe when not: GET is open on the admin address; every POST needs
// `Authorization: Bearer <secret>` of the token set with setToken() (admin.token_file). No
// token configured: 403; a missing or wrong token: 401 with `WWW-Authenticate: Bearer`. Both
// are logged (rate-limited). An authorised POST is audited: one line on the "audit" logger
// naming the client address, the token's name, the request and what the handler says it did
// (HttpResponse::audit), and the same line in a ring of the last 100 (audit(), /v1/audit).
//
// Bounded like every TCP server of iwfd (common/connection_gate.hpp, docs/security.md): each
// accepted connection takes a place in the process's connection budget (total and per source
// address; beyond either it is reset at once), a request must arrive whole within the idle
// timeout (so a silent or dripping client is cut off), a request body is at most 64 KiB, and
// the accept loop outlives every error: out of descriptors (EMFILE/ENFILE) it pauses with
// backoff instead of spinning or giving up, and it ends only in stop().

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/asio.hpp"
#include "common/connection_gate.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace iwf::gateway {

struct HttpRequest {
    std::string method;                          // "GET", "POST", ... (HEAD is served as GET)
    std::string path;                            // as sent, without the query
    std::string query;                           // after '?', as sent
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string client;     // "address:port" of the peer
    std::string principal;  // the token's name, for an authorised POST; empty otherwise
    std::map<std::string, std::string> params;  // `{name}` segments, percent-decoded; "*"

    std::string param(const std::string& name) const {
        auto it = params.find(name);
        return it == params.end() ? std::string() : it->second;
    }
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct HttpResponse {
    HttpResponse() = default;
    HttpResponse(unsigned s, std::string type, std::string b)
        : status(s), content_type(std::move(type)), body(std::move(b)) {}

    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // Set by the GET /v1/events route: the connection becomes a Server-Sent Events stream
    // (no body; publish() writes to it from now on).
    bool event_stream = false;
    // POST: what was done, in a few words ("ended call c7 on both legs"); goes to the audit
    // line. Empty: the audit line says the status only.
    std::string audit;

    static HttpResponse json(unsigned status, const nlohmann::json& j) {
        return {status, "application/json", j.dump(2) + "\n"};
    }
    static HttpResponse text(unsigned status, std::string body) {
        return {status, "text/plain; charset=utf-8", std::move(body)};
    }
};

class AdminServer {
  public:
    using Handler = std::function<HttpResponse()>;
    using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

    explicit AdminServer(asio::io_context& io);
    ~AdminServer();

    // GET (and HEAD) of one exact path.
    void route(const std::string& path, Handler h);
    // `method` of a path pattern (see the top of this file).
    void route(const std::string& method, const std::string& pattern, RequestHandler h);

    // The bearer token POST requests must present; nullopt = none (every POST refused, 403).
    // Safe to call again (a reload).
    void setToken(std::optional<std::pair<std::string, std::string>> name_secret);
    bool hasToken() const { return token_.has_value(); }

    // The last 100 audit lines, newest first.
    nlohmann::json audit() const;

    // Server-Sent Events (GET /v1/events, text/event-stream; WHATWG HTML "Server-sent
    // events"): at most `max_streams` streams at once (beyond: 503 with Retry-After), each on a
    // connection that keeps its place in the connection gate. A stream whose client reads too
    // slowly is closed rather than buffered without bound: more than kStreamQueueMax bytes
    // waiting, or one write pending longer than the idle timeout (counted in
    // iwf_admin_event_streams_dropped_total{reason}).
    static constexpr std::size_t kStreamQueueMax = 256 * 1024;
    void enableEvents(std::size_t max_streams, metrics::Registry& metrics);
    // Sends `event: name` with `data` (split into data: lines) to every open stream.
    void publish(std::string_view event, std::string_view data);
    std::size_t eventStreams();

    // Binds and starts accepting; throws boost::system::system_error when it cannot bind.
    void start(const std::string& address, std::uint16_t port);
    void stop();
    std::uint16_t port() const { return port_; }

    // GET `path` as this server would answer it (what another route serves, e.g. for the
    // event feed); never a stream.
    HttpResponse internalGet(const std::string& path);

    // What a request gets (routing, auth, audit): public for tests.
    HttpResponse handle(HttpRequest& req);

  private:
    class Session;
    friend class Session;
    struct Route {
        std::string method;
        std::vector<std::string> segments;  // split on '/'; "{x}" a parameter
        bool prefix = false;                // pattern ended with "/*"
        bool literal = true;
        RequestHandler handler;
    };
    static bool match(const Route& r, const std::vector<std::string>& segs,
                      std::map<std::string, std::string>& params);
    bool authorise(HttpRequest& req, HttpResponse& refusal);
    void recordAudit(const HttpRequest& req, const HttpResponse& res);
    void accept();
    void pauseAccepting(const boost::system::error_code& ec, std::string_view why);

    asio::ip::tcp::acceptor acceptor_;
    asio::steady_timer accept_timer_;
    net::AcceptBackoff backoff_;
    log::RateLimiter warn_limiter_;
    log::RateLimiter auth_limiter_;
    std::vector<Route> routes_;
    std::optional<std::pair<std::string, std::string>> token_;
    std::deque<nlohmann::json> audit_;
    std::vector<std::shared_ptr<Session>> streams_;  // GET /v1/events
    std::size_t max_streams_ = 0;
    std::atomic<std::size_t> open_streams_{0};  // read by /metrics (any thread)
    metrics::Counter* streams_opened_ = nullptr;
    metrics::Counter* streams_refused_ = nullptr;
    metrics::Counter* dropped_queue_ = nullptr;
    metrics::Counter* dropped_stalled_ = nullptr;
    std::uint16_t port_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Percent-decoding of one path segment ("%40" -> "@"); nullopt for a malformed escape.
std::optional<std::string> percentDecode(std::string_view s);

}  // namespace iwf::gateway
