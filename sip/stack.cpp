#include "sip/stack.hpp"

#include <algorithm>

namespace iwf::sip {

// Outside the anonymous namespace: Stack::ClientTx and Stack::ServerTx (declared in the
// header) hold one.
namespace stack_detail {
enum class TxState : std::uint8_t { Trying, Proceeding, Completed, Accepted, Confirmed, Done };
}  // namespace stack_detail

namespace {
using std::chrono::milliseconds;
using Timer = asio::steady_timer;
using stack_detail::TxState;

bool isRfc3261Branch(const std::string& b) {
    return b.rfind("z9hG4bK", 0) == 0;
}

std::string serverKey(const Message& m, std::string_view method) {
    const std::string branch = m.topViaBranch();
    if (isRfc3261Branch(branch)) {
        auto via = parseVia(m.header("Via").value_or(""));
        std::string sent_by = via ? via->host + ":" + std::to_string(via->port) : std::string();
        return branch + "|" + sent_by + "|" + std::string(method);
    }
    // RFC 2543 peers: match on the request's identity (§17.2.3, simplified).
    return m.callId() + "|" + std::to_string(m.cseqNumber()) + "|" + m.fromTag() + "|" +
           m.header("Via").value_or("") + "|" + std::string(method);
}

std::string dialogCseqKey(const Message& m) {
    return m.callId() + "|" + std::to_string(m.cseqNumber());
}

}  // namespace

struct Stack::ClientTx {
    ClientTxId id = 0;
    std::string key;
    Message request;
    std::string wire;
    Peer peer;
    bool invite = false;
    ResponseHandler handler;
    TxState state = TxState::Trying;
    Timer retrans;
    Timer timeout;
    milliseconds interval{0};
    bool cancel_pending = false;
    bool cancelled = false;
    std::string ack_wire;
    explicit ClientTx(asio::io_context& io) : retrans(io), timeout(io) {}
};

struct Stack::ServerTx {
    ServerTxId id = 0;
    std::string key;
    std::string accepted_key;
    Message request;
    Peer peer;
    bool invite = false;
    TxState state = TxState::Trying;
    std::string last_response;
    int last_status = 0;
    Timer retrans;
    Timer timeout;
    milliseconds interval{0};
    bool acked = false;
    explicit ServerTx(asio::io_context& io) : retrans(io), timeout(io) {}
};

struct Stack::AckMemory {
    std::string wire;
    Peer peer;
    Timer expiry;
    explicit AckMemory(asio::io_context& io) : expiry(io) {}
};

Stack::Stack(asio::io_context& io, metrics::Registry& metrics, StackConfig cfg)
    : io_(io), metrics_(metrics), cfg_(std::move(cfg)), log_(log::get("sip")) {
    // Every transaction timeout reason (below) exported from the start at 0: the dashboards'
    // "SIP transaction errors" panel and the IwfSipTransactionTimeouts alert read increase(),
    // which cannot see the first timeout of a series that is born at 1 (configs/monitoring/).
    for (const char* reason : {"timer_b", "timer_f", "timer_h", "no_ack_for_2xx"}) {
        metrics_.counter("iwf_sip_transaction_timeouts_total", "SIP transactions that timed out",
                         {{"stack", cfg_.name}, {"reason", reason}});
    }
}

Stack::~Stack() {
    stop();
    *alive_ = false;
}

Status Stack::start() {
    for (const auto& l : cfg_.listeners) {
        auto t = makeTransport(io_, metrics_, cfg_.name, l);
        std::weak_ptr<bool> alive = alive_;
        auto st = t->start([this, alive](std::string_view bytes, const Peer& from) {
            if (auto a = alive.lock(); a && *a) {
                received(bytes, from);
            }
        });
        if (!st) {
            stop();
            return st;
        }
        t->onClosed([this, alive](const Peer& peer) {
            auto a = alive.lock();
            if (!a || !*a) {
                return;
            }
            std::vector<std::shared_ptr<ClientTx>> hit;
            for (auto& [id, tx] : clients_) {
                if (tx->peer == peer &&
                    (tx->state == TxState::Trying || tx->state == TxState::Proceeding)) {
                    hit.push_back(tx);
                }
            }
            for (auto& tx : hit) {
                clientFail(tx, 503, "Service Unavailable (connection closed)");
            }
        });
        transports_.push_back(std::move(t));
    }
    if (cfg_.advertised_host.empty()) {
        cfg_.advertised_host = cfg_.listeners.empty() ? "127.0.0.1" : cfg_.listeners[0].address;
    }
    return {};
}

void Stack::stop() {
    for (auto& t : transports_) {
        t->stop();
    }
    transports_.clear();
    for (auto& [id, tx] : clients_) {
        tx->retrans.cancel();
        tx->timeout.cancel();
    }
    for (auto& [id, tx] : servers_) {
        tx->retrans.cancel();
        tx->timeout.cancel();
    }
    clients_.clear();
    client_keys_.clear();
    servers_.clear();
    server_keys_.clear();
    accepted_.clear();
    acks_.clear();
}

std::uint16_t Stack::port(Protocol p) const {
    for (const auto& t : transports_) {
        if (t->protocol() == p) {
            return t->localPort();
        }
    }
    return 0;
}

std::string Stack::host() const {
    return cfg_.advertised_host;
}

std::string Stack::contactUri(std::string_view user, Protocol p) const {
    std::string h = host();
    if (h.find(':') != std::string::npos) {
        h = "[" + h + "]";
    }
    std::string u = p == Protocol::Tls ? "sips:" : "sip:";
    if (!user.empty()) {
        u += std::string(user) + "@";
    }
    u += h + ":" + std::to_string(port(p));
    if (p == Protocol::Tcp) {
        u += ";transport=tcp";
    } else if (p == Protocol::Tls) {
        u += ";transport=tls";
    }
    return u;
}

std::string Stack::newCallId() const {
    return randomToken(12) + "@" + host();
}

std::string Stack::viaFor(Protocol p, const std::string& branch) const {
    std::string h = host();
    if (h.find(':') != std::string::npos) {
        h = "[" + h + "]";
    }
    return "SIP/2.0/" + std::string(toString(p)) + " " + h + ":" + std::to_string(port(p)) +
           ";branch=" + branch + ";rport";
}

Transport* Stack::transportFor(Protocol p) {
    for (auto& t : transports_) {
        if (t->protocol() == p) {
            return t.get();
        }
    }
    return nullptr;
}

void Stack::count(std::string_view name, std::string_view help, std::string_view reason) {
    metrics_.counter(name, help, {{"stack", cfg_.name}, {"reason", std::string(reason)}}).inc();
}

void Stack::drop(std::string_view reason) {
    count("iwf_sip_dropped_total", "SIP input dropped without an answer, by reason", reason);
    std::uint64_t suppressed = 0;
    if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log_->warn("stack={} dropped reason={} suppressed={}", cfg_.name, reason, suppressed);
    }
}

