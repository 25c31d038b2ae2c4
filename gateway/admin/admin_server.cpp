#include "gateway/admin/admin_server.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include "common/log.hpp"

namespace iwf::gateway {

namespace beast = boost::beast;
namespace http = beast::http;

AdminServer::AdminServer(asio::io_context& io) : acceptor_(io), accept_timer_(io) {}

AdminServer::~AdminServer() {
    *alive_ = false;
}

void AdminServer::start(const std::string& address, std::uint16_t port) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address(address), port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    log::get("admin")->info("admin=listening address={} port={}", address, port_);
}

void AdminServer::route(const std::string& path, Handler h) {
    route("GET", path, [h = std::move(h)](const HttpRequest&) { return h(); });
}

void AdminServer::route(const std::string& method, const std::string& pattern, RequestHandler h) {
    Route r;
    r.method = method;
    r.handler = std::move(h);
    std::string p = pattern;
    if (p.size() >= 2 && p.compare(p.size() - 2, 2, "/*") == 0) {
        r.prefix = true;
        r.literal = false;
        p.resize(p.size() - 1);  // keep the '/': "/console/" matches "/console/app.js"
    }
    std::size_t pos = 0;
    while (pos <= p.size()) {
        const auto slash = p.find('/', pos);
        const auto seg =
            p.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
            r.literal = false;
        }
        r.segments.push_back(seg);
        if (slash == std::string::npos) {
            break;
        }
        pos = slash + 1;
    }
    if (r.prefix && !r.segments.empty() && r.segments.back().empty()) {
        r.segments.pop_back();
    }
    // Literal routes first: "/v1/keymap/groups" is not taken by "/v1/keymap/{x}".
    auto at = r.literal ? std::find_if(routes_.begin(), routes_.end(),
                                       [](const Route& o) { return !o.literal; })
                        : routes_.end();
    routes_.insert(at, std::move(r));
}

std::optional<std::string> percentDecode(std::string_view s) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) {
            return std::nullopt;
        }
        const int hi = hex(s[i + 1]);
        const int lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

bool AdminServer::match(const Route& r, const std::vector<std::string>& segs,
                        std::map<std::string, std::string>& params) {
    if (r.prefix ? segs.size() < r.segments.size() : segs.size() != r.segments.size()) {
        return false;
    }
    std::map<std::string, std::string> got;
    for (std::size_t i = 0; i < r.segments.size(); ++i) {
        const std::string& want = r.segments[i];
        if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
            auto v = percentDecode(segs[i]);
            if (!v || v->empty()) {
                return false;
            }
            got[want.substr(1, want.size() - 2)] = std::move(*v);
        } else if (want != segs[i]) {
            return false;
        }
    }
    if (r.prefix) {
        std::string rest;
        for (std::size_t i = r.segments.size(); i < segs.size(); ++i) {
            rest += (i > r.segments.size() ? "/" : "") + segs[i];
        }
        got["*"] = std::move(rest);
    }
    params = std::move(got);
    return true;
}

void AdminServer::setToken(std::optional<std::pair<std::string, std::string>> name_secret) {
    token_ = std::move(name_secret);
}

namespace {

// Compares without an early exit, so that the time taken says nothing about how much of a
// guessed secret was right.
bool sameSecret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<std::size_t>(b.size(), 1)]);
    }
    return diff == 0 && !b.empty();
}

std::string isoNow() {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z",
                       fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms);
}

}  // namespace

bool AdminServer::authorise(HttpRequest& req, HttpResponse& refusal) {
    auto lg = log::get("admin");
    std::uint64_t suppressed = 0;
    if (!token_) {
        refusal = HttpResponse::text(
            403,
            "forbidden: no admin token configured (admin.token_file); the admin API is "
            "read-only\n");
        if (auth_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
            lg->warn(
                "admin=refused status=403 client={} request=\"{} {}\" reason=no_token_configured "
                "suppressed={}",
                req.client, req.method, req.path, suppressed);
        }
        return false;
    }
    const std::string auth = req.header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    const bool bearer =
        auth.size() > kBearer.size() &&
        std::equal(kBearer.begin(), kBearer.end(), auth.begin(), [](char x, char y) {
            return std::tolower(static_cast<unsigned char>(x)) ==
                   std::tolower(static_cast<unsigned char>(y));
        });
    if (!bearer || !sameSecret(std::string_view(auth).substr(kBearer.size()), token_->second)) {
        refusal = HttpResponse::text(401, auth.empty() ? "unauthorized: bearer token required\n"
                                                       : "unauthorized: wrong token\n");
        refusal.headers.emplace_back(
            "WWW-Authenticate", auth.empty() ? "Bearer realm=\"iwfd\""
                                             : "Bearer realm=\"iwfd\", error=\"invalid_token\"");
        if (auth_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
            lg->warn("admin=refused status=401 client={} request=\"{} {}\" reason={} suppressed={}",
                     req.client, req.method, req.path, auth.empty() ? "no_token" : "wrong_token",
                     suppressed);
        }
        return false;
    }
    req.principal = token_->first;
    return true;
}

