#include "mc_adapters/mcdata/mcdata_link.hpp"

#include <charconv>

#include "common/log.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/security/interworking_data.hpp"
#include "sip/multipart.hpp"

namespace iwf::mc::mcdata {

namespace {

// Bound on remembered conversations (sender/recipient pairs); the oldest key goes first.
constexpr std::size_t kMaxConversations = 65536;

std::optional<std::string> mcUri(const Address& a, bool* group) {
    if (const auto* u = std::get_if<McId>(&a)) {
        *group = false;
        return u->uri;
    }
    if (const auto* g = std::get_if<McGroupId>(&a)) {
        *group = true;
        return g->uri;
    }
    return std::nullopt;
}

// `transport` as in the mcptt-iwf1 link; `protocol` is the older spelling, still accepted.
sip::ListenerConfig parseListener(const ConfigNode& n) {
    n.expectKeys({"transport", "protocol", "address", "port"});
    if (n.has("transport") && n.has("protocol")) {
        n.fail("protocol", "give either transport or protocol (the same setting), not both");
    }
    const char* key = n.has("protocol") ? "protocol" : "transport";
    sip::ListenerConfig l;
    std::string p = n.getEnum(key, {"udp", "tcp"}, "udp");
    sip::parseProtocol(p, l.protocol);
    l.address = n.getIpAddress("address", "127.0.0.1");
    l.port = static_cast<std::uint16_t>(n.getInt("port", 0, 65535, 0));
    return l;
}

}  // namespace

McDataLinkConfig parseMcDataLinkConfig(const ConfigNode& node) {
    node.expectKeys(
        {"name", "type", "listen", "peer", "peers", "request_uri", "iwf_psi", "disposition"});
    McDataLinkConfig c;
    c.name = node.getString("name");
    c.listen = parseListener(node.child("listen"));
    auto peer = node.child("peer");
    sip::ListenerConfig p = parseListener(peer);
    c.peer.protocol = p.protocol;
    c.peer.address = asio::ip::make_address(p.address);  // checked by parseListener
    if (p.port == 0) {
        peer.fail("port", "the MCData server port is required");
    }
    c.peer.port = p.port;
    // Only UDP and TCP listeners (no TLS): no peer has a certificate name to bind.
    c.peers = peers::parsePeers(node, false, false);
    if (peers::PeerTable(c.peers).byAddress(c.peer.address) < 0) {
        peer.fail("address", "the MCData server " + c.peer.address.to_string() +
                                 " is none of peers[].address: its responses would be refused");
    }
    c.request_uri = node.getString("request_uri");
    if (c.request_uri.rfind("sip:", 0) != 0 && c.request_uri.rfind("sips:", 0) != 0) {
        node.fail("request_uri", "expected a sip: or sips: URI");
    }
    c.iwf_psi = node.getString("iwf_psi");
    if (c.iwf_psi.rfind("sip:", 0) != 0 && c.iwf_psi.rfind("sips:", 0) != 0) {
        node.fail("iwf_psi", "expected a sip: or sips: URI");
    }
    std::string d =
        node.getEnum("disposition", {"none", "delivery", "read", "delivery-and-read"}, "none");
    c.disposition = d == "delivery"            ? DispositionRequest::Delivery
                    : d == "read"              ? DispositionRequest::Read
                    : d == "delivery-and-read" ? DispositionRequest::DeliveryAndRead
                                               : DispositionRequest::None;
    return c;
}

McDataLink::McDataLink(McDataLinkConfig cfg, LinkContext& ctx)
    : cfg_(std::move(cfg))
    , ctx_(ctx)
    , id_{Side::Mc, cfg_.name}
    , rng_(std::random_device{}())
    , peers_(cfg_.peers)
    , refusals_(ctx.metrics, cfg_.name)
    , seen_(peers_.size()) {}

McDataLink::~McDataLink() {
    stop();
}

std::uint16_t McDataLink::sipPort() const {
    return stack_ ? stack_->port(cfg_.listen.protocol) : 0;
}

LinkView McDataLink::view() const {
    LinkView v;
    const std::uint16_t port = sipPort();
    v.state = port != 0 ? "running" : "stopped";
    if (port != 0) {
        v.local = cfg_.listen.address + ":" + std::to_string(port);
    }
    v.peers = seen_.views(peers_, ctx_.clock.now());
    return v;
}

Status McDataLink::start(EventSink& sink) {
    sink_ = &sink;
    sip::StackConfig sc;
    sc.name = cfg_.name;
    sc.listeners.push_back(cfg_.listen);
    sc.send_gate = ctx_.send_gate;
    stack_ = std::make_unique<sip::Stack>(ctx_.io, ctx_.metrics, sc);
    stack_->admitOnly([this](const sip::Peer& from) {
        peers::Refusal why = peers::Refusal::NotAPeer;
        if (int peer = peers_.match(from, &why); peer >= 0) {
            seen_.heard(peer, ctx_.clock.now());
            return true;
        }
        // Dropped unparsed and unanswered (issue #21: a forged SDS from an unknown address
        // reached the radio).
        refusals_.refused(from, why, "SIP message dropped");
        return false;
    });
    stack_->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
        onRequest(tx, req, from);
    });
    Status s = stack_->start();
    if (!s) {
        stack_.reset();
    }
    return s;
}