void Stack::fencedDrop() {
    metrics_
        .counter("iwf_sip_fenced_sends_dropped_total",
                 "SIP messages not sent because the send gate was closed (docs/ha.md)",
                 {{"stack", cfg_.name}})
        .inc();
}

void Stack::fencedEnded() {
    metrics_
        .counter("iwf_sip_fenced_transactions_ended_total",
                 "SIP transactions ended without a word because the send gate was closed",
                 {{"stack", cfg_.name}})
        .inc();
}

void Stack::fencedEnd(const std::shared_ptr<ClientTx>& tx) {
    fencedEnded();
    clientFail(tx, 503, "Service Unavailable (fenced)");
}

void Stack::send(const Peer& to, const std::string& bytes, Transport::SendError on_error) {
    if (!gateOpen()) {
        fencedDrop();
        if (on_error) {
            asio::post(io_, [on_error] { on_error(Error{"fenced"}); });
        }
        return;
    }
    Transport* t = transportFor(to.protocol);
    if (t == nullptr) {
        count("iwf_sip_send_failed_total", "SIP messages that could not be sent", "no_transport");
        if (on_error) {
            asio::post(io_, [on_error] { on_error(Error{"no_transport"}); });
        }
        return;
    }
    metrics_.counter("iwf_sip_messages_sent_total", "SIP messages sent", {{"stack", cfg_.name}})
        .inc();
    t->send(to, bytes, std::move(on_error));
}

