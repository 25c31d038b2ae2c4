#include "keymap/validate.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "common/crypto.hpp"

namespace iwf::keymap {

std::string Finding::toString() const {
    std::string where = file.empty() ? std::string("keymap") : file;
    if (line > 0) {
        where += ":" + std::to_string(line);
    }
    return fmt::format("{}: {}: {} [{}]", where, entry, message, rule);
}

namespace {

class Checker {
  public:
    explicit Checker(const Keymap& k) : k_(k) {}

    std::vector<Finding> run() {
        systems();
        users();
        groups();
        adhoc();
        kmfs();
        top();
        std::stable_sort(out_.begin(), out_.end(),
                         [](const Finding& a, const Finding& b) { return a.line < b.line; });
        return std::move(out_);
    }

  private:
    void add(int line, std::string entry, std::string rule, std::string msg) {
        out_.push_back(Finding{k_.source, line, std::move(entry), std::move(rule), std::move(msg)});
    }

    void systems() {
        std::set<std::pair<std::uint32_t, std::uint16_t>> p25;
        std::set<std::uint32_t> dmr;
        std::set<std::pair<std::uint16_t, std::uint16_t>> tetra;
        bool analog = false;
        for (const auto& s : k_.systems) {
            std::string e = "system " + s.id;
            if (s.id.empty()) {
                add(s.line, e, "empty_id", "system id must not be empty");
            }
            if (!sys_.emplace(s.id, &s).second) {
                add(s.line, e, "duplicate_id", "duplicate system id '" + s.id + "'");
            }
            bool dup = false;
            switch (s.family) {
                case LmrFamily::P25:
                    if (!valid(s.p25)) {
                        add(s.line, e, "p25_system", "WACN must fit 20 bits and System ID 12 bits");
                    }
                    dup = !p25.emplace(s.p25.wacn, s.p25.system).second;
                    break;
                case LmrFamily::Dmr:
                    dup = !dmr.insert(s.dmr_network).second;
                    break;
                case LmrFamily::Tetra:
                    if (!fitsBits(s.tetra_mcc, 10) || !fitsBits(s.tetra_mnc, 14)) {
                        add(s.line, e, "tetra_system", "MCC must fit 10 bits and MNC 14 bits");
                    }
                    dup = !tetra.emplace(s.tetra_mcc, s.tetra_mnc).second;
                    break;
                case LmrFamily::Analog:
                    // The USRP header names a talkgroup but no network (docs/protocols/usrp.md):
                    // the engine looks analogue groups up in the one analogue system.
                    dup = analog;
                    analog = true;
                    break;
            }
            if (dup) {
                add(s.line, e, "duplicate_system",
                    "another system has the same network identity (WACN/System ID, DMR network "
                    "ID or MCC/MNC; at most one analogue system)");
            }
        }
    }

    const LmrSystem* system(const std::string& id, int line, const std::string& e) {
        auto it = sys_.find(id);
        if (it == sys_.end()) {
            add(line, e, "dangling_system", "refers to unknown system '" + id + "'");
            return nullptr;
        }
        return it->second;
    }

    void users() {
        std::set<std::pair<std::string, std::uint32_t>> units;
        for (const auto& u : k_.users) {
            std::string e = "user " + u.mc_id.uri;
            if (!users_.emplace(u.mc_id.uri, &u).second) {
                add(u.line, e, "duplicate_id", "duplicate MC ID '" + u.mc_id.uri + "'");
            }
            const LmrSystem* s = system(u.system, u.line, e);
            if (!units.emplace(u.system, u.unit).second) {
                add(u.line, e, "duplicate_unit",
                    fmt::format("LMR unit {} of system '{}' is mapped twice", u.unit, u.system));
            }
            if (!fitsBits(u.unit, 24)) {
                add(u.line, e, "unit_width", "LMR unit ID must fit 24 bits");
            }
            if (!u.authorised.empty() && !u.e2ee) {
                add(u.line, e, "e2ee_not_allowed",
                    "has authorised algorithms/key IDs but may not use E2EE (e2ee: false)");
            }
            if (u.e2ee && u.kmf_uri.empty()) {
                add(u.line, e, "kmf_uri", "may use E2EE but names no KMF URI (kmf_uri)");
            }
            std::set<std::tuple<int, int, std::uint32_t>> seen;
            for (const auto& a : u.authorised) {
                checkAlgKey(a.family, a.algid, a.key_id, u.line, e);
                if (!seen.emplace(static_cast<int>(a.family), a.algid, a.key_id).second) {
                    add(u.line, e, "duplicate_authorisation",
                        fmt::format("{} ALGID 0x{:02X} key ID 0x{:X} is listed twice",
                                    familyName(a.family), a.algid, a.key_id));
                }
            }
            (void)s;
        }
    }