void McDataLink::stop() {
    if (stack_) {
        stack_->stop();
        stack_.reset();
    }
    sink_ = nullptr;
}

void McDataLink::reject(sip::ServerTxId tx, const sip::Message& req, int peer, int status,
                        std::string_view reason) {
    // The peer label is the configured peer's name (a bounded set), never the source.
    ctx_.metrics
        .counter("iwf_mc_mcdata_dropped_total", "IWF-2 MESSAGEs refused, by reason",
                 {{"link", cfg_.name},
                  {"peer", peer >= 0 ? peers_.at(peer).name : std::string("other")},
                  {"reason", std::string(reason)}})
        .inc();
    sip::Message rsp = sip::makeResponse(req, status, sip::reasonPhrase(status), stack_->newTag());
    rsp.addHeader("Warning", "399 iwf \"" + std::string(reason) + "\"");
    (void)stack_->respond(tx, std::move(rsp));
}

void McDataLink::count(std::string_view kind) {
    ctx_.metrics
        .counter("iwf_mc_mcdata_rx_total", "IWF-2 MESSAGEs accepted, by kind",
                 {{"link", cfg_.name}, {"kind", std::string(kind)}})
        .inc();
}

void McDataLink::onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    peers::Refusal why = peers::Refusal::NotAPeer;
    const int peer = peers_.match(from, &why);
    if (peer < 0) {
        // The stack's filter already dropped other sources; this is the second line.
        refusals_.refused(from, why, "MESSAGE from no configured peer");
        reject(tx, req, peer, 403, std::string(toString(why)));
        return;
    }
    if (req.method() != "MESSAGE") {
        reject(tx, req, peer, 405, "method_not_allowed");
        return;
    }
    if (draining_) {
        reject(tx, req, peer, 503, "draining");  // the sender retries elsewhere or later
        return;
    }
    if (sip::bodyOfType(req, security::kInterworkingDataContentType)) {
        onSecurityRequest(tx, req, peer, from);
        return;
    }
    if (!sip::bodyOfType(req, kSignallingContentType)) {
        reject(tx, req, peer, 415, "unsupported_body");
        return;
    }
    onSdsRequest(tx, req, peer, from);
}

void McDataLink::onSecurityRequest(sip::ServerTxId tx, const sip::Message& req, int peer,
                                   const sip::Peer& from) {
    auto s = security::parseSecurityMessage(req);
    if (!s) {
        reject(tx, req, peer, 400, s.error().reason);
        return;
    }
    if (!peers_.domainAllowed(peer, s->sender)) {
        refusals_.refused(from, peers::Refusal::Domain, "sender " + s->sender);
        reject(tx, req, peer, 403, toString(peers::Refusal::Domain));
        return;
    }
    SecurityMessage ev;
    ev.from = McId{s->sender};
    ev.to = McId{s->target_id};
    ev.payload = std::move(s->payload);
    // Durable before the 200 OK (common/message_store.hpp); a retransmission is answered
    // again and not delivered twice.
    if (persist(tx, req, peer, kmmMessageId(ev), Event{ev}) == Persisted::Answered) {
        return;
    }
    (void)stack_->respond(tx, sip::makeResponse(req, 200, "OK", stack_->newTag()));
    count("security");
    if (sink_ != nullptr) {
        sink_->onEvent(id_, Event{std::move(ev)});
    }
}

