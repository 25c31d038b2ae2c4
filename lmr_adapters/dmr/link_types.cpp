#include "lmr_adapters/dmr/link_types.hpp"

#include "common/link_limits.hpp"

namespace iwf::lmr::dmr {

namespace {

bool sapUsable(std::int64_t sap) {
    // UDT (0) and ARP (5) are not user data; the others carry opaque packet data.
    return sap != kSapUdt && sap != kSapArp;
}

// data: {sap: 10, timeout: 3s, max_bytes: 1520}   kmm: {sap: 9}
void parseData(const ConfigNode& n, DataConfig& d) {
    if (auto dn = n.optionalChild("data")) {
        const ConfigNode& x = *dn;
        x.expectKeys({"sap", "timeout", "max_bytes"});
        const auto sap = x.getInt("sap", 0, 15, kSapShortData);
        if (!sapUsable(sap)) {
            x.fail("sap", "SAP " + std::to_string(sap) + " (UDT / ARP) cannot carry short data");
        }
        d.out_sap = static_cast<std::uint8_t>(sap);
        d.timeout = x.getDuration("timeout", std::chrono::milliseconds(3000));
        if (d.timeout.count() <= 0) {
            x.fail("timeout", "must be greater than 0");
        }
        d.max_bytes = static_cast<std::size_t>(
            x.getInt("max_bytes", 0, static_cast<std::int64_t>(kMaxDataPayload), kMaxDataPayload));
    }
    if (auto kn = n.optionalChild("kmm")) {
        const ConfigNode& x = *kn;
        x.expectKeys({"sap"});
        const auto sap = x.getInt("sap", 0, 15);
        if (!sapUsable(sap)) {
            x.fail("sap", "SAP " + std::to_string(sap) + " (UDT / ARP) cannot carry KMM");
        }
        if (sap == d.out_sap) {
            x.fail("sap", "the KMM SAP must differ from the short data SAP (data.sap = " +
                              std::to_string(d.out_sap) + ")");
        }
        d.kmm = KmmService{static_cast<std::uint8_t>(sap)};
    }
}

void parseCommon(const ConfigNode& n, HbpCommonConfig& c, std::int64_t default_port) {
    c.address = n.getString("address", "0.0.0.0");
    c.port = static_cast<std::uint16_t>(n.getInt("port", 0, 65535, default_port));
    c.id = static_cast<std::uint32_t>(n.getInt("id", 0, 0xFFFFFFFFll, 0));
    c.password = n.getString("password");
    if (c.password.empty()) {
        n.fail("password", "must not be empty");
    }
    c.stream_timeout = n.getDuration("stream_timeout", std::chrono::milliseconds(1500));
    c.slot = static_cast<std::uint8_t>(n.getInt("slot", 1, 2, 1));
    c.color_code = static_cast<std::uint8_t>(n.getInt("color_code", 0, 15, 1));
    c.receive_buffer = net::receiveBufferFromConfig(n, c.receive_buffer);
    parseData(n, c.data);
}

std::string fixedField(const ConfigNode& n, std::string_view key, std::size_t width,
                       const std::string& dflt) {
    std::string v = n.getString(key, dflt);
    if (v.size() > width) {
        n.fail(key, "at most " + std::to_string(width) + " characters (RPTC fixed width), got " +
                        std::to_string(v.size()));
    }
    return v;
}

}  // namespace

HbpMasterConfig parseMasterConfig(const ConfigNode& n) {
    n.expectKeys({"name",
                  "type",
                  "address",
                  "port",
                  "id",
                  "password",
                  "stream_timeout",
                  "slot",
                  "color_code",
                  "ping_timeout",
                  "max_peers",
                  "data",
                  "kmm",
                  "allow",
                  "rate_limit",
                  "receive_buffer",
                  "login_timeout",
                  "max_pending_logins",
                  "max_pending_per_address",
                  "login_backoff_max"});
    HbpMasterConfig c;
    parseCommon(n, c, 62031);
    c.ping_timeout = n.getDuration("ping_timeout", std::chrono::milliseconds(35000));
    c.max_peers = static_cast<std::size_t>(n.getInt("max_peers", 1, 10000, 64));
    c.login_timeout = n.getDuration("login_timeout", c.login_timeout);
    if (c.login_timeout.count() <= 0) {
        n.fail("login_timeout", "must be positive");
    }
    c.max_pending_logins = static_cast<std::size_t>(
        n.getInt("max_pending_logins", 1, 100000, static_cast<std::int64_t>(c.max_pending_logins)));
    c.max_pending_per_address = static_cast<std::size_t>(n.getInt(
        "max_pending_per_address", 1, 1000, static_cast<std::int64_t>(c.max_pending_per_address)));
    c.login_backoff_max = n.getDuration("login_backoff_max", c.login_backoff_max);
    if (c.login_backoff_max < std::chrono::seconds(1)) {
        n.fail("login_backoff_max", "must be at least 1s");
    }
    // HBP logins need the password: any source may try unless `allow` narrows it.
    if (n.has("allow")) {
        c.allow = net::allowListFromConfig(n, c.address);
    }
    c.rate = net::rateLimitFromConfig(n, c.rate);
    return c;
}

HbpPeerConfig parsePeerConfig(const ConfigNode& n) {
    n.expectKeys(
        {"name",        "type",           "address",      "port",          "id",
         "password",    "stream_timeout", "slot",         "color_code",    "master_address",
         "master_port", "ping_interval",  "pong_timeout", "login_timeout", "login_retry",
         "options",     "rptc",           "data",         "kmm",           "receive_buffer"});
    HbpPeerConfig c;
    parseCommon(n, c, 0);
    if (c.id == 0) {
        n.fail("id", "the peer's HBP ID is required and must not be 0");
    }
    c.master_address = n.getIpAddress("master_address");
    c.master_port = static_cast<std::uint16_t>(n.getInt("master_port", 1, 65535, 62031));
    c.ping_interval = n.getDuration("ping_interval", std::chrono::milliseconds(10000));
    c.pong_timeout = n.getDuration("pong_timeout", std::chrono::milliseconds(60000));
    c.login_timeout = n.getDuration("login_timeout", std::chrono::milliseconds(60000));
    c.login_retry = n.getDuration("login_retry", std::chrono::milliseconds(10000));
    c.options = n.getString("options", "");
    RptcConfig& r = c.rptc;
    if (auto rn = n.optionalChild("rptc")) {
        const ConfigNode& x = *rn;
        x.expectKeys({"callsign", "rx_freq", "tx_freq", "tx_power", "color_code", "latitude",
                      "longitude", "height", "location", "description", "slots", "url",
                      "software_id", "package_id"});
        r.callsign = fixedField(x, "callsign", 8, "OPENIWF");
        // %09u in DMRGateway getConfig(): 10 digits from 1 GHz up (the RPTC grows by one).
        r.rx_freq = fixedField(x, "rx_freq", 10, "000000000");
        r.tx_freq = fixedField(x, "tx_freq", 10, "000000000");
        r.tx_power = fixedField(x, "tx_power", 2, "00");
        r.color_code = fixedField(x, "color_code", 2, "01");
        r.latitude = fixedField(x, "latitude", 8, "0.0000");
        r.longitude = fixedField(x, "longitude", 9, "0.0000");
        r.height = fixedField(x, "height", 3, "000");
        r.location = fixedField(x, "location", 20, "");
        r.description = fixedField(x, "description", 19, "OpenIWF");
        r.slots = fixedField(x, "slots", 1, "3");
        r.url = fixedField(x, "url", 124, "");
        r.software_id = fixedField(x, "software_id", 40, "OpenIWF");
        r.package_id = fixedField(x, "package_id", 40, "openiwf");
    } else {
        r = RptcConfig{"OPENIWF", "000000000", "000000000", "00", "01", "0.0000",  "0.0000",
                       "000",     "",          "OpenIWF",   "3",  "",   "OpenIWF", "openiwf"};
    }
    return c;
}

void registerDmrLinkTypes(iwf::LinkRegistry& reg) {
    LinkType master;
    master.side = Side::Lmr;
    master.description = "DMR Homebrew (HBP) master: repeaters and HBP peers log in to iwfd";
    master.validate = [](const ConfigNode& n) { (void)parseMasterConfig(n); };
    master.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        return std::make_unique<HbpMasterLink>(LinkId{Side::Lmr, n.getString("name")},
                                               parseMasterConfig(n), ctx.io, ctx.metrics,
                                               ctx.clock);
    };
    // SIGHUP: who may log in (password, allow) and how fast (rate_limit) apply at once.
    master.reloadable = {"password", "allow", "rate_limit"};
    master.reload = [](Link& l, const ConfigNode& n, std::string& what) -> Status {
        auto* m = dynamic_cast<HbpMasterLink*>(&l);
        if (m == nullptr) {
            return Error{"not_a_dmr_hbp_master"};
        }
        return m->reconfigure(parseMasterConfig(n), what);
    };
    reg.add("dmr-hbp-master", std::move(master));

    LinkType peer;
    peer.side = Side::Lmr;
    peer.description = "DMR Homebrew (HBP) peer: iwfd logs in to an HBP master";
    peer.validate = [](const ConfigNode& n) { (void)parsePeerConfig(n); };
    peer.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        return std::make_unique<HbpPeerLink>(LinkId{Side::Lmr, n.getString("name")},
                                             parsePeerConfig(n), ctx.io, ctx.metrics, ctx.clock);
    };
    reg.add("dmr-hbp-peer", std::move(peer));
}

}  // namespace iwf::lmr::dmr