void AdminServer::recordAudit(const HttpRequest& req, const HttpResponse& res) {
    const std::string what = res.audit.empty() ? std::string("-") : res.audit;
    const std::string line =
        fmt::format("audit client={} who={} request=\"{} {}\" status={} did=\"{}\"", req.client,
                    req.principal, req.method, req.path, res.status, what);
    // spdlog has no "notice" level: audit lines are info on their own logger ("audit"), which
    // a log.levels entry can route or keep (README "Configuration").
    log::get("audit")->info("{}", line);
    audit_.push_front({{"time", isoNow()},
                       {"client", req.client},
                       {"who", req.principal},
                       {"method", req.method},
                       {"path", req.path},
                       {"status", res.status},
                       {"did", what},
                       {"line", line}});
    while (audit_.size() > 100) {
        audit_.pop_back();
    }
}

nlohmann::json AdminServer::audit() const {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : audit_) {
        a.push_back(e);
    }
    return {{"audit", a}};
}

HttpResponse AdminServer::handle(HttpRequest& req) {
    if (auto q = req.path.find('?'); q != std::string::npos) {
        req.query = req.path.substr(q + 1);
        req.path.resize(q);
    }
    const std::string method = req.method == "HEAD" ? std::string("GET") : req.method;
    std::vector<std::string> segs;
    {
        std::size_t pos = 0;
        while (pos <= req.path.size()) {
            const auto slash = req.path.find('/', pos);
            segs.push_back(
                req.path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
            if (slash == std::string::npos) {
                break;
            }
            pos = slash + 1;
        }
    }
    const Route* found = nullptr;
    std::vector<std::string> allowed;
    for (const Route& r : routes_) {
        std::map<std::string, std::string> params;
        if (!match(r, segs, params)) {
            continue;
        }
        if (r.method != method) {
            if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
                allowed.push_back(r.method);
            }
            continue;
        }
        found = &r;
        req.params = std::move(params);
        break;
    }
    if (found == nullptr) {
        if (allowed.empty()) {
            return HttpResponse::text(404, "not found\n");
        }
        HttpResponse r = HttpResponse::text(405, "method not allowed\n");
        std::string allow;
        for (const auto& m : allowed) {
            allow += (allow.empty() ? "" : ", ") + m + (m == "GET" ? ", HEAD" : "");
        }
        r.headers.emplace_back("Allow", allow);
        return r;
    }
    const bool mutating = method != "GET";
    if (mutating) {
        HttpResponse refusal;
        if (!authorise(req, refusal)) {
            return refusal;
        }
    }
    HttpResponse res;
    try {
        res = found->handler(req);
    } catch (const std::exception& e) {
        res = HttpResponse::text(500, std::string("error: ") + e.what() + "\n");
    }
    if (mutating) {
        recordAudit(req, res);
    }
    return res;
}

// One connection: read a request, answer it, repeat while the client keeps it alive. The
// stream's timer (beast::tcp_stream) bounds each whole request read and each response write
// by the idle timeout.
class AdminServer::Session : public std::enable_shared_from_this<AdminServer::Session> {
  public:
    Session(AdminServer& server, asio::ip::tcp::socket socket, std::shared_ptr<bool> alive,
            net::ConnectionGate::Slot slot)
        : server_(server)
        , stream_(std::move(socket))
        , alive_(std::move(alive))
        , slot_(std::move(slot)) {
        boost::system::error_code ec;
        const auto ep = stream_.socket().remote_endpoint(ec);
        client_ = ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
    }

