// TS 33.180 media protection of the IWF-1 link's calls (docs/protocols/mc-security.md §12):
// which calls are protected (media_protection), the keys the link holds, and keying the calls'
// SRTP (voice) and SRTCP (floor control) guards.
#include <algorithm>

#include "common/log.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

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

bool McpttLink::mediaProtected(CallRef ref) const {
    auto it = calls_.find(ref);
    return it != calls_.end() && it->second->voice && it->second->voice->protection().keyed();
}

}  // namespace iwf::mc::mcptt