void Stack::sendRaw(const Peer& to, std::string bytes) {
    send(to, bytes);
}

void Stack::received(std::string_view bytes, const Peer& from) {
    metrics_
        .counter("iwf_sip_messages_received_total", "SIP messages received", {{"stack", cfg_.name}})
        .inc();
    if (admit_ && !admit_(from)) {
        count("iwf_sip_dropped_total", "SIP input dropped without an answer, by reason",
              "not_admitted");
        return;
    }
    if (!gateOpen()) {
        // Not the owner: no answer, no state (docs/ha.md "Never two owners").
        count("iwf_sip_dropped_total", "SIP input dropped without an answer, by reason", "fenced");
        return;
    }
    // Keep-alives (RFC 5626 CRLF) carry nothing.
    if (bytes.find_first_not_of("\r\n") == std::string_view::npos) {
        return;
    }
    auto parsed = parseMessage(bytes);
    if (!parsed) {
        Fault f = classifyFault(bytes);
        if (parsed.error().reason == "content_length_mismatch" && f.reason == "unparseable") {
            f.reason = "content_length_mismatch";
            f.detail = "Content-Length";
        }
        if (f.answerable) {
            rejectMalformed(f.skeleton, from, "malformed " + f.detail, f.reason);
        } else {
            drop(f.reason);
        }
        return;
    }
    if (parsed->isRequest()) {
        receivedRequest(std::move(*parsed), from);
    } else {
        receivedResponse(std::move(*parsed), from);
    }
}

void Stack::rejectMalformed(const Message& skeleton, const Peer& from, const std::string& fault,
                            std::string_view reason) {
    count("iwf_sip_rejected_total", "SIP requests answered 400 for a fault, by reason", reason);
    Message rsp = makeResponse(skeleton, 400, "Bad Request", newTag());
    std::string text = fault;
    std::replace(text.begin(), text.end(), '"', '\'');
    rsp.addHeader("Warning", "399 " + host() + " \"" + text + "\"");
    rsp.addHeader("Server", cfg_.user_agent);
    std::uint64_t suppressed = 0;
    if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log_->warn("stack={} peer={} rejected=400 fault=\"{}\" suppressed={}", cfg_.name,
                   from.toString(), fault, suppressed);
    }
    send(from, rsp.serialize());
}

