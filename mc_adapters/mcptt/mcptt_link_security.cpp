// TS 33.180 media protection of the IWF-1 link's calls (docs/protocols/mc-security.md §12):
// which calls are protected (media_protection), the keys the link holds, and keying the calls'
// SRTP (voice) and SRTCP (floor control) guards.
#include <algorithm>

#include <openssl/rand.h>

#include "common/log.hpp"
#include "mc_adapters/mcptt/gktp.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::mcptt {

std::string_view toString(MediaProtection m) {
    switch (m) {
        case MediaProtection::Off:
            return "off";
        case MediaProtection::Optional:
            return "optional";
        case MediaProtection::Required:
            return "required";
    }
    return "off";
}

MediaProtection MediaProtectionConfig::forGroup(std::string_view group) const {
    for (const auto& [uri, mode] : groups) {
        if (uri == group) {
            return mode;
        }
    }
    return group_default;
}

// The keys of media_protection.key_file, installed when the link starts.
void McpttLink::installProvisionedKeys() {
    for (const auto& [group, gmk] : cfg_.media_protection.keys.gmks) {
        if (auto st = setGroupKey(group, gmk); !st) {
            count("iwf_mcptt_media_protection_total", st.error().reason);
        }
    }
    if (cfg_.media_protection.keys.csk) {
        (void)setFloorKey(*cfg_.media_protection.keys.csk);
    }
}

MediaProtection McpttLink::protectionOf(const Call& call) const {
    return call.kind == CallKind::Group ? cfg_.media_protection.forGroup(call.target)
                                        : cfg_.media_protection.private_calls;
}

// Called once a call's endpoints exist (openMedia): keys them if the link holds the call's
// key, makes them refuse everything if protection is required and no key is there.
void McpttLink::applyProtection(Call& call) {
    const MediaProtection mode = protectionOf(call);
    if (mode == MediaProtection::Off || !call.voice) {
        return;
    }
    if (mode == MediaProtection::Required) {
        // Until a key arrives (setPrivateCallKey for a private call), nothing plain passes.
        call.voice->protection().require();
        if (call.floor) {
            call.floor->protection().require();
        }
    }
    if (call.kind != CallKind::Group) {
        return;  // the PCK comes with the call (setPrivateCallKey)
    }
    auto it = group_keys_.find(call.target);
    if (it == group_keys_.end() || it->second.empty()) {
        if (mode == MediaProtection::Required) {
            count("iwf_mcptt_media_protection_total", "required_no_key");
        }
        return;
    }
    if (auto st = keyMedia(call, security::groupMediaKeying(it->second)); !st) {
        count("iwf_mcptt_media_protection_total", st.error().reason);
    }
}

// Keys the call's voice guard with `media` and its floor guard with the CSK (if the link has
// one; without it the floor stays plain under "optional" and refused under "required").
Status McpttLink::keyMedia(Call& call, const security::CallKeying& media) {
    if (!call.voice) {
        return Error{"no_media"};
    }
    if (call.voice->protection().keyed()) {
        IWF_TRY_STATUS(call.voice->protection().rekey(media));
        count("iwf_mcptt_media_protection_total", "rekeyed");
        return Status::success();
    }
    auto pair = security::makeSrtpPair(media);
    if (!pair) {
        return pair.error();
    }
    call.voice->protection().set(std::move(*pair));
    if (call.floor && floor_key_ && !call.floor->protection().keyed()) {
        auto fp = security::makeSrtpPair(security::floorKeying(*floor_key_));
        if (!fp) {
            return fp.error();
        }
        call.floor->protection().set(std::move(*fp));
    }
    count("iwf_mcptt_media_protection_total", "keyed");
    return Status::success();
}

Status McpttLink::setGroupKey(const std::string& group, const security::DistributedKey& gmk) {
    if (gmk.purpose != security::KeyPurpose::Gmk) {
        return Error{"wrong_key_purpose"};
    }
    auto& keys = group_keys_[group];
    // The same GMK-ID again (a repeated I_MESSAGE) replaces its entry; a new one is a rollover.
    keys.erase(
        std::remove_if(keys.begin(), keys.end(),
                       [&](const security::DistributedKey& k) { return k.key_id == gmk.key_id; }),
        keys.end());
    keys.push_back(gmk);
    if (keys.size() > security::kMaxKeysPerCall) {
        keys.erase(keys.begin());
    }
    log::get("mcptt")->info("link={} group={} gmk_id={:08x} keys={}", cfg_.name, group, gmk.key_id,
                            keys.size());
    Status result = Status::success();
    for (auto& [ref, c] : calls_) {
        if (c->kind != CallKind::Group || c->target != group ||
            protectionOf(*c) == MediaProtection::Off) {
            continue;
        }
        if (auto st = keyMedia(*c, security::groupMediaKeying(keys)); !st) {
            count("iwf_mcptt_media_protection_total", st.error().reason);
            result = st;
        }
    }
    return result;
}