namespace {

// The final response to an SDS MESSAGE for what the engine did with it.
int statusFor(const DataReceipt& r) {
    switch (r.outcome) {
        case DataReceipt::Outcome::Unknown:
        case DataReceipt::Outcome::Sent:
            return 200;
        case DataReceipt::Outcome::NotDelivered:
            return 480;  // Temporarily Unavailable: no LMR link could carry it now
        case DataReceipt::Outcome::Refused:
            if (r.reason == "unknown_callee" || r.reason == "unknown_group") {
                return 404;
            }
            return r.reason == "no_link" ? 480 : 403;
    }
    return 500;
}

bool wantsDelivery(const SdsSignalling& sig) {
    return sig.disposition == DispositionRequest::Delivery ||
           sig.disposition == DispositionRequest::DeliveryAndRead;
}

// DataMessage::origin_note of an SDS whose sender asked for a delivery notification:
// "sds-notify conv=<conversation UUID> app=<application ID, decimal, or ->". Read back by
// parseOriginNote when the stored message is delivered later.
std::string originNote(const SdsSignalling& sig) {
    return "sds-notify conv=" + toString(sig.conversation_id) +
           " app=" + (sig.application_id ? std::to_string(*sig.application_id) : std::string("-"));
}

struct OriginNote {
    Uuid conversation{};
    std::optional<std::uint8_t> application;
};

std::optional<OriginNote> parseOriginNote(std::string_view note) {
    constexpr std::string_view kHead = "sds-notify conv=";
    if (note.substr(0, kHead.size()) != kHead) {
        return std::nullopt;
    }
    note.remove_prefix(kHead.size());
    const auto sp = note.find(" app=");
    if (sp == std::string_view::npos) {
        return std::nullopt;
    }
    auto conv = parseUuid(note.substr(0, sp));
    if (!conv) {
        return std::nullopt;
    }
    OriginNote out;
    out.conversation = *conv;
    const std::string_view app = note.substr(sp + 5);
    if (app != "-") {
        unsigned v = 0;
        auto [end, ec] = std::from_chars(app.data(), app.data() + app.size(), v);
        if (ec != std::errc() || end != app.data() + app.size() || v > 255) {
            return std::nullopt;
        }
        out.application = static_cast<std::uint8_t>(v);
    }
    return out;
}

}  // namespace

void McDataLink::onSdsRequest(sip::ServerTxId tx, const sip::Message& req, int peer,
                              const sip::Peer& from) {
    auto m = parseSdsMessage(req);
    if (!m) {
        reject(tx, req, peer, 400, m.error().reason);
        return;
    }
    if (const auto* n = std::get_if<SdsNotification>(&m->signalling)) {
        (void)stack_->respond(tx, sip::makeResponse(req, 200, "OK", stack_->newTag()));
        count("notification");
        ctx_.metrics
            .counter("iwf_mc_mcdata_notifications_total",
                     "SDS disposition notifications received, by disposition",
                     {{"link", cfg_.name},
                      {"disposition", std::to_string(static_cast<int>(n->disposition))}})
            .inc();
        return;
    }
    if (!peers_.domainAllowed(peer, m->env.sender)) {
        // Issue #21: the sender identity comes from the request; a peer asserts only
        // identities of its own domains.
        refusals_.refused(from, peers::Refusal::Domain, "sender " + m->env.sender);
        reject(tx, req, peer, 403, toString(peers::Refusal::Domain));
        return;
    }
    const auto& sig = std::get<SdsSignalling>(m->signalling);
    auto receipt = std::make_shared<DataReceipt>();
    DataMessage d;
    d.from = McId{m->env.sender};
    if (m->env.group) {
        d.to = McGroupId{m->env.target};
    } else {
        d.to = McId{m->env.target};
    }
    d.message_id = toString(sig.message_id);
    for (const auto& p : m->payload->payloads) {
        d.payload.insert(d.payload.end(), p.data.begin(), p.data.end());
    }
    d.receipt = receipt;
    if (wantsDelivery(sig)) {
        // What a notification after a later delivery needs (storedOutcome), kept in the store.
        d.origin_note = originNote(sig);
    }
    // Durable before it is acknowledged (common/message_store.hpp); a retransmission (same
    // SDS message ID) is answered again and not delivered twice.
    const Persisted stored = persist(tx, req, peer, d.message_id, Event{d});
    if (stored == Persisted::Answered) {
        return;
    }
    const std::string message_id = d.message_id;
    if (sink_ != nullptr) {
        sink_->onEvent(id_, Event{std::move(d)});
    }
    const int status = statusFor(*receipt);
    if (status == 480 && stored == Persisted::Stored) {
        // No LMR link can carry it now (no repeater logged in), but it is in the durable
        // store: iwfd tries again every 2 s (gateway/daemon) until a link takes it. 202: accepted
        // for delivery later (RFC 3428 §7); no disposition is known yet: the notification goes
        // when it is (storedOutcome).
        (void)stack_->respond(tx, sip::makeResponse(req, 202, "Accepted", stack_->newTag()));
        count("sds_queued");
        rememberConversation({m->env.target, m->env.sender}, sig.conversation_id);
        return;
    }
    if (status != 200) {
        if (stored == Persisted::Stored) {
            settle(message_id);  // refused for good: the store must not deliver it later
        }
        reject(tx, req, peer, status, receipt->reason);
        if (wantsDelivery(sig)) {
            sendNotification(*m, DispositionNotification::Undelivered);
        }
        return;
    }
    (void)stack_->respond(tx, sip::makeResponse(req, 200, "OK", stack_->newTag()));
    count(m->env.group ? "sds_group" : "sds_one_to_one");
    // Remember the conversation so that an LMR reply continues it.
    rememberConversation({m->env.target, m->env.sender}, sig.conversation_id);
    if (wantsDelivery(sig)) {
        // Handed to an LMR link, which cannot confirm that a radio received it: the IWF does
        // not know the disposition, and says so rather than "DELIVERED".
        sendNotification(*m, DispositionNotification::DispositionPreventedBySystem);
    }
}