    void read() {
        parser_.emplace();
        parser_->body_limit(64 * 1024);
        parser_->header_limit(16 * 1024);
        stream_.expires_after(net::ConnectionGate::process().limits().idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->onRead(ec);
                         });
    }

  private:
    void onRead(boost::system::error_code ec) {
        if (!ec) {
            req_ = parser_->release();
        }
        if (ec == beast::error::timeout) {
            net::ConnectionGate::process().countTimeout(net::Server::Admin, "idle_timeout");
        }
        if (ec || !*alive_) {
            close();
            return;
        }
        HttpRequest hreq;
        hreq.method = std::string(req_.method_string());
        hreq.path = std::string(req_.target());
        for (const auto& f : req_) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            hreq.headers[name] = std::string(f.value());
        }
        hreq.body = std::move(req_.body());
        hreq.client = client_;
        HttpResponse r = server_.handle(hreq);
        if (r.event_stream) {
            startEventStream();
            return;
        }
        res_ = {static_cast<http::status>(r.status), req_.version()};
        res_.set(http::field::server, "iwfd");
        res_.set(http::field::content_type, r.content_type);
        for (const auto& [k, v] : r.headers) {
            res_.set(k, v);
        }
        res_.keep_alive(req_.keep_alive());
        res_.body() = std::move(r.body);
        res_.prepare_payload();
        stream_.expires_after(net::ConnectionGate::process().limits().idle_timeout);
        http::async_write(
            stream_, res_, [self = shared_from_this()](boost::system::error_code wec, std::size_t) {
                if (wec == beast::error::timeout) {
                    net::ConnectionGate::process().countTimeout(net::Server::Admin, "idle_timeout");
                }
                if (wec || !self->res_.keep_alive() || !*self->alive_) {
                    self->close();
                    return;
                }
                self->read();
            });
    }

  public:
    // The stream's response head, then events as publish() queues them. Writes go straight to
    // the socket (no beast timer): a stalled write is found by push() (see enableEvents()).
    void startEventStream() {
        server_.streams_.push_back(shared_from_this());  // the server holds it between writes
        server_.streams_opened_->inc();
        streaming_ = true;
        // A stream's client sends nothing more: a read completes when it goes (EOF, reset),
        // which frees the stream's place at once instead of at the next failed write.
        stream_.socket().async_read_some(
            asio::buffer(eof_probe_),
            [self = shared_from_this()](boost::system::error_code, std::size_t) { self->close(); });
        push(std::make_shared<const std::string>(
            "HTTP/1.1 200 OK\r\nServer: iwfd\r\nContent-Type: text/event-stream\r\n"
            "Cache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n"
            "retry: 2000\n\n"));
    }
    bool streaming() const { return streaming_ && !closed_; }
    void shutdown() { close(); }

    void push(std::shared_ptr<const std::string> frame) {
        if (closed_) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        const char* why = nullptr;
        if (queued_bytes_ + frame->size() > AdminServer::kStreamQueueMax) {
            why = "queue_full";
            server_.dropped_queue_->inc();
        } else if (writing_ &&
                   now - write_started_ > net::ConnectionGate::process().limits().idle_timeout) {
            why = "write_stalled";
            server_.dropped_stalled_->inc();
        }
        if (why != nullptr) {
            std::uint64_t suppressed = 0;
            if (server_.warn_limiter_.allow(now, suppressed)) {
                log::get("admin")->warn(
                    "admin=event_stream_dropped client={} reason={} queued_bytes={} "
                    "suppressed={}",
                    client_, why, queued_bytes_, suppressed);
            }
            close();
            return;
        }
        queued_bytes_ += frame->size();
        queue_.push_back(std::move(frame));
        if (!writing_) {
            writeNext();
        }
    }

  private:
    void writeNext() {
        if (queue_.empty() || closed_) {
            writing_ = false;
            return;
        }
        writing_ = true;
        write_started_ = std::chrono::steady_clock::now();
        asio::async_write(stream_.socket(), asio::buffer(*queue_.front()),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              if (ec || !*self->alive_) {
                                  self->close();
                                  return;
                              }
                              self->queued_bytes_ -= self->queue_.front()->size();
                              self->queue_.pop_front();
                              self->writeNext();
                          });
    }

    void close() {
        if (closed_) {
            return;
        }
        closed_ = true;  // the queue goes with the session: a pending write still reads its front
        boost::system::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    AdminServer& server_;
    beast::tcp_stream stream_;
    std::shared_ptr<bool> alive_;
    net::ConnectionGate::Slot slot_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    bool streaming_ = false;
    std::array<char, 1> eof_probe_{};
    bool closed_ = false;
    bool writing_ = false;
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::size_t queued_bytes_ = 0;
    std::chrono::steady_clock::time_point write_started_;
    http::request<http::string_body> req_;
    std::string client_;
    http::response<http::string_body> res_;
};

void AdminServer::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    accept_timer_.cancel();
    for (auto& st : streams_) {
        st->shutdown();
    }
    streams_.clear();
    open_streams_ = 0;
}