Status McpttLink::setFloorKey(const security::DistributedKey& csk) {
    if (csk.purpose != security::KeyPurpose::Csk) {
        return Error{"wrong_key_purpose"};
    }
    floor_key_ = csk;
    return Status::success();
}

Status McpttLink::setPrivateCallKey(CallRef ref, const security::DistributedKey& pck) {
    if (pck.purpose != security::KeyPurpose::Pck) {
        return Error{"wrong_key_purpose"};
    }
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return Error{"unknown_call"};
    }
    Call& call = *it->second;
    if (call.kind == CallKind::Group || protectionOf(call) == MediaProtection::Off) {
        return Error{"media_protection_off"};
    }
    return keyMedia(call, security::privateMediaKeying(pck, call.outgoing));
}

void McpttLink::setMikeyIdentity(security::MikeyIdentity me, security::KmsDirectory kms) {
    if (mikey_me_) {  // the previous period's secrets (RFC 6507 SSK, RFC 6508 RSK)
        security::cleanse(mikey_me_->keys.rsk);
        security::cleanse(mikey_me_->keys.signing.ssk);
    }
    mikey_me_ = std::move(me);
    kms_dir_ = std::move(kms);
    kms_dir_.emplace(mikey_me_->kms.kms_uri, mikey_me_->kms);
}

// media_protection.mikey: a KmsClient fetches the IWF's identity over HTTPS (33.180 Annex D)
// at start and at every key period boundary, on its own thread; each validated identity and
// each refused fetch is posted to the link's executor. Only the URIs and the key period are
// logged, never a key.
void McpttLink::startKmsClient() {
    if (!cfg_.media_protection.kms_enabled || kms_client_) {
        return;
    }
    std::weak_ptr<bool> alive = alive_;
    auto on_identity = [this, alive](security::MikeyIdentity id) {
        asio::post(io_, [this, alive, id = std::move(id)]() mutable {
            auto a = alive.lock();
            if (!a || !*a) {
                security::cleanse(id.keys.rsk);
                security::cleanse(id.keys.signing.ssk);
                return;
            }
            count("iwf_mcptt_media_protection_total", "kms_identity");
            log::get("mcptt")->info("link={} MIKEY-SAKKE identity {} from KMS {} key_period={}",
                                    cfg_.name, id.user_uri, id.kms.kms_uri, id.keys.key_period_no);
            setMikeyIdentity(std::move(id), {});
        });
    };
    auto on_error = [this, alive](std::string_view reason) {
        asio::post(io_, [this, alive, reason] {
            auto a = alive.lock();
            if (!a || !*a) {
                return;
            }
            count("iwf_mcptt_media_protection_total", reason);
            log::get("mcptt")->warn("link={} KMS {} refused: {} (identity {})", cfg_.name,
                                    cfg_.media_protection.kms.url, reason,
                                    mikey_me_ ? "kept" : "none yet");
        });
    };
    kms_client_ = std::make_unique<security::KmsClient>(
        cfg_.media_protection.kms, std::move(on_identity), std::move(on_error));
    kms_client_->start();
}

void McpttLink::stopKmsClient() {
    if (kms_client_) {
        kms_client_->stop();
        kms_client_.reset();
    }
}

std::uint64_t McpttLink::nowNtpSeconds() const {
    const auto unix_s =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch())
            .count();
    return static_cast<std::uint64_t>(unix_s) + security::kNtpUnixOffset;
}

