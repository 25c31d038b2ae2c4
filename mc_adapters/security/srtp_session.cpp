#include "mc_adapters/security/srtp_session.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <mutex>
#include <srtp2/srtp.h>

#include "mc_adapters/security/ossl.hpp"
#include "mc_adapters/security/srtp_session_gcm.hpp"

namespace iwf::mc::security {
namespace {

bool initLibsrtp() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] {
        ok = srtp_init() == srtp_err_status_ok;
        // AES-GCM on OpenSSL instead of the NSS one Debian's libsrtp2 is built with (a PKCS#11
        // context per packet; srtp_session_gcm.hpp). If libsrtp refuses it, its own stays.
        if (ok) {
            (void)installOsslAesGcm128();
        }
    });
    return ok;
}

std::size_t saltLen(SrtpProfile p) {
    return p == SrtpProfile::AeadAes128Gcm ? 12 : 14;
}

Error mapError(srtp_err_status_t s) {
    switch (s) {
        case srtp_err_status_auth_fail:
            return Error{"srtp_auth_fail"};
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
            return Error{"srtp_replay"};
        case srtp_err_status_bad_mki:
        case srtp_err_status_no_ctx:
            return Error{"srtp_no_key"};
        default:
            return Error{"srtp_bad_packet", static_cast<std::int64_t>(s)};
    }
}

}  // namespace

struct SrtpSession::Impl {
    srtp_t session = nullptr;
    // The policy points into these (key ‖ salt, MKI): libsrtp reads them in srtp_create /
    // srtp_update, and again whenever unprotect() adds a stream for a new SSRC under RCCm3
    // (srtp_add_stream with this policy), so they live as long as the session, never in the
    // caller's SrtpConfig (which is gone by then).
    std::vector<Bytes> key_bufs;
    std::vector<Bytes> mki_bufs;
    std::vector<srtp_master_key_t> mk;
    std::vector<srtp_master_key_t*> mk_ptrs;
    srtp_policy_t policy{};
    // SSRCs whose stream unprotect() added itself under RCCm3 (ssrc_specific): srtp_update
    // rekeys only the template and the streams cloned from it, so setKeys() rekeys these one
    // by one (srtp_update_stream keeps their ROC and replay index).
    std::vector<std::uint32_t> rcc_ssrcs;

    ~Impl() {
        if (session != nullptr) {
            srtp_dealloc(session);
        }
        for (Bytes& b : key_bufs) {
            cleanse(b);
        }
    }

    Status fill(const SrtpConfig& cfg, Direction dir, std::size_t& mki_len) {
        if (cfg.keys.empty() || cfg.keys.size() > SRTP_MAX_NUM_MASTER_KEYS) {
            return Error{"srtp_bad_key", static_cast<std::int64_t>(cfg.keys.size())};
        }
        for (Bytes& b : key_bufs) {
            cleanse(b);
        }
        key_bufs.clear();
        mki_bufs.clear();
        mk.assign(cfg.keys.size(), srtp_master_key_t{});
        mk_ptrs.assign(cfg.keys.size(), nullptr);
        mki_len = cfg.keys.front().mki.size();
        for (std::size_t i = 0; i < cfg.keys.size(); ++i) {
            const SrtpKey& k = cfg.keys[i];
            if (k.master_key.size() != 16 || k.master_salt.size() != saltLen(cfg.profile) ||
                k.mki.size() != mki_len || k.mki.size() > 16) {
                return Error{"srtp_bad_key", static_cast<std::int64_t>(i)};
            }
            Bytes buf = k.master_key;
            buf.insert(buf.end(), k.master_salt.begin(), k.master_salt.end());
            key_bufs.push_back(std::move(buf));
            mki_bufs.push_back(k.mki);
        }
        for (std::size_t i = 0; i < cfg.keys.size(); ++i) {
            mk[i].key = key_bufs[i].data();
            mk[i].mki_id = mki_bufs[i].data();
            mk[i].mki_size = static_cast<unsigned>(mki_bufs[i].size());
            mk_ptrs[i] = &mk[i];
        }
        std::memset(&policy, 0, sizeof policy);
        if (cfg.profile == SrtpProfile::AeadAes128Gcm) {
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
        } else {
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        }
        policy.ssrc.type = dir == Direction::Outbound ? ssrc_any_outbound : ssrc_any_inbound;
        if (mki_len == 0 && cfg.keys.size() == 1) {
            policy.key = key_bufs[0].data();
        } else {
            policy.keys = mk_ptrs.data();
            policy.num_master_keys = cfg.keys.size();
        }
        policy.window_size = 128;
        policy.allow_repeat_tx = 0;
        return Status::success();
    }
};

Result<std::unique_ptr<SrtpSession>> SrtpSession::create(const SrtpConfig& cfg, Direction dir) {
    if (!initLibsrtp()) {
        return Error{"srtp_init_failed"};
    }
    std::unique_ptr<SrtpSession> s(new SrtpSession());
    s->impl_ = std::make_unique<Impl>();
    IWF_TRY_STATUS(s->impl_->fill(cfg, dir, s->mki_len_));
    if (srtp_create(&s->impl_->session, &s->impl_->policy) != srtp_err_status_ok) {
        s->impl_->session = nullptr;
        return Error{"srtp_bad_key"};
    }
    s->key_count_ = cfg.keys.size();
    s->roc_in_packet_ = cfg.roc_in_packet;
    s->profile_ = cfg.profile;
    s->dir_ = dir;
    return s;
}

