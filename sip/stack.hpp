#pragma once
// The SIP stack: transports + the RFC 3261 transaction layer (§17) on one Asio io_context.
//
//   sip::Stack stack(io, metrics, cfg);          // cfg.listeners: UDP / TCP / TLS
//   stack.onRequest([&](sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
//       stack.respond(tx, sip::makeResponse(req, 200, "OK", stack.newTag()));
//   });
//   stack.start();
//   stack.sendRequest(msg, peer, [](const sip::Message& rsp) { ... });   // UAC
//
// The stack adds the top Via (branch, rport), Max-Forwards, User-Agent and Content-Length to
// requests; the caller sets Request-URI, From, To, Call-ID, CSeq, Contact and bodies (Dialog
// helps). Client transactions retransmit over UDP (timers A/E), time out (B/F: the handler
// gets a synthetic 408) and report transport failures (a synthetic 503). Server transactions
// absorb request retransmissions by resending the last response, retransmit INVITE final
// responses over UDP (G, and 2xx until the ACK arrives, like RFC 6026's Accepted state),
// answer CANCEL (200, then 487 to the INVITE) and wait out timers H/I/J/K before they go.
//
// Send gate (StackConfig::send_gate; docs/ha.md "Never two owners"): while the gate is closed
// the stack sends nothing at all. A message it would send is dropped and counted
// (iwf_sip_fenced_sends_dropped_total); a client transaction that would send (its request, a
// retransmission) ends at once with a synthetic 503 to its handler and no byte on the wire; a
// server transaction's retransmission ends it quietly (both counted in
// iwf_sip_fenced_transactions_ended_total); input is dropped before parsing
// (iwf_sip_dropped_total{reason="fenced"}): a request gets no answer. The gate is asked again
// for every message, so the stack works as before once it opens.
//
// Bad input: bytes libosip2 cannot parse are dropped (iwf_sip_dropped_total{reason}); a
// request with a fault that still has Via/From/To/Call-ID/CSeq gets 400 with a Warning naming
// the fault (iwf_sip_rejected_total{reason}); a response matching no transaction is dropped
// (reason stray_response). Nothing of it touches any other transaction or dialog.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "common/send_gate.hpp"
#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace iwf::sip {

// RFC 3261 §17 / Table 4 timer base values. Tests shrink T1 to run the timers in milliseconds.
struct TimerTable {
    std::chrono::milliseconds t1{500};
    std::chrono::milliseconds t2{4000};
    std::chrono::milliseconds t4{5000};
    std::chrono::milliseconds timer_d{32000};  // UDP; 0 over reliable transports

    std::chrono::milliseconds timerB() const { return 64 * t1; }  // = F, H, J, L
};

struct StackConfig {
    std::string name = "sip";  // metrics label "stack"
    std::vector<ListenerConfig> listeners;
    TimerTable timers;
    std::string user_agent = "OpenIWF";
    std::string advertised_host;  // host put in Via/Contact; default: the listener's address
    // Server transactions alive at once. Each costs ~1.2 KB (the request, the last response,
    // two timers) and a non-INVITE one over UDP lives 64*T1 = 32 s after its answer (Timer J),
    // so a flood of 10^5 OPTIONS held 124 MB. Beyond the cap a new request gets no state: over
    // TCP/TLS it is answered 503 with Retry-After (the client does not retransmit there, so
    // silence would cost it 32 s); over UDP it is dropped (its client retransmits and gets in
    // once room frees, and no answer goes to a source that may be spoofed). Both are counted
    // (iwf_sip_overload_total{stack,action}). 10,000 = 312 new transactions a second for 32 s.
    std::size_t max_server_transactions = 10'000;
    // Asked before anything is sent or handled (see the top of this file); null: always open.
    // Not owned: it outlives the stack.
    const SendGate* send_gate = nullptr;
};

using ServerTxId = std::uint64_t;
using ClientTxId = std::uint64_t;

class Stack {
  public:
    // req: a new request (not a retransmission, not ACK, not CANCEL).
    using RequestHandler =
        std::function<void(ServerTxId tx, const Message& request, const Peer& from)>;
    // Every response of a client transaction: provisional ones, then one final (a synthetic
    // 408 on timeout, 503 on transport failure). Called on the io_context.
    using ResponseHandler = std::function<void(const Message& response)>;
    // ACK for a 2xx (an end-to-end request without a transaction).
    using AckHandler = std::function<void(const Message& ack, const Peer& from)>;
    // A CANCEL matched the INVITE of `tx`; the stack already answered 200 and 487.
    using CancelHandler = std::function<void(ServerTxId tx, const Message& invite)>;
    // A 2xx to an INVITE was not ACKed within 64*T1.
    using AckTimeoutHandler = std::function<void(ServerTxId tx, const Message& invite)>;
    // Says whether a message from `from` may be handled at all (a user's allow-list).
    using SourceFilter = std::function<bool(const Peer& from)>;

    Stack(asio::io_context& io, metrics::Registry& metrics, StackConfig cfg);
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    Status start();
    void stop();