void Stack::receivedRequest(Message req, const Peer& from) {
    if (auto fault = checkRequest(req)) {
        if (req.method() == "ACK") {
            drop("bad_ack");
            return;
        }
        rejectMalformed(req, from, *fault, "bad_request");
        return;
    }
    const std::string& method = req.method();
    if (method == "ACK") {
        auto it = server_keys_.find(serverKey(req, "INVITE"));
        if (it != server_keys_.end()) {
            auto tx = servers_.at(it->second);
            if (tx->state == TxState::Completed) {
                tx->state = TxState::Confirmed;
                tx->retrans.cancel();
                serverTerminateLater(
                    tx, reliable(tx->peer.protocol) ? milliseconds(0) : cfg_.timers.t4);
                return;
            }
            if (tx->state == TxState::Confirmed) {
                return;  // retransmitted ACK for a non-2xx
            }
        }
        auto acc = accepted_.find(dialogCseqKey(req));
        if (acc != accepted_.end()) {
            auto sit = servers_.find(acc->second);
            if (sit != servers_.end()) {
                auto tx = sit->second;
                const bool first = !tx->acked;
                tx->acked = true;
                tx->retrans.cancel();
                if (!first) {
                    return;  // retransmitted ACK
                }
            }
        }
        if (on_ack_) {
            auto h = on_ack_;
            h(req, from);
        }
        return;
    }
    if (method == "CANCEL") {
        auto it = server_keys_.find(serverKey(req, "INVITE"));
        if (it == server_keys_.end()) {
            send(from, makeResponse(req, 481, {}, newTag()).serialize());
            return;
        }
        auto tx = servers_.at(it->second);
        send(from,
             makeResponse(req, 200, {}, tx->request.toTag().empty() ? newTag() : "").serialize());
        if (tx->last_status < 200) {
            Message invite = tx->request;
            (void)respond(tx->id, makeResponse(invite, 487, {}, newTag()));
            if (on_cancel_) {
                auto h = on_cancel_;
                h(tx->id, invite);
            }
        }
        return;
    }
    const std::string key = serverKey(req, method);
    auto it = server_keys_.find(key);
    if (it != server_keys_.end()) {
        auto tx = servers_.at(it->second);
        metrics_
            .counter("iwf_sip_retransmissions_received_total",
                     "SIP request retransmissions absorbed by server transactions",
                     {{"stack", cfg_.name}})
            .inc();
        if (!tx->last_response.empty()) {
            send(tx->peer, tx->last_response);
        }
        return;
    }
    if (servers_.size() >= cfg_.max_server_transactions) {
        overloaded(req, from);
        return;
    }
    auto tx = std::make_shared<ServerTx>(io_);
    tx->id = next_id_++;
    tx->key = key;
    tx->request = req;
    tx->peer = from;
    tx->invite = method == "INVITE";
    servers_[tx->id] = tx;
    server_keys_[key] = tx->id;
    serverTxGauge();
    if (tx->invite) {
        // §17.2.1: a 100 Trying right away stops the client's INVITE retransmissions.
        (void)respond(tx->id, makeResponse(req, 100, {}));
    }
    if (on_request_) {
        auto h = on_request_;
        h(tx->id, req, from);
    } else {
        (void)respond(tx->id, makeResponse(req, 501, {}, newTag()));
    }
}

Status Stack::respond(ServerTxId id, Message rsp) {
    auto it = servers_.find(id);
    if (it == servers_.end()) {
        return Error{"no_transaction"};
    }
    auto tx = it->second;
    if (tx->last_status >= 200) {
        return Error{"already_final"};
    }
    if (!rsp.hasHeader("Server") && rsp.status() != 100) {
        rsp.addHeader("Server", cfg_.user_agent);
    }
    tx->last_response = rsp.serialize();
    tx->last_status = rsp.status();
    send(tx->peer, tx->last_response);
    const int st = rsp.status();
    if (st < 200) {
        tx->state = TxState::Proceeding;
        return {};
    }
    const bool udp = !reliable(tx->peer.protocol);
    if (tx->invite) {
        tx->state = st < 300 ? TxState::Accepted : TxState::Completed;
        if (st < 300) {
            tx->accepted_key = dialogCseqKey(tx->request);
            accepted_[tx->accepted_key] = tx->id;
        }
        if (udp) {
            tx->interval = cfg_.timers.t1;
            serverRetransmit(tx);
        }
        // Timer H (non-2xx) / L (2xx): 64*T1 for the ACK.
        arm(tx->timeout, tx, cfg_.timers.timerB(), [this](const std::shared_ptr<ServerTx>& t) {
            if (t->state == TxState::Completed) {
                count("iwf_sip_transaction_timeouts_total", "SIP transactions that timed out",
                      "timer_h");
            } else if (t->state == TxState::Accepted && !t->acked) {
                count("iwf_sip_transaction_timeouts_total", "SIP transactions that timed out",
                      "no_ack_for_2xx");
                if (on_ack_timeout_) {
                    auto h = on_ack_timeout_;
                    h(t->id, t->request);
                }
            }
            serverTerminate(t);
        });
    } else {
        tx->state = TxState::Completed;
        serverTerminateLater(tx, udp ? cfg_.timers.timerB() : milliseconds(0));  // Timer J
    }
    return {};
}