// TS 33.180 §7.2 / E.3 with RFC 4567: the PCK of an incoming private call arrives in the
// offer's a=key-mgmt:mikey. It is verified (ECCSI: the initiator's signature under a KMS we
// know) and decrypted (SAKKE with our RSK) before anything is answered; a refusal is counted
// with receiveIMessage's fixed reason and the caller answers 488, so no media flows.
Status McpttLink::keyFromOffer(Call& call, const McpttMedia& offer) {
    if (offer.key_mgmt.empty() || call.kind == CallKind::Group ||
        protectionOf(call) == MediaProtection::Off) {
        return Status::success();  // off: the offer is answered as before (plain RTP)
    }
    auto refuse = [&](Error e) -> Status {
        count("iwf_mcptt_media_protection_total", e.reason);
        log::get("mcptt")->warn("link={} call={:x} caller={} PCK in a=key-mgmt refused: {}",
                                cfg_.name, call.ref, call.caller, e.reason);
        return e;
    };
    if (!mikey_me_) {
        return refuse(Error{"mikey_no_identity"});
    }
    // RFC 3830 §5.4 before any cryptography: the timestamp within the allowed clock skew, and
    // not a message already accepted (a replayed INVITE re-offering a PCK).
    const std::uint64_t now = nowNtpSeconds();
    auto ticket = replay_.check(offer.key_mgmt, now);
    if (!ticket) {
        return refuse(ticket.error());
    }
    auto pck = security::receiveIMessage(offer.key_mgmt, *mikey_me_, kms_dir_, now);
    if (!pck) {
        return refuse(pck.error());
    }
    if (pck->purpose != security::KeyPurpose::Pck) {
        return refuse(Error{"mikey_not_pck"});
    }
    if (pck->activationTime() > now) {
        return refuse(Error{"mikey_key_not_active"});  // a call's key is for now
    }
    replay_.accept(*ticket);  // verified: a second delivery within the window is a replay
    if (auto st = keyMedia(call, security::privateMediaKeying(*pck, false)); !st) {
        return refuse(st.error());
    }
    return Status::success();
}

// Our own private call under protection: a fresh PCK and PCK-ID (purpose tag 1, §5.2.2) sent
// to the callee in our offer's a=key-mgmt, and our media keyed as the initiator (CS-ID 0).
// The callee's KMS is taken to be ours (one MC system behind the link).
Status McpttLink::makeOurPck(Call& call) {
    if (call.kind == CallKind::Group || protectionOf(call) == MediaProtection::Off || !mikey_me_) {
        return Status::success();
    }
    security::KeyToSend k;
    k.purpose = security::KeyPurpose::Pck;
    k.key.resize(16);
    k.rand.resize(16);
    std::uint8_t id[4];
    if (RAND_priv_bytes(k.key.data(), 16) != 1 || RAND_bytes(k.rand.data(), 16) != 1 ||
        RAND_bytes(id, sizeof id) != 1) {
        return Error{"crypto_rand"};
    }
    k.key_id = security::withPurpose(security::KeyPurpose::Pck,
                                     ((std::uint32_t{id[0]} << 24) | (std::uint32_t{id[1]} << 16) |
                                      (std::uint32_t{id[2]} << 8) | id[3]) &
                                         0x0fffffffU);
    k.timestamp_ntp = nowNtpSeconds() << 32;
    auto msg = security::buildIMessage(*mikey_me_, call.target, mikey_me_->kms, k);
    if (!msg) {
        security::cleanse(k.key);
        count("iwf_mcptt_media_protection_total", msg.error().reason);
        return msg.error();
    }
    // What the callee's receiveIMessage returns for this message (the default PCK profile
    // buildIMessage writes in the SP payload: AEAD_AES_128_GCM, no RCC; E.3).
    security::DistributedKey pck;
    pck.purpose = security::KeyPurpose::Pck;
    pck.key = k.key;
    pck.key_id = k.key_id;
    pck.csb_id = k.key_id;
    pck.rand = k.rand;
    pck.timestamp_ntp = k.timestamp_ntp;
    pck.initiator = mikey_me_->user_uri;
    security::cleanse(k.key);
    const Status st = keyMedia(call, security::privateMediaKeying(pck, true));
    security::cleanse(pck.key);
    IWF_TRY_STATUS(st);
    call.pck_message = std::move(*msg);
    return Status::success();
}

Status McpttLink::receiveGroupKey(const std::string& group, ByteView i_message) {
    auto refuse = [&](Error e) -> Status {
        count("iwf_mcptt_media_protection_total", e.reason);
        log::get("mcptt")->warn("link={} group={} GMK I_MESSAGE refused: {}", cfg_.name, group,
                                e.reason);
        return e;
    };
    if (!mikey_me_) {
        return refuse(Error{"mikey_no_identity"});
    }
    auto gmk = security::receiveIMessage(i_message, *mikey_me_, kms_dir_, nowNtpSeconds());
    if (!gmk) {
        return refuse(gmk.error());
    }
    if (gmk->purpose != security::KeyPurpose::Gmk) {
        return refuse(Error{"mikey_not_gmk"});
    }
    const std::uint64_t at = gmk->activationTime();
    if (at > nowNtpSeconds()) {
        // E.6: not to be used before its activation time; installed by the timer then.
        count("iwf_mcptt_media_protection_total", "gmk_pending");
        pending_gmks_.emplace(at, std::make_pair(group, std::move(*gmk)));
        armGroupKeyTimer();
        return Status::success();
    }
    return setGroupKey(group, *gmk);
}