void AdminServer::enableEvents(std::size_t max_streams, metrics::Registry& metrics) {
    max_streams_ = max_streams;
    streams_opened_ =
        &metrics.counter("iwf_admin_event_streams_opened_total", "GET /v1/events streams opened");
    streams_refused_ = &metrics.counter("iwf_admin_event_streams_refused_total",
                                        "GET /v1/events refused: admin.max_event_streams open");
    const std::string help = "Event streams closed because the client read too slowly";
    dropped_queue_ =
        &metrics.counter("iwf_admin_event_streams_dropped_total", help, {{"reason", "queue_full"}});
    dropped_stalled_ = &metrics.counter("iwf_admin_event_streams_dropped_total", help,
                                        {{"reason", "write_stalled"}});
    metrics.callbackGauge("iwf_admin_event_streams", "GET /v1/events streams open", {},
                          [this] { return static_cast<double>(open_streams_.load()); });
    route("GET", "/v1/events", [this](const HttpRequest&) {
        if (eventStreams() >= max_streams_) {
            streams_refused_->inc();
            HttpResponse r =
                HttpResponse::text(503, "too many event streams open (admin.max_event_streams)\n");
            r.headers.emplace_back("Retry-After", "5");
            return r;
        }
        HttpResponse r;
        r.event_stream = true;
        return r;
    });
}

HttpResponse AdminServer::internalGet(const std::string& path) {
    HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.client = "internal";
    HttpResponse r = handle(req);
    if (r.event_stream) {
        return HttpResponse::text(400, "a stream\n");
    }
    return r;
}

std::size_t AdminServer::eventStreams() {
    std::size_t n = 0;
    streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                  [&](const std::shared_ptr<Session>& st) {
                                      if (!st->streaming()) {
                                          return true;
                                      }
                                      ++n;
                                      return false;
                                  }),
                   streams_.end());
    open_streams_ = n;
    return n;
}

void AdminServer::publish(std::string_view event, std::string_view data) {
    if (eventStreams() == 0) {
        return;
    }
    // One frame for every stream: "event: NAME", one "data:" line per line of data, a blank
    // line (WHATWG HTML 9.2.6 "Interpreting an event stream").
    while (!data.empty() && data.back() == '\n') {
        data.remove_suffix(1);
    }
    std::string frame = fmt::format("event: {}\n", event);
    for (;;) {
        const auto nl = data.find('\n');
        frame += "data: ";
        frame += data.substr(0, nl);
        frame += "\n";
        if (nl == std::string_view::npos) {
            break;
        }
        data.remove_prefix(nl + 1);
    }
    frame += "\n";
    auto shared = std::make_shared<const std::string>(std::move(frame));
    for (const auto& st : streams_) {
        st->push(shared);
    }
}

void AdminServer::accept() {
    acceptor_.async_accept(
        [this, alive = alive_](boost::system::error_code ec, asio::ip::tcp::socket socket) {
            if (!*alive || ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                return;  // closed by stop() or the server is gone
            }
            if (ec) {
                if (auto why = net::acceptExhaustion(ec); !why.empty()) {
                    pauseAccepting(ec, why);
                    return;
                }
                accept();  // that one connection failed (e.g. reset before accept): go on
                return;
            }
            backoff_.reset();
            boost::system::error_code rec;
            const auto remote = socket.remote_endpoint(rec);
            if (!rec) {
                auto admission =
                    net::ConnectionGate::process().admit(remote.address(), net::Server::Admin);
                if (admission.slot) {
                    std::make_shared<Session>(*this, std::move(socket), alive,
                                              std::move(*admission.slot))
                        ->read();
                } else {
                    socket.set_option(asio::socket_base::linger(true, 0), rec);
                    socket.close(rec);
                }
            }
            accept();
        });
}

// Out of descriptors or memory: retrying at once fails again (a busy loop); wait, doubling
// from 50 ms to 1 s. The accept loop is never abandoned (the probe found the endpoint dead for
// good after one EMFILE).
void AdminServer::pauseAccepting(const boost::system::error_code& ec, std::string_view why) {
    net::ConnectionGate::process().countAcceptError(net::Server::Admin, why);
    const auto wait = backoff_.next();
    std::uint64_t suppressed = 0;
    if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log::get("admin")->warn(
            "admin=accept_paused reason={} error=\"{}\" retry_in={}ms suppressed={}", why,
            ec.message(), wait.count(), suppressed);
    }
    accept_timer_.expires_after(wait);
    accept_timer_.async_wait([this, alive = alive_](const boost::system::error_code& tec) {
        if (!tec && *alive && acceptor_.is_open()) {
            accept();
        }
    });
}

}  // namespace iwf::gateway