McDataLink::Persisted McDataLink::persist(sip::ServerTxId tx, const sip::Message& req, int peer,
                                          const std::string& message_id, const Event& e) {
    if (ctx_.messages == nullptr) {
        return Persisted::NoStore;  // no store configured: acknowledged as before
                                    // (docs/security.md)
    }
    auto r = ctx_.messages->accept(id_, message_id, e);
    if (!r) {
        reject(tx, req, peer, 500, "store_failed");  // not acknowledged: the sender retries
        return Persisted::Answered;
    }
    if (*r == StoreOutcome::Duplicate) {
        (void)stack_->respond(tx, sip::makeResponse(req, 200, "OK", stack_->newTag()));
        ctx_.metrics
            .counter("iwf_mc_mcdata_duplicates_total",
                     "IWF-2 MESSAGEs already stored (retransmissions): acknowledged, not "
                     "delivered again",
                     {{"link", cfg_.name}})
            .inc();
        return Persisted::Answered;
    }
    return Persisted::Stored;
}

void McDataLink::settle(const std::string& message_id) {
    if (ctx_.messages != nullptr) {
        (void)ctx_.messages->delivered(message_id);  // "not delivered again" (message_store.hpp)
    }
}

void McDataLink::sendNotification(const SdsSipMessage& in, DispositionNotification what) {
    const auto& sig = std::get<SdsSignalling>(in.signalling);
    sendNotification(in.env.sender, in.env.target, sig.conversation_id, sig.message_id,
                     sig.application_id, what);
}

void McDataLink::storedOutcome(const DataMessage& m, const DataReceipt& r, bool last) {
    auto note = parseOriginNote(m.origin_note);
    const auto message = parseUuid(m.message_id);
    const auto* sender = std::get_if<McId>(&m.from);
    if (!note || !message || sender == nullptr) {
        return;  // not one of this link's notes (or a sender that needs no notification)
    }
    std::string about;
    if (const auto* g = std::get_if<McGroupId>(&m.to)) {
        about = g->uri;
    } else if (const auto* u = std::get_if<McId>(&m.to)) {
        about = u->uri;
    }
    DispositionNotification what;
    if (r.outcome == DataReceipt::Outcome::Sent) {
        // Handed to an LMR link now, which cannot confirm reception (see onSdsRequest).
        what = DispositionNotification::DispositionPreventedBySystem;
    } else if (r.outcome == DataReceipt::Outcome::Refused || last) {
        what = DispositionNotification::Undelivered;
    } else {
        return;  // tried again later
    }
    ctx_.metrics
        .counter("iwf_mc_mcdata_later_notifications_total",
                 "disposition notifications for SDS accepted with 202 and settled later",
                 {{"link", cfg_.name},
                  {"disposition",
                   what == DispositionNotification::Undelivered ? "undelivered" : "prevented"}})
        .inc();
    sendNotification(sender->uri, about, note->conversation, *message, note->application, what);
}

void McDataLink::sendNotification(const std::string& to, const std::string& about,
                                  const Uuid& conversation, const Uuid& message,
                                  std::optional<std::uint8_t> application,
                                  DispositionNotification what) {
    SdsSipMessage out;
    out.env.request_uri = cfg_.request_uri;
    out.env.sender = about;
    out.env.target = to;
    out.env.iwf_psi = cfg_.iwf_psi;
    SdsNotification n;
    n.disposition = what;
    n.date_time = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock.wallNow().time_since_epoch())
            .count());
    n.conversation_id = conversation;
    n.message_id = message;
    n.application_id = application;
    out.signalling = n;
    auto msg = buildSdsMessage(out);
    if (msg) {
        sendMessage(std::move(*msg), "notification");
    }
}

