// TS 33.180 SRTP on IWF-1 in a harness run (docs/harness.md "SRTP"): the KMS simulator that
// iwfd and the simulated GMS share, and the `gmk` step — the GMS sends iwfd a 24.481 group
// document with the GMK's GKTP (a MIKEY-SAKKE I_MESSAGE to the IWF's identity, signed by the
// GMS; docs/protocols/mc-security.md §12b) and gives the MC system its GMKs (setGroupKeys).
//
// The MC side's copy of a GMK is what a member holding the IWF's keys would read from the
// same kind of I_MESSAGE (receiveIMessage): GUK-ID and RAND, and so the SRTP master keys, are
// those iwfd derives. GMKs and the KMS's secrets are 3GPP-layer keys, not LMR keys: they are
// not opacity needles (the gateway must hold GMKs; it must never hold an LMR key).
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <variant>

#include <openssl/rand.h>

#include "harness/runner/admin_client.hpp"
#include "harness/runner/lab.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/key_file.hpp"
#include "mc_adapters/security/sakke.hpp"

namespace iwf::harness {

namespace {

namespace sec = mc::security;

constexpr const char* kSrtpIwfUri = "sip:iwf@iwf.example";  // the link's psi (config_gen.cpp)
constexpr const char* kSrtpGmsUri = "sip:gms@mc.example";
constexpr const char* kSrtpKmsUri = "kms.harness.example";

std::uint64_t srtpNowNtp() {
    return static_cast<std::uint64_t>(std::time(nullptr)) + sec::kNtpUnixOffset;
}

Bytes srtpRandom(std::size_t n) {
    Bytes b(n);
    if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) {
        return {};
    }
    return b;
}

// A user of the run's KMS, issued from its master secrets the way the KMS issues them
// (RFC 6507 §5.1.1, RFC 6508 §6.1.1).
Result<sec::MikeyIdentity> kmsUser(const Lab& lab, const std::string& uri) {
    const std::uint64_t now = srtpNowNtp();
    sec::MikeyIdentity id;
    id.user_uri = uri;
    id.kms = lab.kms->certificate();
    id.keys.user_uri = uri;
    id.keys.uid = sec::uidFor(uri, id.kms, now);
    id.keys.key_period_no = sec::keyPeriodNo(now, id.kms.user_key_period, id.kms.user_key_offset);
    auto rsk = sec::sakkeIssueRsk(lab.kms_cfg.z, id.keys.uid);
    auto signing = sec::eccsiIssueSigningKey(lab.kms_cfg.ksak, id.keys.uid, srtpRandom(32));
    if (!rsk || !signing) {
        return Error{"kms_user"};
    }
    id.keys.rsk = std::move(*rsk);
    id.keys.signing = std::move(*signing);
    return id;
}

// GMK `name`'s I_MESSAGE from the GMS to the IWF; `activation_s` > 0 puts an E.6 activation
// time that many seconds ahead.
Result<Bytes> gmkMessage(Lab& lab, const sec::MikeyIdentity& gms, const std::string& name,
                         std::uint64_t activation_s) {
    const ScenarioGmk& g = *lab.sc.media_protection->gmk(name);
    sec::KeyToSend k;
    k.purpose = sec::KeyPurpose::Gmk;
    k.key = g.key;
    k.key_id = g.gmk_id;
    {
        std::lock_guard lock(lab.gmk_mu);
        auto [it, fresh] = lab.gmk_rand.try_emplace(name);
        if (fresh) {
            it->second = srtpRandom(16);
        }
        k.rand = it->second;
    }
    k.timestamp_ntp = srtpNowNtp() << 32;
    if (activation_s > 0) {
        sec::KeyParameters p;
        p.activation_time = srtpNowNtp() + activation_s;
        k.params = p;
    }
    return sec::buildIMessage(gms, kSrtpIwfUri, lab.kms->certificate(), k);
}

std::string groupDocument(const std::string& group, const Bytes& i_message) {
    // 24.481 group document, <GKTPs> of urn:3gpp:ns:mcpttGKTP:1.0 (tests/data/xsd/mcpttGKTP.xsd)
    return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<group xmlns="urn:oma:xml:poc:list-service">
 <list-service uri=")") +
           group + R"(">
  <GKTPs xmlns="urn:3gpp:ns:mcpttGKTP:1.0"><GMK-GKTPs>
   <GKTP id=")" +
           kSrtpIwfUri + R"(">)" + toHex(i_message) + R"(</GKTP>
  </GMK-GKTPs></GKTPs>
 </list-service>
</group>
)";
}