void Stack::serverRetransmit(const std::shared_ptr<ServerTx>& tx) {
    arm(tx->retrans, tx, tx->interval, [this](const std::shared_ptr<ServerTx>& t) {
        if ((t->state == TxState::Completed) || (t->state == TxState::Accepted && !t->acked)) {
            if (!gateOpen()) {
                fencedDrop();
                fencedEnded();
                serverTerminate(t);
                return;
            }
            metrics_
                .counter("iwf_sip_retransmissions_sent_total", "SIP retransmissions sent",
                         {{"stack", cfg_.name}})
                .inc();
            send(t->peer, t->last_response);
            t->interval = std::min(t->interval * 2, cfg_.timers.t2);  // Timer G
            serverRetransmit(t);
        }
    });
}

void Stack::serverTerminateLater(const std::shared_ptr<ServerTx>& tx, milliseconds after) {
    arm(tx->timeout, tx, after, [this](const std::shared_ptr<ServerTx>& t) { serverTerminate(t); });
}

void Stack::serverTerminate(const std::shared_ptr<ServerTx>& tx) {
    tx->state = TxState::Done;
    tx->retrans.cancel();
    tx->timeout.cancel();
    auto k = server_keys_.find(tx->key);
    if (k != server_keys_.end() && k->second == tx->id) {
        server_keys_.erase(k);
    }
    if (!tx->accepted_key.empty()) {
        auto a = accepted_.find(tx->accepted_key);
        if (a != accepted_.end() && a->second == tx->id) {
            accepted_.erase(a);
        }
    }
    servers_.erase(tx->id);
    serverTxGauge();
}

void Stack::serverTxGauge() {
    metrics_
        .gauge("iwf_sip_server_transactions", "SIP server transactions alive",
               {{"stack", cfg_.name}})
        .set(static_cast<double>(servers_.size()));
}

// No room for one more server transaction (StackConfig::max_server_transactions): a reliable
// transport gets 503 + Retry-After (RFC 3261 §21.5.4: "temporarily unable to process the
// request due to a temporary overloading"; §20.33 Retry-After), UDP nothing (see stack.hpp).
void Stack::overloaded(const Message& req, const Peer& from) {
    const bool answer = reliable(from.protocol);
    metrics_
        .counter("iwf_sip_overload_total",
                 "New SIP requests refused because the server transaction table is full "
                 "(action: answered_503 over TCP/TLS, dropped over UDP)",
                 {{"stack", cfg_.name}, {"action", answer ? "answered_503" : "dropped"}})
        .inc();
    std::uint64_t suppressed = 0;
    if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log_->warn(
            "stack={} overload server_transactions={} max={} peer={} action={} "
            "suppressed={}",
            cfg_.name, servers_.size(), cfg_.max_server_transactions, from.toString(),
            answer ? "answered_503" : "dropped", suppressed);
    }
    if (answer) {
        Message rsp = makeResponse(req, 503, "Service Unavailable", newTag());
        // Room frees as transactions end; Timer J (64*T1) bounds how long that takes.
        const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
            cfg_.timers.timerB() + std::chrono::milliseconds(999));
        rsp.addHeader("Retry-After", std::to_string(std::max<std::int64_t>(1, wait.count())));
        rsp.addHeader("Server", cfg_.user_agent);
        send(from, rsp.serialize());
    }
}