    void kmfs() {
        std::set<std::string> uris;
        std::set<std::pair<std::string, std::uint32_t>> addresses;
        for (const auto& f : k_.kmfs) {
            std::string e = "kmf " + f.uri;
            if (f.uri.empty()) {
                add(f.line, e, "empty_id", "KMF URI must not be empty");
            } else if (f.uri.find(':') == std::string::npos) {
                add(f.line, e, "kmf_uri", "KMF URI '" + f.uri + "' has no scheme (sip:, urn:...)");
            }
            if (!uris.insert(f.uri).second) {
                add(f.line, e, "duplicate_id", "duplicate KMF URI '" + f.uri + "'");
            }
            system(f.system, f.line, e);
            if (!fitsBits(f.unit, 24)) {
                add(f.line, e, "unit_width", "KMF LMR address must fit 24 bits");
            }
            for (const auto& u : k_.users) {
                if (u.system == f.system && u.unit == f.unit) {
                    add(f.line, e, "kmf_is_user",
                        fmt::format("LMR address {} of system '{}' is also user {}", f.unit,
                                    f.system, u.mc_id.uri));
                }
            }
            if (!addresses.emplace(f.system, f.unit).second) {
                add(f.line, e, "duplicate_unit",
                    fmt::format("another KMF has LMR address {} in system '{}'", f.unit, f.system));
            }
        }
    }

    void checkAlgKey(LmrFamily f, std::uint16_t algid, std::uint32_t kid, int line,
                     const std::string& e) {
        CryptoWidths w = cryptoWidths(f);
        if (!fitsBits(algid, w.algid_bits)) {
            add(line, e, "algid_width",
                fmt::format("ALGID 0x{:X} does not fit the {}-bit {} ALGID", algid, w.algid_bits,
                            familyName(f)));
        } else if (!isKnownCipherAlgid(f, algid)) {
            add(line, e, "algid",
                fmt::format("ALGID 0x{:02X} is not a {} encryption algorithm{}", algid,
                            familyName(f), algid == clearAlgid(f) ? " (it means clear)" : ""));
        }
        if (!fitsBits(kid, w.key_id_bits)) {
            add(line, e, "key_id_width",
                fmt::format("key ID 0x{:X} does not fit the {}-bit {} key ID", kid, w.key_id_bits,
                            familyName(f)));
        }
    }

    void groups() {
        std::map<std::pair<std::string, std::uint32_t>, std::string> lmr;
        for (const auto& g : k_.groups) {
            std::string e = "group " + g.mc_group.uri;
            if (!groups_.emplace(g.mc_group.uri, &g).second) {
                add(g.line, e, "duplicate_mc_group",
                    "MC group ID '" + g.mc_group.uri + "' is mapped to more than one LMR group");
            }
            auto [it, fresh] = lmr.emplace(std::make_pair(g.system, g.tgid), g.mc_group.uri);
            if (!fresh) {
                add(g.line, e, "duplicate_lmr_group",
                    fmt::format("LMR group {} of system '{}' is already mapped to {}", g.tgid,
                                g.system, it->second));
            }
            const LmrSystem* s = system(g.system, g.line, e);
            if (s == nullptr) {
                continue;
            }
            // P25 16 bits, DMR / TETRA 24, the USRP talkgroup field 32 (docs/protocols/usrp.md).
            unsigned tg_bits =
                s->family == LmrFamily::P25 ? 16 : (s->family == LmrFamily::Analog ? 32 : 24);
            if (!fitsBits(g.tgid, tg_bits)) {
                add(g.line, e, "tgid_width",
                    fmt::format("group ID {} does not fit the {}-bit {} group ID", g.tgid, tg_bits,
                                familyName(s->family)));
            }
            VoiceCodec codec = effectiveCodec(g, s->family);
            bool e2ee = g.mode != EncryptionMode::Clear;
            if (e2ee && s->family == LmrFamily::Analog) {
                // TS 23.283 §10.13.1: no end-to-end encryption on analogue LMR. One clear
                // message instead of the ALGID/key/codec findings a cipher-less family gets.
                add(g.line, e, "analog_not_clear",
                    fmt::format("analogue system '{}' has no end-to-end encryption (TS 23.283 "
                                "§10.13.1): its group cannot be {}; make it clear",
                                s->id, toString(g.mode)));
                e2ee = false;
            } else if (e2ee) {
                if (!g.algid) {
                    add(g.line, e, "secure_needs_algid",
                        std::string(toString(g.mode)) + " mode needs a non-clear ALGID");
                }
                if (!g.key_id) {
                    add(g.line, e, "secure_needs_key_id",
                        std::string(toString(g.mode)) + " mode needs a key ID");
                }
                if (g.algid && g.key_id) {
                    checkAlgKey(s->family, *g.algid, *g.key_id, g.line, e);
                } else if (g.algid) {
                    checkAlgKey(s->family, *g.algid, 0, g.line, e);
                }
                if (!isLmrCodecOf(s->family, codec)) {
                    add(g.line, e, "secure_codec",
                        fmt::format("{} mode with codec {} is refused: E2EE pass-through needs "
                                    "the {} codec end to end (transcoding would break E2EE)",
                                    toString(g.mode), codecName(codec), familyName(s->family)));
                }
            } else {
                if (g.algid && *g.algid != clearAlgid(s->family)) {
                    add(g.line, e, "clear_with_algid",
                        fmt::format("clear mode with cipher ALGID 0x{:02X}", *g.algid));
                }
                if (g.key_id) {
                    add(g.line, e, "clear_with_key_id", "clear mode with a key ID");
                }
            }
            std::unordered_set<std::string> seen;
            for (const auto& m : g.members) {
                if (!seen.insert(m.uri).second) {
                    add(g.line, e, "duplicate_member", "member " + m.uri + " is listed twice");
                    continue;
                }
                auto u = users_.find(m.uri);
                if (u == users_.end()) {
                    add(g.line, e, "dangling_member", "member " + m.uri + " is not a user");
                    continue;
                }
                if (!e2ee || !g.algid || !g.key_id) {
                    continue;
                }
                const User& user = *u->second;
                KeyRef need{s->family, *g.algid, *g.key_id};
                bool ok = user.e2ee && std::find(user.authorised.begin(), user.authorised.end(),
                                                 need) != user.authorised.end();
                if (!ok) {
                    add(g.line, e, "member_not_authorised",
                        fmt::format("member {} is not authorised for {} ALGID 0x{:02X} key ID "
                                    "0x{:X}{}",
                                    m.uri, familyName(s->family), *g.algid, *g.key_id,
                                    user.e2ee ? "" : " (may not use E2EE)"));
                }
            }
        }
    }

