#include "mc_adapters/mcdata/mcdata_link.hpp"

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
    node.expectKeys({"name", "type", "listen", "peer", "request_uri", "iwf_psi", "disposition"});
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
    : cfg_(std::move(cfg)), ctx_(ctx), id_{Side::Mc, cfg_.name}, rng_(std::random_device{}()) {}

McDataLink::~McDataLink() {
    stop();
}

std::uint16_t McDataLink::sipPort() const {
    return stack_ ? stack_->port(cfg_.listen.protocol) : 0;
}

Status McDataLink::start(EventSink& sink) {
    sink_ = &sink;
    sip::StackConfig sc;
    sc.name = cfg_.name;
    sc.listeners.push_back(cfg_.listen);
    stack_ = std::make_unique<sip::Stack>(ctx_.io, ctx_.metrics, sc);
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

void McDataLink::reject(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from,
                        int status, std::string_view reason) {
    ctx_.metrics
        .counter("iwf_mc_mcdata_dropped_total", "IWF-2 MESSAGEs refused, by reason",
                 {{"link", cfg_.name}, {"peer", from.toString()}, {"reason", std::string(reason)}})
        .inc();
    sip::Message rsp = sip::makeResponse(req, status, sip::reasonPhrase(status), stack_->newTag());
    rsp.addHeader("Warning", "399 iwf \"" + std::string(reason) + "\"");
    (void)stack_->respond(tx, std::move(rsp));
}

void McDataLink::onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    if (req.method() != "MESSAGE") {
        reject(tx, req, from, 405, "method_not_allowed");
        return;
    }
    if (draining_) {
        reject(tx, req, from, 503, "draining");  // the sender retries elsewhere or later
        return;
    }
    auto count = [&](std::string_view kind) {
        ctx_.metrics
            .counter("iwf_mc_mcdata_rx_total", "IWF-2 MESSAGEs accepted, by kind",
                     {{"link", cfg_.name}, {"kind", std::string(kind)}})
            .inc();
    };
    if (sip::bodyOfType(req, security::kInterworkingDataContentType)) {
        auto s = security::parseSecurityMessage(req);
        if (!s) {
            reject(tx, req, from, 400, s.error().reason);
            return;
        }
        SecurityMessage ev;
        ev.from = McId{s->sender};
        ev.to = McId{s->target_id};
        ev.payload = std::move(s->payload);
        // Durable before the 200 OK (common/message_store.hpp); a retransmission is answered
        // again and not delivered twice.
        if (!persist(tx, req, from, kmmMessageId(ev), Event{ev})) {
            return;
        }
        (void)stack_->respond(tx, sip::makeResponse(req, 200, "OK", stack_->newTag()));
        count("security");
        if (sink_ != nullptr) {
            sink_->onEvent(id_, Event{std::move(ev)});
        }
        return;
    }
    if (!sip::bodyOfType(req, kSignallingContentType)) {
        reject(tx, req, from, 415, "unsupported_body");
        return;
    }
    auto m = parseSdsMessage(req);
    if (!m) {
        reject(tx, req, from, 400, m.error().reason);
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
    const auto& sig = std::get<SdsSignalling>(m->signalling);
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
    // Durable before the 200 OK (common/message_store.hpp); a retransmission (same SDS
    // message ID) is answered again and not delivered twice.
    if (!persist(tx, req, from, d.message_id, Event{d})) {
        return;
    }
    (void)stack_->respond(tx, sip::makeResponse(req, 200, "OK", stack_->newTag()));
    count(m->env.group ? "sds_group" : "sds_one_to_one");
    // Remember the conversation so that an LMR reply continues it.
    rememberConversation({m->env.target, m->env.sender}, sig.conversation_id);
    if (sink_ != nullptr) {
        sink_->onEvent(id_, Event{std::move(d)});
    }
    if (sig.disposition == DispositionRequest::Delivery ||
        sig.disposition == DispositionRequest::DeliveryAndRead) {
        sendDelivered(*m);
    }
}

bool McDataLink::persist(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from,
                         const std::string& message_id, const Event& e) {
    if (ctx_.messages == nullptr) {
        return true;  // no store configured: acknowledged as before (docs/security.md)
    }
    auto r = ctx_.messages->accept(id_, message_id, e);
    if (!r) {
        reject(tx, req, from, 500, "store_failed");  // not acknowledged: the sender retries
        return false;
    }
    if (*r == StoreOutcome::Duplicate) {
        (void)stack_->respond(tx, sip::makeResponse(req, 200, "OK", stack_->newTag()));
        ctx_.metrics
            .counter("iwf_mc_mcdata_duplicates_total",
                     "IWF-2 MESSAGEs already stored (retransmissions): acknowledged, not "
                     "delivered again",
                     {{"link", cfg_.name}})
            .inc();
        return false;
    }
    return true;
}

void McDataLink::sendDelivered(const SdsSipMessage& in) {
    const auto& sig = std::get<SdsSignalling>(in.signalling);
    SdsSipMessage out;
    out.env.request_uri = cfg_.request_uri;
    out.env.sender = in.env.target;
    out.env.target = in.env.sender;
    out.env.iwf_psi = cfg_.iwf_psi;
    SdsNotification n;
    n.disposition = DispositionNotification::Delivered;
    n.date_time = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock.wallNow().time_since_epoch())
            .count());
    n.conversation_id = sig.conversation_id;
    n.message_id = sig.message_id;
    n.application_id = sig.application_id;
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
