#include "mc_adapters/security/media_keys.hpp"

#include <algorithm>

namespace iwf::mc::security {

namespace {

std::size_t saltLenOf(SrtpProfile p) {
    return p == SrtpProfile::AeadAes128Gcm ? 12 : 14;
}

Result<std::vector<SrtpKey>> keysFor(const CallKeying& k, CsId cs) {
    std::vector<SrtpKey> out;
    for (const DistributedKey& d : k.keys) {
        auto key = srtpKeyFor(d, cs);
        if (!key) {
            return key.error();
        }
        out.push_back(std::move(*key));
    }
    return out;
}

Result<SrtpConfig> configFor(const CallKeying& k, CsId cs) {
    if (k.keys.empty()) {
        return Error{"srtp_no_key"};
    }
    const DistributedKey& first = k.keys.front();
    for (const DistributedKey& d : k.keys) {
        if (d.profile != first.profile || d.roc_in_packet != first.roc_in_packet) {
            return Error{"srtp_mixed_profiles"};
        }
    }
    auto keys = keysFor(k, cs);
    if (!keys) {
        return keys.error();
    }
    return SrtpConfig{first.profile, first.roc_in_packet, std::move(*keys)};
}

}  // namespace

Result<SrtpKey> srtpKeyFor(const DistributedKey& k, CsId cs) {
    auto mk = deriveSrtpMasterKey(k.key, cs, k.csb_id, k.rand, 16, saltLenOf(k.profile));
    if (!mk) {
        return mk.error();
    }
    return SrtpKey{std::move(mk->key), std::move(mk->salt), k.mki()};
}

CallKeying groupMediaKeying(std::vector<DistributedKey> gmks) {
    if (gmks.size() > kMaxKeysPerCall) {
        gmks.erase(gmks.begin(),
                   gmks.begin() + static_cast<std::ptrdiff_t>(gmks.size() - kMaxKeysPerCall));
    }
    return CallKeying{std::move(gmks), CsId::McpttGroup, CsId::McpttGroup};
}

CallKeying privateMediaKeying(DistributedKey pck, bool we_initiated) {
    const CsId mine = we_initiated ? CsId::McpttPrivateInitiator : CsId::McpttPrivateReceiver;
    const CsId theirs = we_initiated ? CsId::McpttPrivateReceiver : CsId::McpttPrivateInitiator;
    return CallKeying{{std::move(pck)}, mine, theirs};
}

CallKeying floorKeying(DistributedKey csk) {
    return CallKeying{{std::move(csk)}, CsId::CskSrtcpMcptt, CsId::CskSrtcpMcptt};
}

Result<SrtpPair> makeSrtpPair(const CallKeying& k) {
    auto txc = configFor(k, k.tx_cs);
    if (!txc) {
        return txc.error();
    }
    auto rxc = configFor(k, k.rx_cs);
    if (!rxc) {
        return rxc.error();
    }
    auto tx = SrtpSession::create(*txc, SrtpSession::Direction::Outbound);
    if (!tx) {
        return tx.error();
    }
    auto rx = SrtpSession::create(*rxc, SrtpSession::Direction::Inbound);
    if (!rx) {
        return rx.error();
    }
    SrtpPair p{std::move(*tx), std::move(*rx)};
    IWF_TRY_STATUS(p.tx->useKey(p.tx->keyCount() - 1));
    return p;
}

Status rekeySrtpPair(SrtpPair& p, const CallKeying& k) {
    if (!p.tx || !p.rx) {
        return Error{"srtp_no_key"};
    }
    auto txc = configFor(k, k.tx_cs);
    if (!txc) {
        return txc.error();
    }
    auto rxc = configFor(k, k.rx_cs);
    if (!rxc) {
        return rxc.error();
    }
    IWF_TRY_STATUS(p.tx->setKeys(txc->keys));
    IWF_TRY_STATUS(p.rx->setKeys(rxc->keys));
    return p.tx->useKey(p.tx->keyCount() - 1);
}

}  // namespace iwf::mc::security