ClientTxId Stack::sendRequest(Message req, const Peer& to, ResponseHandler handler) {
    auto tx = std::make_shared<ClientTx>(io_);
    tx->id = next_id_++;
    const std::string method = req.method();
    if (method == "ACK") {
        sendAck(std::move(req), to);
        return 0;
    }
    std::string branch;
    if (method == "CANCEL" && isRfc3261Branch(req.topViaBranch())) {
        branch = req.topViaBranch();  // CANCEL reuses the INVITE's Via (§9.1)
    } else {
        branch = "z9hG4bK" + randomToken(8);
        req.prependHeader("Via", viaFor(to.protocol, branch));
    }
    if (!req.hasHeader("Max-Forwards")) {
        req.addHeader("Max-Forwards", "70");
    }
    if (!req.hasHeader("User-Agent")) {
        req.addHeader("User-Agent", cfg_.user_agent);
    }
    tx->key = branch + "|" + method;
    tx->invite = method == "INVITE";
    tx->wire = req.serialize();
    tx->request = std::move(req);
    tx->peer = to;
    tx->handler = std::move(handler);
    clients_[tx->id] = tx;
    client_keys_[tx->key] = tx->id;
    std::weak_ptr<ClientTx> weak = tx;
    std::weak_ptr<bool> alive = alive_;
    send(to, tx->wire, [this, weak, alive](const Error& e) {
        auto a = alive.lock();
        auto t = weak.lock();
        if (!a || !*a || !t || t->state == TxState::Done) {
            return;
        }
        if (e.reason == "fenced") {
            fencedEnd(t);
            return;
        }
        clientFail(t, 503,
                   e.reason == "connect_failed" ? "Service Unavailable (connect failed)"
                                                : "Service Unavailable (transport)");
    });
    if (!reliable(to.protocol)) {
        tx->interval = cfg_.timers.t1;
        clientTimerA(tx);
    }
    arm(tx->timeout, tx, cfg_.timers.timerB(),
        [this](const std::shared_ptr<ClientTx>& t) {  // B / F
            if (t->state == TxState::Trying || t->state == TxState::Proceeding) {
                count("iwf_sip_transaction_timeouts_total", "SIP transactions that timed out",
                      t->invite ? "timer_b" : "timer_f");
                clientFail(t, 408, "Request Timeout");
            } else {
                clientTerminate(t);
            }
        });
    return tx->id;
}

void Stack::clientTimerA(const std::shared_ptr<ClientTx>& tx) {
    arm(tx->retrans, tx, tx->interval, [this](const std::shared_ptr<ClientTx>& t) {
        const bool again =
            t->state == TxState::Trying || (!t->invite && t->state == TxState::Proceeding);
        if (!again) {
            return;
        }
        if (!gateOpen()) {
            fencedDrop();
            fencedEnd(t);
            return;
        }
        metrics_
            .counter("iwf_sip_retransmissions_sent_total", "SIP retransmissions sent",
                     {{"stack", cfg_.name}})
            .inc();
        send(t->peer, t->wire);
        if (t->invite) {
            t->interval *= 2;  // Timer A
        } else {
            t->interval = t->state == TxState::Proceeding ? cfg_.timers.t2
                                                          : std::min(t->interval * 2,
                                                                     cfg_.timers.t2);  // E
        }
        clientTimerA(t);
    });
}

void Stack::receivedResponse(Message rsp, const Peer& from) {
    const std::string key = rsp.topViaBranch() + "|" + rsp.cseqMethod();
    auto it = client_keys_.find(key);
    if (it == client_keys_.end()) {
        if (rsp.cseqMethod() == "INVITE" && rsp.status() >= 200 && rsp.status() < 300) {
            auto ack = acks_.find(dialogCseqKey(rsp));
            if (ack != acks_.end()) {
                send(ack->second->peer, ack->second->wire);  // 2xx retransmission: ACK again
                return;
            }
        }
        drop("stray_response");
        return;
    }
    auto tx = clients_.at(it->second);
    (void)from;
    if (rsp.status() < 200) {
        if (tx->state != TxState::Trying && tx->state != TxState::Proceeding) {
            return;
        }
        tx->state = TxState::Proceeding;
        if (tx->invite) {
            tx->retrans.cancel();
        }
        if (tx->cancel_pending) {
            tx->cancel_pending = false;
            sendCancel(tx);
        }
        if (tx->handler) {
            auto h = tx->handler;
            h(rsp);
        }
        return;
    }
    if (tx->state == TxState::Completed) {
        if (tx->invite && !tx->ack_wire.empty()) {
            send(tx->peer, tx->ack_wire);  // retransmitted final: ACK again (§17.1.1.2)
        }
        return;
    }
    if (tx->state == TxState::Done) {
        return;
    }
    clientFinal(tx, rsp);
}