    void adhoc() {
        std::set<std::string> ids;
        for (const auto& r : k_.adhoc_rules) {
            std::string e = "adhoc rule " + r.id;
            if (!ids.insert(r.id).second) {
                add(r.line, e, "duplicate_id", "duplicate ad hoc rule id '" + r.id + "'");
            }
            const LmrSystem* s = system(r.system, r.line, e);
            if (r.last < r.first) {
                add(r.line, e, "range", "range end is below its start");
            }
            if (s != nullptr && r.scope == AdhocScope::Talkgroup && s->family == LmrFamily::P25 &&
                !fitsBits(r.last, 16)) {
                add(r.line, e, "tgid_width", "P25 talkgroup range must fit 16 bits");
            }
            if (!groups_.count(r.lender.uri)) {
                add(r.line, e, "dangling_lender",
                    "lender " + r.lender.uri + " is not an interworking group");
            }
            for (const auto& o : k_.adhoc_rules) {
                if (&o == &r) {
                    break;
                }
                if (o.system == r.system && o.scope == r.scope && o.first <= r.last &&
                    r.first <= o.last) {
                    add(r.line, e, "adhoc_overlap",
                        fmt::format("range {}-{} overlaps rule '{}' ({}-{})", r.first, r.last, o.id,
                                    o.first, o.last));
                }
            }
        }
    }

    void top() {
        if (!k_.adhoc_default.uri.empty() && !groups_.count(k_.adhoc_default.uri)) {
            add(k_.adhoc_default_line, "adhoc default", "dangling_lender",
                "default lender " + k_.adhoc_default.uri + " is not an interworking group");
        }
        if (k_.unknown_talker.uri.empty()) {
            add(k_.unknown_talker_line, "unknown_talker", "unknown_talker",
                "a reserved MC ID for unknown LMR talkers is required");
        } else if (users_.count(k_.unknown_talker.uri)) {
            add(k_.unknown_talker_line, "unknown_talker", "unknown_talker",
                "the reserved MC ID " + k_.unknown_talker.uri + " is also a user's MC ID");
        } else if (groups_.count(k_.unknown_talker.uri)) {
            add(k_.unknown_talker_line, "unknown_talker", "unknown_talker",
                "the reserved MC ID " + k_.unknown_talker.uri + " is also an MC group ID");
        }
        for (const auto& g : k_.groups) {
            if (users_.count(g.mc_group.uri)) {
                add(g.line, "group " + g.mc_group.uri, "duplicate_id",
                    "MC group ID is also a user's MC ID");
            }
        }
    }

    const Keymap& k_;
    std::vector<Finding> out_;
    std::unordered_map<std::string, const LmrSystem*> sys_;
    std::unordered_map<std::string, const User*> users_;
    std::unordered_map<std::string, const Group*> groups_;
};

}  // namespace

std::vector<Finding> validate(const Keymap& k) {
    return Checker(k).run();
}

}  // namespace iwf::keymap