    void onRequest(RequestHandler h) { on_request_ = std::move(h); }
    void onAck(AckHandler h) { on_ack_ = std::move(h); }
    void onCancel(CancelHandler h) { on_cancel_ = std::move(h); }
    void onAckTimeout(AckTimeoutHandler h) { on_ack_timeout_ = std::move(h); }
    // Only messages from sources `f` admits are parsed and handled (requests, responses, ACK,
    // CANCEL); the others are dropped before parsing, with no answer, and counted in
    // iwf_sip_dropped_total{reason="not_admitted"} (the filter logs and counts its own
    // refusals). Without a filter every source is handled.
    void admitOnly(SourceFilter f) { admit_ = std::move(f); }

    // UAC: starts a client transaction. ACK is refused here (use sendAck).
    ClientTxId sendRequest(Message request, const Peer& to, ResponseHandler handler);
    // CANCEL for a pending INVITE client transaction (sent once a provisional arrived).
    void cancel(ClientTxId tx);
    // ACK for a 2xx: a new Via branch, no transaction; remembered so a retransmitted 2xx is
    // ACKed again.
    void sendAck(Message ack, const Peer& to);
    // UAS: the response to a server transaction (several provisionals, then one final).
    Status respond(ServerTxId tx, Message response);
    // Sends a message outside any transaction (stateless responses, keep-alives).
    void sendRaw(const Peer& to, std::string bytes);

    // Where this stack listens, per protocol (0 if no such listener).
    std::uint16_t port(Protocol p) const;
    std::string host() const;  // advertised host
    // "sip:user@host:port;transport=tcp" for a Contact header.
    std::string contactUri(std::string_view user, Protocol p) const;
    std::string newTag() const { return randomToken(6); }
    std::string newCallId() const;
    const TimerTable& timers() const { return cfg_.timers; }
    metrics::Registry& metrics() { return metrics_; }
    asio::io_context& io() { return io_; }

    // Live transaction counts (tests, status).
    std::size_t clientTransactions() const { return clients_.size(); }
    std::size_t serverTransactions() const { return servers_.size(); }

  private:
    struct ClientTx;
    struct ServerTx;
    struct AckMemory;

    void received(std::string_view bytes, const Peer& from);
    void receivedRequest(Message req, const Peer& from);
    void receivedResponse(Message rsp, const Peer& from);
    void rejectMalformed(const Message& skeleton, const Peer& from, const std::string& fault,
                         std::string_view reason);
    void drop(std::string_view reason);
    void overloaded(const Message& req, const Peer& from);
    void serverTxGauge();
    void send(const Peer& to, const std::string& bytes, Transport::SendError on_error = {});
    bool gateOpen() const { return cfg_.send_gate == nullptr || cfg_.send_gate->open(); }
    // The send gate closed: a message not sent; a transaction ended (a client one with a
    // synthetic 503 to its handler).
    void fencedDrop();
    void fencedEnded();
    void fencedEnd(const std::shared_ptr<ClientTx>& tx);
    Transport* transportFor(Protocol p);

    void clientTimerA(const std::shared_ptr<ClientTx>& tx);
    void clientFinal(const std::shared_ptr<ClientTx>& tx, const Message& rsp);
    void clientFail(const std::shared_ptr<ClientTx>& tx, int status, std::string_view reason);
    void clientTerminate(const std::shared_ptr<ClientTx>& tx);
    void sendCancel(const std::shared_ptr<ClientTx>& tx);
    void serverRetransmit(const std::shared_ptr<ServerTx>& tx);
    void serverTerminateLater(const std::shared_ptr<ServerTx>& tx, std::chrono::milliseconds after);
    void serverTerminate(const std::shared_ptr<ServerTx>& tx);
    std::string viaFor(Protocol p, const std::string& branch) const;
    // Every SIP timer (A-K, the ACK memory) goes through here: arms `timer` for `after` and,
    // when it fires uncancelled while this stack and `obj` are still alive, calls fn(obj).
    template <class T, class Fn>
    void arm(asio::steady_timer& timer, const std::shared_ptr<T>& obj,
             std::chrono::milliseconds after, Fn fn) {
        std::weak_ptr<T> weak = obj;
        std::weak_ptr<bool> alive = alive_;
        timer.expires_after(after);
        timer.async_wait([weak, alive, fn = std::move(fn)](const boost::system::error_code& ec) {
            auto a = alive.lock();
            auto t = weak.lock();
            if (!ec && a && *a && t) {
                fn(t);
            }
        });
    }
    void count(std::string_view name, std::string_view help, std::string_view reason);

    asio::io_context& io_;
    metrics::Registry& metrics_;
    StackConfig cfg_;
    std::vector<std::shared_ptr<Transport>> transports_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

    std::uint64_t next_id_ = 1;
    std::map<ClientTxId, std::shared_ptr<ClientTx>> clients_;
    std::map<std::string, ClientTxId> client_keys_;  // branch + method
    std::map<ServerTxId, std::shared_ptr<ServerTx>> servers_;
    std::map<std::string, ServerTxId> server_keys_;           // branch + method (+ sent-by)
    std::map<std::string, ServerTxId> accepted_;              // call-id + cseq: 2xx awaiting ACK
    std::map<std::string, std::shared_ptr<AckMemory>> acks_;  // call-id + cseq: our ACK

    RequestHandler on_request_;
    AckHandler on_ack_;
    CancelHandler on_cancel_;
    AckTimeoutHandler on_ack_timeout_;
    SourceFilter admit_;
    log::RateLimiter warn_limiter_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace iwf::sip
