// Codec costs of the SIP core and the MCPTT bodies (ns per operation). Built in CI, never
// pass/fail; numbers in docs/perf/sip.md.
#include <string>

#include <benchmark/benchmark.h>

#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "sip/message.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"

namespace {

using namespace iwf;

std::string invite() {
    mc::mcptt::McpttMedia media;
    media.address = "192.0.2.1";
    media.audio_port = 40000;
    media.floor_port = 40001;
    mc::mcptt::McpttInfo info;
    info.session_type = "prearranged";
    info.calling_user_id = "sip:alice@mc.example";
    info.calling_group_id = "sip:group1@mc.example";
    info.emergency = true;
    sip::Message m = sip::Message::request("INVITE", "sip:iwf@iwf.example");
    m.addHeader("Via", "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK776asdhds;rport");
    m.addHeader("Max-Forwards", "70");
    m.addHeader("From", "<sip:cf@mc.example>;tag=1928301774");
    m.addHeader("To", "<sip:iwf@iwf.example>");
    m.addHeader("Call-ID", "a84b4c76e66710@192.0.2.9");
    m.addHeader("CSeq", "1 INVITE");
    m.addHeader("Contact", "<sip:cf@192.0.2.9:5060>");
    m.addHeader("Accept-Contact", "*;+g.3gpp.mcptt;require;explicit");
    m.addHeader("P-Asserted-Service", "urn:urn-7:3gpp-service.ims.icsi.mcptt");
    m.addHeader("P-Asserted-Identity", "<sip:cf@mc.example>");
    sip::setBodies(m, {{"application/sdp", {}, mc::mcptt::buildMcpttSdp(media, 1).toString()},
                       {"application/vnd.3gpp.mcptt-info+xml", {}, buildMcpttInfo(info)}});
    return m.serialize();
}

void BM_ParseInvite(benchmark::State& st) {
    const std::string wire = invite();
    for (auto _ : st) {
        auto m = sip::parseMessage(std::string_view(wire));
        benchmark::DoNotOptimize(m);
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * wire.size()));
}
BENCHMARK(BM_ParseInvite);

void BM_SerializeInvite(benchmark::State& st) {
    auto m = sip::parseMessage(std::string_view(invite()));
    for (auto _ : st) {
        auto s = m->serialize();
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_SerializeInvite);

void BM_Make200(benchmark::State& st) {
    auto m = sip::parseMessage(std::string_view(invite()));
    for (auto _ : st) {
        auto s = sip::makeResponse(*m, 200, {}, "tag").serialize();
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_Make200);

void BM_MultipartAndBodies(benchmark::State& st) {
    auto m = sip::parseMessage(std::string_view(invite()));
    for (auto _ : st) {
        auto sdp = sip::bodyOfType(*m, "application/sdp");
        auto xml = sip::bodyOfType(*m, "application/vnd.3gpp.mcptt-info+xml");
        benchmark::DoNotOptimize(sdp);
        benchmark::DoNotOptimize(xml);
    }
}
BENCHMARK(BM_MultipartAndBodies);

void BM_ParseSdp(benchmark::State& st) {
    mc::mcptt::McpttMedia media;
    media.address = "192.0.2.1";
    const std::string text = mc::mcptt::buildMcpttSdp(media, 1).toString();
    for (auto _ : st) {
        auto d = sip::parseSdp(text);
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_ParseSdp);

void BM_McpttInfoParse(benchmark::State& st) {
    mc::mcptt::McpttInfo info;
    info.session_type = "prearranged";
    info.calling_user_id = "sip:alice@mc.example";
    info.calling_group_id = "sip:group1@mc.example";
    info.emergency = true;
    const std::string xml = buildMcpttInfo(info);
    for (auto _ : st) {
        auto r = mc::mcptt::parseMcpttInfo(xml);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_McpttInfoParse);

void BM_McpttInfoBuild(benchmark::State& st) {
    mc::mcptt::McpttInfo info;
    info.session_type = "prearranged";
    info.calling_user_id = "sip:alice@mc.example";
    info.calling_group_id = "sip:group1@mc.example";
    info.emergency = true;
    for (auto _ : st) {
        auto s = buildMcpttInfo(info);
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_McpttInfoBuild);

}  // namespace

BENCHMARK_MAIN();
