// The simulated MC system's public calls (mc_system.hpp); the roles inside it are in
// mc_sip.cpp, mc_floor.cpp, mc_media.cpp and mc_talk.cpp (mc_system_impl.hpp).
#include "harness/sim/mc_system.hpp"

#include "harness/conformance/mc_conformance.hpp"
#include "harness/sim/mc_system_impl.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"

namespace iwf::harness {

std::int64_t mcsim::nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string mcsim::angle(const std::string& uri) {
    return "<" + uri + ">";
}

int mcsim::priorityRank(const std::string& p) {
    return p == "emergency" ? 2 : (p == "imminent_peril" ? 1 : 0);
}

int mcsim::priorityRank(CallPriority p) {
    return p == CallPriority::Emergency ? 2 : (p == CallPriority::ImminentPeril ? 1 : 0);
}

const ScenarioGroup* McSystem::Impl::group(const std::string& g) const {
    for (const auto& x : cfg.groups) {
        if (x.mc_group == g) {
            return &x;
        }
    }
    return nullptr;
}

const ScenarioClient* McSystem::Impl::client(const std::string& name) const {
    for (const auto& c : cfg.clients) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

sip::Peer McSystem::Impl::iwfPeer() const {
    sip::Peer p;
    p.protocol = sip::Protocol::Udp;
    p.address = asio::ip::make_address(cfg.iwf_address);
    p.port = cfg.iwf_sip_port;
    return p;
}

void McSystem::Impl::event(std::uint64_t call, std::string who, std::string what,
                           std::string detail) {
    std::lock_guard lock(mu);
    events.push_back({mcsim::nowNs(), call, std::move(who), std::move(what), std::move(detail)});
}

McSystem::McSystem(McSystemConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {
    for (const auto& c : impl_->cfg.clients) {
        Impl::ClientState st;
        st.cfg = &c;
        st.joined = impl_->cfg.late_clients.count(c.name) == 0;
        for (const auto& kn : c.keys) {
            for (const auto& k : impl_->cfg.keys) {
                if (k.name != kn) {
                    continue;
                }
                if (k.family == LmrFamily::P25) {
                    st.p25.addKey(static_cast<std::uint16_t>(k.key_id), k.key);
                } else {
                    st.dmr.addKey(static_cast<std::uint8_t>(k.key_id), k.key);
                }
            }
        }
        impl_->clients.emplace(c.name, std::move(st));
    }
}

McSystem::~McSystem() {
    stop();
}

Status McSystem::start() {
    sip::StackConfig sc;
    sc.name = "mc-sim";
    sip::ListenerConfig l;
    l.protocol = sip::Protocol::Udp;
    l.address = "127.0.0.1";
    l.port = 0;
    sc.listeners.push_back(l);
    sc.user_agent = "iwf-harness-mc";
    sc.timers.t1 = std::chrono::milliseconds(100);
    impl_->stack = std::make_unique<sip::Stack>(impl_->io, impl_->metrics, sc);
    impl_->stack->onRequest([this](sip::ServerTxId tx, const sip::Message& m, const sip::Peer& p) {
        impl_->onRequest(tx, m, p);
    });
    IWF_TRY_STATUS(impl_->stack->start());
    sip_port_ = impl_->stack->port(sip::Protocol::Udp);
    {
        std::lock_guard lock(impl_->mu);
        impl_->ports.insert(sip_port_);
    }
    impl_->work.emplace(asio::make_work_guard(impl_->io));
    impl_->thread = std::thread([this] { impl_->io.run(); });
    return {};
}

void McSystem::stop() {
    if (!impl_ || !impl_->thread.joinable()) {
        return;
    }
    impl_->onIo([this] {
        for (auto& [id, c] : impl_->calls) {
            impl_->endCall(*c, "harness stop");
        }
        impl_->stack->stop();
        return 0;
    });
    impl_->work.reset();
    impl_->io.stop();
    impl_->thread.join();
}

void McSystem::setIwfSipPort(std::uint16_t port) {
    impl_->cfg.iwf_sip_port = port;
}

void McSystem::setIwfMcdataPort(std::uint16_t port) {
    impl_->cfg.iwf_mcdata_port = port;
}

std::string McSystem::join(const std::string& client, const std::string& group,
                           std::chrono::milliseconds timeout) {
    auto result = std::make_shared<std::promise<std::string>>();
    auto fut = result->get_future();
    asio::post(impl_->io, [this, client, group, result] {
        auto it = impl_->clients.find(client);
        if (it != impl_->clients.end()) {
            it->second.joined = true;
        }
        impl_->originate(client, group, true, false, 0,
                         [result](std::uint64_t id, std::string why) {
                             result->set_value(id != 0 ? "joined" : "join refused: " + why);
                         });
    });
    if (fut.wait_for(timeout) != std::future_status::ready) {
        return "join: no answer from iwfd";
    }
    return fut.get();
}

namespace {

// An SDS MESSAGE (mcdata-signalling + one binary mcdata-payload) from `sender` to `target`.
Result<sip::Message> sdsMessage(const std::string& sender, const std::string& target,
                                std::uint16_t iwf_port, const Bytes& bytes) {
    mc::mcdata::SdsSipMessage m;
    m.env.request_uri = "sip:iwf@127.0.0.1:" + std::to_string(iwf_port);
    m.env.sender = sender;
    m.env.target = target;
    m.env.iwf_psi = sender;
    mc::mcdata::SdsSignalling sig;
    sig.date_time =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    std::mt19937_64 rng(std::random_device{}());
    sig.conversation_id = mc::mcdata::randomUuid(rng);
    sig.message_id = mc::mcdata::randomUuid(rng);
    m.signalling = sig;
    mc::mcdata::DataPayload dp;
    dp.payloads.push_back({mc::mcdata::content_type::kBinary, bytes});
    m.payload = dp;
    return mc::mcdata::buildSdsMessage(m);
}

}  // namespace

namespace {

// Sends an out-of-dialog request from `from` to iwfd's listener on `port` and waits for its
// final response: "ok" (2xx) or the status, reason and Warning.
std::string requestToIwf(McSystem::Impl& impl, sip::Message req, const std::string& from,
                         std::uint16_t port, std::chrono::milliseconds timeout) {
    auto result = std::make_shared<std::promise<std::string>>();
    auto fut = result->get_future();
    asio::post(impl.io, [&impl, req, result, from, port]() mutable {
        req.setHeader("From", mcsim::angle(from) + ";tag=" + impl.stack->newTag());
        if (!req.hasHeader("Call-ID")) {
            req.addHeader("Call-ID", impl.stack->newCallId());
        }
        if (!req.hasHeader("CSeq")) {
            req.addHeader("CSeq", "1 " + req.method());
        }
        sip::Peer p = impl.iwfPeer();
        p.port = port;
        impl.stack->sendRequest(req, p, [result](const sip::Message& rsp) {
            if (rsp.status() < 200) {
                return;
            }
            result->set_value(rsp.status() < 300
                                  ? "ok"
                                  : std::to_string(rsp.status()) + " " + rsp.reason() + " " +
                                        rsp.header("Warning").value_or(""));
        });
    });
    if (fut.wait_for(timeout) != std::future_status::ready) {
        return "no answer from iwfd";
    }
    return fut.get();
}

}  // namespace

std::string McSystem::sendSds(const std::string& client, const std::string& target,
                              const Bytes& bytes, std::chrono::milliseconds timeout) {
    const ScenarioClient* c = impl_->client(client);
    if (c == nullptr || impl_->cfg.iwf_mcdata_port == 0) {
        return "no such client or no MCData link";
    }
    auto msg = sdsMessage(c->mc_id, target, impl_->cfg.iwf_mcdata_port, bytes);
    if (!msg.ok()) {
        return "build: " + msg.error().toString();
    }
    return requestToIwf(*impl_, std::move(*msg), c->mc_id, impl_->cfg.iwf_mcdata_port, timeout);
}

std::string McSystem::sendGroupDocument(const std::string& from, const std::string& to,
                                        const std::string& document,
                                        std::chrono::milliseconds timeout) {
    if (impl_->cfg.iwf_sip_port == 0) {
        return "no MCPTT link";
    }
    sip::Message m = sip::Message::request("MESSAGE", to);
    m.addHeader("To", mcsim::angle(to));
    m.setBody(document, "application/vnd.oma.poc.groups+xml");
    return requestToIwf(*impl_, std::move(m), from, impl_->cfg.iwf_sip_port, timeout);
}

std::vector<McDataRecord> McSystem::dataRecords() const {
    std::lock_guard lock(impl_->mu);
    return impl_->data;
}

Status McSystem::setGroupKeys(const std::string& group,
                              std::vector<mc::security::DistributedKey> gmks) {
    return impl_->onIo([&]() -> Status {
        impl_->cfg.gmks[group] = std::move(gmks);
        for (auto& [id, c] : impl_->calls) {
            if (!c->ended && c->group == group && c->voice) {
                IWF_TRY_STATUS(impl_->protect(*c));
            }
        }
        return {};
    });
}

Status McSystem::setFloorKey(mc::security::DistributedKey csk) {
    return impl_->onIo([&]() -> Status {
        impl_->cfg.csk = std::move(csk);
        return {};
    });
}

std::uint64_t McSystem::srtpRefused() const {
    std::uint64_t n = 0;
    for (const char* why : {"srtp_auth_fail", "srtp_no_key", "srtp_replay", "srtp_bad_packet"}) {
        n += impl_->metrics.counterSum("iwf_mc_rtp_dropped_total", {{"reason", why}});
    }
    return n;
}

std::vector<McRxRecord> McSystem::records() const {
    std::lock_guard lock(impl_->mu);
    return impl_->records;
}

std::vector<McEvent> McSystem::events() const {
    std::lock_guard lock(impl_->mu);
    return impl_->events;
}

std::vector<std::string> McSystem::conformanceViolations() const {
    std::vector<std::string> kept;
    {
        std::lock_guard lock(impl_->mu);
        kept = impl_->kept_requests;
    }
    McConformance check(IWF_XSD_DIR);
    std::vector<std::string> out;
    for (const auto& wire : kept) {
        for (auto& v : check.checkRequest(wire)) {
            out.push_back(std::move(v));
        }
    }
    return out;
}

std::size_t McSystem::callsReceived() const {
    std::lock_guard lock(impl_->mu);
    return impl_->calls_received;
}

void McSystem::addNeedles(NeedleSet& set) const {
    std::lock_guard lock(impl_->mu);
    for (const auto& [label, b] : impl_->needles) {
        set.add(label, b);
    }
}

void McSystem::forget() {
    std::lock_guard lock(impl_->mu);
    impl_->records.clear();
    impl_->events.clear();
    impl_->needles.clear();
}

std::vector<std::uint16_t> McSystem::ports() const {
    std::lock_guard lock(impl_->mu);
    return {impl_->ports.begin(), impl_->ports.end()};
}

}  // namespace iwf::harness