void Stack::clientFinal(const std::shared_ptr<ClientTx>& tx, const Message& rsp) {
    tx->retrans.cancel();
    tx->timeout.cancel();
    const bool udp = !reliable(tx->peer.protocol);
    auto handler = tx->handler;
    if (tx->invite && rsp.status() < 300) {
        clientTerminate(tx);
        if (handler) {
            handler(rsp);
        }
        return;
    }
    milliseconds linger = udp ? cfg_.timers.t4 : milliseconds(0);  // Timer K
    if (tx->invite) {
        // §17.1.1.3: the ACK for a non-2xx is part of the transaction.
        Message ack = Message::request("ACK", tx->request.requestUri());
        ack.addHeader("Via", tx->request.header("Via").value_or(""));
        for (const auto& r : tx->request.headers("Route")) {
            ack.addHeader("Route", r);
        }
        ack.addHeader("From", tx->request.header("From").value_or(""));
        ack.addHeader("To", rsp.header("To").value_or(""));
        ack.addHeader("Call-ID", tx->request.callId());
        ack.addHeader("CSeq", std::to_string(tx->request.cseqNumber()) + " ACK");
        ack.addHeader("Max-Forwards", "70");
        tx->ack_wire = ack.serialize();
        send(tx->peer, tx->ack_wire);
        linger = udp ? cfg_.timers.timer_d : milliseconds(0);  // Timer D
    }
    tx->state = TxState::Completed;
    arm(tx->timeout, tx, linger,
        [this](const std::shared_ptr<ClientTx>& t) { clientTerminate(t); });
    if (handler) {
        handler(rsp);
    }
}

void Stack::clientFail(const std::shared_ptr<ClientTx>& tx, int status, std::string_view reason) {
    Message rsp = makeResponse(tx->request, status, reason);
    auto handler = tx->handler;
    clientTerminate(tx);
    if (handler) {
        handler(rsp);
    }
}

void Stack::clientTerminate(const std::shared_ptr<ClientTx>& tx) {
    tx->state = TxState::Done;
    tx->retrans.cancel();
    tx->timeout.cancel();
    auto k = client_keys_.find(tx->key);
    if (k != client_keys_.end() && k->second == tx->id) {
        client_keys_.erase(k);
    }
    clients_.erase(tx->id);
}

void Stack::cancel(ClientTxId id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) {
        return;
    }
    auto tx = it->second;
    if (!tx->invite || tx->cancelled ||
        (tx->state != TxState::Trying && tx->state != TxState::Proceeding)) {
        return;
    }
    if (tx->state == TxState::Proceeding) {
        sendCancel(tx);
    } else {
        tx->cancel_pending = true;  // §9.1: wait for a provisional response
    }
}

void Stack::sendCancel(const std::shared_ptr<ClientTx>& tx) {
    tx->cancelled = true;
    Message c = Message::request("CANCEL", tx->request.requestUri());
    c.addHeader("Via", tx->request.header("Via").value_or(""));
    for (const auto& r : tx->request.headers("Route")) {
        c.addHeader("Route", r);
    }
    c.addHeader("From", tx->request.header("From").value_or(""));
    c.addHeader("To", tx->request.header("To").value_or(""));
    c.addHeader("Call-ID", tx->request.callId());
    c.addHeader("CSeq", std::to_string(tx->request.cseqNumber()) + " CANCEL");
    sendRequest(std::move(c), tx->peer, {});
}

void Stack::sendAck(Message ack, const Peer& to) {
    ack.prependHeader("Via", viaFor(to.protocol, "z9hG4bK" + randomToken(8)));
    if (!ack.hasHeader("Max-Forwards")) {
        ack.addHeader("Max-Forwards", "70");
    }
    auto mem = std::make_shared<AckMemory>(io_);
    mem->wire = ack.serialize();
    mem->peer = to;
    const std::string key = dialogCseqKey(ack);
    send(to, mem->wire);
    acks_[key] = mem;
    arm(mem->expiry, mem, cfg_.timers.timerB(), [this, key](const std::shared_ptr<AckMemory>& m) {
        auto it = acks_.find(key);
        if (it != acks_.end() && it->second == m) {
            acks_.erase(it);
        }
    });
}

}  // namespace iwf::sip