void McDataLink::sendMessage(sip::Message m, std::string_view kind, std::string stored_id) {
    m.setHeader("From",
                m.header("From").value_or("<" + cfg_.iwf_psi + ">") + ";tag=" + stack_->newTag());
    m.setHeader("Call-ID", stack_->newCallId());
    m.setHeader("CSeq", std::to_string(cseq_++) + " MESSAGE");
    std::string k(kind);
    stack_->sendRequest(std::move(m), cfg_.peer, [this, k, stored_id](const sip::Message& rsp) {
        if (rsp.status() < 200) {
            return;
        }
        // The MC side took it: only now is a stored message delivered (a MESSAGE lost or
        // refused stays pending and is sent again: common/message_store.hpp).
        if (rsp.status() < 300 && !stored_id.empty() && ctx_.messages != nullptr) {
            (void)ctx_.messages->delivered(stored_id);
        }
        ctx_.metrics
            .counter("iwf_mc_mcdata_tx_total", "IWF-2 MESSAGEs sent, by kind and final status",
                     {{"link", cfg_.name}, {"kind", k}, {"status", std::to_string(rsp.status())}})
            .inc();
    });
}

void McDataLink::rememberConversation(std::pair<std::string, std::string> key, const Uuid& id) {
    if (conversations_.size() >= kMaxConversations && !conversations_.count(key)) {
        conversations_.erase(conversations_.begin());
    }
    conversations_[std::move(key)] = id;
}

Status McDataLink::deliverData(const DataMessage& d) {
    bool from_group = false;
    bool group = false;
    auto from = mcUri(d.from, &from_group);
    auto to = mcUri(d.to, &group);
    if (!from || from_group) {
        return Error{"sender_not_mc_id"};
    }
    if (!to) {
        return Error{"recipient_not_mc_address"};
    }
    IwfSdsContext ctx;
    ctx.now_seconds = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock.wallNow().time_since_epoch())
            .count());
    auto conv = conversations_.find({*from, *to});
    if (conv != conversations_.end()) {
        ctx.stored_conversation = conv->second;
    }
    SdsSipMessage m;
    m.env.request_uri = cfg_.request_uri;
    m.env.sender = *from;
    m.env.target = *to;
    m.env.group = group;
    m.env.iwf_psi = cfg_.iwf_psi;
    SdsSignalling sig = makeIwfSignalling(ctx, rng_);
    if (cfg_.disposition != DispositionRequest::None) {
        sig.disposition = cfg_.disposition;
    }
    rememberConversation({*from, *to}, sig.conversation_id);
    m.signalling = sig;
    DataPayload p;
    p.payloads.push_back(Payload{content_type::kBinary, d.payload});
    m.payload = std::move(p);
    auto msg = buildSdsMessage(m);
    if (!msg) {
        return msg.error();
    }
    sendMessage(std::move(*msg), group ? "sds_group" : "sds_one_to_one", d.message_id);
    return {};
}

Status McDataLink::deliverSecurity(const SecurityMessage& s) {
    bool g1 = false;
    bool g2 = false;
    auto from = mcUri(s.from, &g1);
    auto to = mcUri(s.to, &g2);
    if (!to || g2) {
        return Error{"recipient_not_mc_id"};
    }
    security::SecurityRequest r;
    r.request_uri = cfg_.request_uri;
    r.from_uri = from && !g1 ? *from : cfg_.iwf_psi;
    r.target_id = *to;
    r.iwf_psi = cfg_.iwf_psi;
    r.payload = s.payload;
    sendMessage(security::buildSecurityMessage(r), "security", kmmMessageId(s));
    return {};
}

Status McDataLink::deliver(const Event& event) {
    if (!stack_) {
        return Error{"link_not_started"};
    }
    if (const auto* d = std::get_if<DataMessage>(&event)) {
        return deliverData(*d);
    }
    if (const auto* s = std::get_if<SecurityMessage>(&event)) {
        return deliverSecurity(*s);
    }
    return Error{"unsupported_event"};
}

}  // namespace iwf::mc::mcdata

namespace iwf::mc {

void registerMcDataLinkTypes(LinkRegistry& reg) {
    LinkType t;
    t.side = Side::Mc;
    t.description = "IWF-2: MCData SDS and Interworking Security Data over SIP MESSAGE";
    t.validate = [](const ConfigNode& n) { (void)mcdata::parseMcDataLinkConfig(n); };
    t.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        return std::make_unique<mcdata::McDataLink>(mcdata::parseMcDataLinkConfig(n), ctx);
    };
    reg.add("mcdata-iwf2", std::move(t));
}

}  // namespace iwf::mc