std::string gmkStepRun(Lab& lab, const ScenarioStep& st) {
    // iwfd answers a GKTP only once it holds its own identity (403 mikey_no_identity before).
    const bool identity =
        waitUntil(Clock::now() + std::chrono::seconds(30), std::chrono::milliseconds(100), [&] {
            return metricSum(adminGet(lab.admin_port, "/metrics"),
                             "iwf_mcptt_media_protection_total", {"reason=\"kms_identity\""}) >= 1;
        });
    if (!identity) {
        return "iwfd did not fetch its identity from the KMS within 30 s";
    }
    auto gms = kmsUser(lab, kSrtpGmsUri);
    auto iwf = kmsUser(lab, kSrtpIwfUri);
    if (!gms || !iwf) {
        return "cannot issue the GMS's or the IWF's keys";
    }
    auto msg = gmkMessage(
        lab, *gms, st.key,
        static_cast<std::uint64_t>(std::chrono::ceil<std::chrono::seconds>(st.activation).count()));
    if (!msg) {
        return "I_MESSAGE: " + msg.error().toString();
    }
    // The MC side first: from now on it accepts what iwfd sends under the new GMK.
    std::vector<sec::DistributedKey> keys;
    const sec::KmsDirectory dir{{lab.kms->certificate().kms_uri, lab.kms->certificate()}};
    for (const auto& name : st.mc_keys) {
        auto m = gmkMessage(lab, *gms, name, 0);
        auto k = m ? sec::receiveIMessage(*m, *iwf, dir, srtpNowNtp())
                   : Result<sec::DistributedKey>(m.error());
        if (!k) {
            return "MC side GMK " + name + ": " + k.error().toString();
        }
        keys.push_back(std::move(*k));
    }
    if (auto s = lab.mc->setGroupKeys(st.group, std::move(keys)); !s.ok()) {
        return "setGroupKeys: " + s.error().toString();
    }
    const std::string r = lab.mc->sendGroupDocument(
        kSrtpGmsUri, kSrtpIwfUri, groupDocument(st.group, *msg), std::chrono::seconds(10));
    return r == "ok" ? "delivered" : "GKTP refused by iwfd: " + r;
}

}  // namespace

void stepStartKms(Lab& lab, StepLog& log) {
    const std::string cert = lab.dir + "/kms.pem";
    const std::string key = lab.dir + "/kms.key";
    if (auto s = writeSelfSignedCert(cert, key, "127.0.0.1"); !s.ok()) {
        log.abort = "KMS certificate: " + s.error().toString();
        return;
    }
    lab.kms_cfg.kms_uri = kSrtpKmsUri;
    lab.kms_cfg.ksak = srtpRandom(32);
    lab.kms_cfg.z = srtpRandom(20);
    if (lab.kms_cfg.ksak.empty() || lab.kms_cfg.z.empty()) {
        log.abort = "no random bytes for the KMS's master secrets";
        return;
    }
    lab.kms_cfg.ksak[0] &= 0x7f;  // below P-256's order
    lab.kms_cfg.cert_file = cert;
    lab.kms_cfg.key_file = key;
    lab.kms = std::make_unique<KmsSimulator>(lab.kms_cfg);
    if (auto s = lab.kms->start(); !s.ok()) {
        log.abort = "cannot start the KMS simulator: " + s.error().toString();
        return;
    }
    const std::string token = lab.dir + "/kms-token";
    { std::ofstream(token) << toHex(srtpRandom(16)) << "\n"; }
    if (::chmod(token.c_str(), 0600) != 0) {
        log.abort = "cannot chmod 0600 " + token;
        return;
    }
    // The CSK of floor control (33.180 §9.4.6; CS-ID 6 SRTCP): iwfd reads it from its
    // key_file (§12), the MC system gets the same line as iwfd's parser reads it.
    const std::string keys = lab.dir + "/mc-keys";
    const Bytes csk_id = srtpRandom(4);
    {
        std::ofstream f(keys);
        f << "csk " << toHex(srtpRandom(16)) << " 2" << toHex(csk_id).substr(1) << " "
          << toHex(srtpRandom(16)) << "\n";
    }
    if (::chmod(keys.c_str(), 0600) != 0) {
        log.abort = "cannot chmod 0600 " + keys;
        return;
    }
    auto provisioned = sec::loadKeyFile(keys);
    if (const auto* e = std::get_if<sec::KeyFileError>(&provisioned); e != nullptr) {
        log.abort = keys + ":" + std::to_string(e->line) + ": " + e->message;
        return;
    }
    if (auto s = lab.mc->setFloorKey(*std::get<sec::ProvisionedKeys>(provisioned).csk); !s.ok()) {
        log.abort = "MC system CSK: " + s.error().toString();
        return;
    }
    lab.links.mc_key_file = keys;
    lab.links.kms_url = lab.kms->url();
    lab.links.kms_uri = kSrtpKmsUri;
    lab.links.kms_ca_file = cert;
    lab.links.kms_token_file = token;
    log.note("KMS " + lab.kms->url() + " (" + kSrtpKmsUri + ")");
}

void gmkStep(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    const std::string outcome = gmkStepRun(lab, st);
    run.rec.outcome = outcome == "delivered" ? outcome : "failed";
    run.rec.pass = outcome == "delivered";
    run.rec.events.push_back(
        {{"t_ms", lab.ms()},
         {"what", "GKTP " + st.key + " for " + st.group +
                      " (MC side: " + std::to_string(st.mc_keys.size()) + " GMK(s)): " + outcome}});
    if (!run.rec.pass) {
        run.log.fail(outcome);
    }
}

}  // namespace iwf::harness