SrtpSession::~SrtpSession() = default;

Status SrtpSession::setKeys(const std::vector<SrtpKey>& keys) {
    SrtpConfig cfg{profile_, roc_in_packet_, keys};
    std::size_t mki_len = 0;
    IWF_TRY_STATUS(impl_->fill(cfg, dir_, mki_len));
    if (srtp_update(impl_->session, &impl_->policy) != srtp_err_status_ok) {
        return Error{"srtp_bad_key"};
    }
    for (std::uint32_t ssrc : impl_->rcc_ssrcs) {
        srtp_policy_t one = impl_->policy;
        one.ssrc.type = ssrc_specific;
        one.ssrc.value = ssrc;
        one.next = nullptr;
        if (srtp_update_stream(impl_->session, &one) != srtp_err_status_ok) {
            return Error{"srtp_bad_key"};
        }
    }
    key_count_ = keys.size();
    mki_len_ = mki_len;
    if (send_key_ >= key_count_) {
        send_key_ = 0;
    }
    return Status::success();
}

Status SrtpSession::useKey(std::size_t index) {
    if (index >= key_count_) {
        return Error{"srtp_no_key", static_cast<std::int64_t>(index)};
    }
    send_key_ = index;
    return Status::success();
}

Result<std::size_t> SrtpSession::protect(MutableByteView packet, std::size_t len) {
    if (len < 12 || packet.size() < len + kSrtpMaxOverhead) {
        return Error{"srtp_bad_packet"};
    }
    int n = static_cast<int>(len);
    srtp_err_status_t st = srtp_protect_mki(impl_->session, packet.data(), &n, mki_len_ > 0 ? 1 : 0,
                                            static_cast<unsigned>(send_key_));
    if (st != srtp_err_status_ok) {
        return mapError(st);
    }
    if (roc_in_packet_) {
        // RFC 4771 RCCm3: the sender's ROC, 4 octets, after everything libsrtp wrote.
        std::uint32_t ssrc = 0;
        std::memcpy(&ssrc, packet.data() + 8, 4);
        std::uint32_t roc = 0;
        if (srtp_get_stream_roc(impl_->session, ntohl(ssrc), &roc) != srtp_err_status_ok) {
            return Error{"srtp_bad_packet"};
        }
        const std::uint32_t be = htonl(roc);
        std::memcpy(packet.data() + n, &be, 4);
        n += 4;
    }
    return static_cast<std::size_t>(n);
}

Result<std::size_t> SrtpSession::unprotect(MutableByteView packet, std::size_t len) {
    if (len < 12 || len > packet.size()) {
        return Error{"srtp_bad_packet"};
    }
    int n = static_cast<int>(len);
    if (roc_in_packet_) {
        if (n < 12 + 4) {
            return Error{"srtp_bad_packet"};
        }
        std::uint32_t roc = 0;
        std::uint32_t ssrc = 0;
        std::memcpy(&roc, packet.data() + n - 4, 4);
        std::memcpy(&ssrc, packet.data() + 8, 4);
        n -= 4;
        // libsrtp can set the ROC of a stream it knows. The first packet of an SSRC (a late
        // joiner of a group call whose sender is past 65536 packets has ROC > 0) would make
        // libsrtp create the stream from the template with ROC 0 and fail authentication, so
        // the stream is added for this SSRC first and then takes the ROC the packet carries.
        if (srtp_set_stream_roc(impl_->session, ntohl(ssrc), ntohl(roc)) != srtp_err_status_ok) {
            srtp_policy_t one = impl_->policy;
            one.ssrc.type = ssrc_specific;
            one.ssrc.value = ntohl(ssrc);
            one.next = nullptr;
            if (srtp_add_stream(impl_->session, &one) != srtp_err_status_ok ||
                srtp_set_stream_roc(impl_->session, ntohl(ssrc), ntohl(roc)) !=
                    srtp_err_status_ok) {
                return Error{"srtp_bad_packet"};
            }
            impl_->rcc_ssrcs.push_back(ntohl(ssrc));
        }
    }
    srtp_err_status_t st =
        srtp_unprotect_mki(impl_->session, packet.data(), &n, mki_len_ > 0 ? 1 : 0);
    if (st != srtp_err_status_ok) {
        return mapError(st);
    }
    return static_cast<std::size_t>(n);
}

Result<std::size_t> SrtpSession::protectRtcp(MutableByteView packet, std::size_t len) {
    if (len < 8 || packet.size() < len + kSrtpMaxOverhead) {
        return Error{"srtp_bad_packet"};
    }
    int n = static_cast<int>(len);
    srtp_err_status_t st = srtp_protect_rtcp_mki(
        impl_->session, packet.data(), &n, mki_len_ > 0 ? 1 : 0, static_cast<unsigned>(send_key_));
    if (st != srtp_err_status_ok) {
        return mapError(st);
    }
    return static_cast<std::size_t>(n);
}

Result<std::size_t> SrtpSession::unprotectRtcp(MutableByteView packet, std::size_t len) {
    if (len < 8 || len > packet.size()) {
        return Error{"srtp_bad_packet"};
    }
    int n = static_cast<int>(len);
    srtp_err_status_t st =
        srtp_unprotect_rtcp_mki(impl_->session, packet.data(), &n, mki_len_ > 0 ? 1 : 0);
    if (st != srtp_err_status_ok) {
        return mapError(st);
    }
    return static_cast<std::size_t>(n);
}

}  // namespace iwf::mc::security
