#include "mc_adapters/rtp/srtp_guard.hpp"

#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::rtp {

void SrtpGuard::set(security::SrtpPair pair) {
    state_ = std::make_unique<State>();
    state_->pair = std::move(pair);
}

void SrtpGuard::require() {
    if (!state_) {
        state_ = std::make_unique<State>();
    }
}

Status SrtpGuard::rekey(const security::CallKeying& k) {
    if (!keyed()) {
        return Error{"srtp_no_key"};
    }
    return security::rekeySrtpPair(state_->pair, k);
}

Status SrtpGuard::protect(Bytes& buf) {
    if (!state_) {
        return Status::success();
    }
    if (!state_->pair.tx) {
        security::cleanse(buf);
        buf.clear();
        return Error{"srtp_no_key"};
    }
    const std::size_t len = buf.size();
    buf.resize(len + security::kSrtpMaxOverhead);
    auto n = kind_ == Kind::Rtp ? state_->pair.tx->protect(buf, len)
                                : state_->pair.tx->protectRtcp(buf, len);
    if (!n) {
        // Nothing of the plaintext may leave: the caller sends nothing on an error, and the
        // buffer is wiped so no later send can pick it up either.
        security::cleanse(buf);
        buf.clear();
        return n.error();
    }
    buf.resize(*n);
    return Status::success();
}

Result<ByteView> SrtpGuard::unprotect(ByteView data) {
    if (!state_) {
        return data;
    }
    if (!state_->pair.rx) {
        return Error{"srtp_no_key"};
    }
    thread_local Bytes rx_buf;
    rx_buf.assign(data.begin(), data.end());
    auto n = kind_ == Kind::Rtp ? state_->pair.rx->unprotect(rx_buf, rx_buf.size())
                                : state_->pair.rx->unprotectRtcp(rx_buf, rx_buf.size());
    if (!n) {
        security::cleanse(rx_buf);  // whatever libsrtp decrypted before the check failed
        return n.error();
    }
    return ByteView(rx_buf.data(), *n);
}

}  // namespace iwf::mc::rtp