// A group document from the GMS with the IWF's GMK GKTPs (TS 24.481 urn:3gpp:ns:mcpttGKTP:1.0,
// gktp.hpp) in a MESSAGE or NOTIFY: each GKTP addressed to the IWF's identity goes through
// receiveGroupKey (verified before anything secret is touched). Answer: 200 when every one was
// taken (or none was for us), 400 for a malformed document, 403 naming the first refusal.
void McpttLink::onGroupKeyTransport(sip::ServerTxId tx, const sip::Message& req) {
    auto answer = [&](int status, std::string_view reason) {
        sip::Message rsp = sip::makeResponse(req, status, {}, stack_->newTag());
        if (status >= 300) {
            rsp.addHeader("Warning",
                          "399 " + stack_->host() + " \"gktp: " + std::string(reason) + "\"");
        }
        (void)stack_->respond(tx, std::move(rsp));
    };
    auto document = sip::bodyOfType(req, kGroupDocumentContentType);
    if (!document) {
        reject(tx, req, 415, "no group document");
        return;
    }
    if (!mikey_me_) {
        count("iwf_mcptt_media_protection_total", "mikey_no_identity");
        log::get("mcptt")->warn("link={} group document with GMKs refused: no MIKEY identity",
                                cfg_.name);
        answer(403, "mikey_no_identity");
        return;
    }
    auto gktps = parseGroupKeyTransports(*document, mikey_me_->user_uri);
    if (!gktps) {
        count("iwf_mcptt_media_protection_total", gktps.error().reason);
        log::get("mcptt")->warn("link={} group document refused: {}", cfg_.name,
                                gktps.error().reason);
        answer(400, gktps.error().reason);
        return;
    }
    if (gktps->empty()) {
        count("iwf_mcptt_media_protection_total", "gktp_none");
        answer(200, {});
        return;
    }
    std::optional<Error> first_refusal;
    for (auto& g : *gktps) {
        count("iwf_mcptt_media_protection_total", "gktp_received");
        if (auto st = receiveGroupKey(g.group, g.i_message); !st && !first_refusal) {
            first_refusal = st.error();  // counted and logged by receiveGroupKey
        }
        security::cleanse(g.i_message);
    }
    if (first_refusal) {
        answer(403, first_refusal->reason);
    } else {
        answer(200, {});
    }
}

void McpttLink::armGroupKeyTimer() {
    if (pending_gmks_.empty()) {
        return;
    }
    if (!gmk_timer_) {
        gmk_timer_ = std::make_unique<asio::steady_timer>(io_);
    }
    const std::uint64_t now = nowNtpSeconds();
    const std::uint64_t first = pending_gmks_.begin()->first;
    gmk_timer_->expires_after(std::chrono::seconds(first > now ? first - now : 0));
    std::weak_ptr<bool> alive = alive_;
    gmk_timer_->async_wait([this, alive](const boost::system::error_code& ec) {
        auto a = alive.lock();
        if (ec || !a || !*a) {
            return;
        }
        const std::uint64_t t = nowNtpSeconds();
        while (!pending_gmks_.empty() && pending_gmks_.begin()->first <= t) {
            auto node = pending_gmks_.extract(pending_gmks_.begin());
            auto& [group, gmk] = node.mapped();
            if (gmk.params && gmk.params->expiry_time != 0 && gmk.params->expiry_time <= t) {
                count("iwf_mcptt_media_protection_total", "mikey_key_expired");
                continue;
            }
            (void)setGroupKey(group, gmk);
        }
        armGroupKeyTimer();
    });
}

std::vector<std::uint32_t> McpttLink::groupKeyIds(std::string_view group) const {
    std::vector<std::uint32_t> ids;
    if (auto it = group_keys_.find(group); it != group_keys_.end()) {
        for (const auto& k : it->second) {
            ids.push_back(k.key_id);
        }
    }
    return ids;
}

bool McpttLink::mediaProtected(CallRef ref) const {
    auto it = calls_.find(ref);
    return it != calls_.end() && it->second->voice && it->second->voice->protection().keyed();
}

}  // namespace iwf::mc::mcptt
