#include "lmr_adapters/analog/cli/decode_usrp.hpp"

#include <cmath>
#include <functional>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lmr_adapters/analog/analog_rtp.hpp"
#include "lmr_adapters/analog/rtp_link.hpp"
#include "lmr_adapters/analog/usrp.hpp"
#include "media/g711.hpp"

namespace iwf::lmr::analog {

namespace {

using nlohmann::json;

json headerJson(const UsrpHeader& h) {
    return json{{"type", std::string(usrpTypeName(h.type))},
                {"seq", h.seq},
                {"memory", h.memory},
                {"keyup", h.keyup},
                {"talkgroup", h.talkgroup},
                {"mpxid", h.mpxid},
                {"reserved", h.reserved}};
}

json packetJson(const UsrpPacket& p) {
    return std::visit(
        [](const auto& x) -> json {
            using T = std::decay_t<decltype(x)>;
            json j = headerJson(x.header);
            if constexpr (std::is_same_v<T, UsrpVoice>) {
                j["audio"] = x.has_audio;
                if (x.has_audio) {
                    // Level of the 20 ms of PCM, dBFS (full scale = 32768): enough to see
                    // whether a packet carries signal or silence.
                    double sum = 0;
                    int peak = 0;
                    for (std::int16_t s : x.pcm) {
                        sum += static_cast<double>(s) * s;
                        peak = std::max(peak, std::abs(static_cast<int>(s)));
                    }
                    const double rms = std::sqrt(sum / static_cast<double>(x.pcm.size()));
                    j["samples"] = x.pcm.size();
                    j["rms_dbfs"] =
                        rms > 0 ? std::round(200.0 * std::log10(rms / 32768.0)) / 10.0 : -120.0;
                    j["peak"] = peak;
                }
            } else if constexpr (std::is_same_v<T, UsrpDtmf>) {
                j["digits"] =
                    std::string(reinterpret_cast<const char*>(x.digits.data()), x.digits.size());
            } else if constexpr (std::is_same_v<T, UsrpText>) {
                j["text_hex"] = toHex(x.text.view());
                if (auto info = setInfoOf(x)) {
                    j["set_info"] = json{{"source_id", info->source_id},
                                         {"repeater_id", info->repeater_id},
                                         {"destination", info->destination},
                                         {"slot", info->slot},
                                         {"cc_flags", info->cc_flags},
                                         {"callsign", std::string(info->callsign)}};
                }
            }
            return j;
        },
        p);
}

// One JSON line per datagram of `cap` (on `port` if set): addresses, then what `fields`
// makes of the payload, or "error". Shared by `decode usrp` and `decode analog-rtp`.
template <typename Fields>
std::size_t decodeEach(const pcap::Capture& cap, std::optional<std::uint16_t> port,
                       std::vector<std::string>& lines, Fields fields) {
    std::size_t errors = 0;
    for (const auto& d : cap.udp) {
        if (port && d.src_port != *port && d.dst_port != *port) {
            continue;
        }
        json j{{"frame", d.index}, {"len", d.payload.size()}};
        if (d.src_port != 0 || d.dst_port != 0) {
            j["time"] = d.time;
            j["src"] = pcap::ipToString(d.src_ip) + ":" + std::to_string(d.src_port);
            j["dst"] = pcap::ipToString(d.dst_ip) + ":" + std::to_string(d.dst_port);
        }
        Result<json> r = fields(ByteView(d.payload));
        if (!r) {
            j["error"] = std::string(r.error().reason);
            ++errors;
        } else {
            j.update(*r);
        }
        lines.push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    return errors;
}

json analogRtpJson(const AnalogRtpPacket& p) {
    json j{{"marker", p.marker},
           {"pt", p.payload_type},
           {"law", p.payload_type == kPtPcmu ? "pcmu" : "pcma"},
           {"seq", p.sequence},
           {"timestamp", p.timestamp},
           {"ssrc", fmt::format("{:08x}", p.ssrc)},
           {"csrc_count", p.csrc_count}};
    media::NbFrame pcm;
    media::g711Decode(p.payload_type == kPtPcmu ? media::G711Law::Ulaw : media::G711Law::Alaw,
                      p.payload, pcm);
    j["samples"] = pcm.size();
    j["rms_dbfs"] = std::round(10.0 * levelDbfs(pcm)) / 10.0;
    return j;
}

// `iwfctl decode NAME FILE [--port P] [--strict]`, printing what `run` makes of the capture.
void addCaptureCommand(CLI::App& decode, const std::string& name, const std::string& help,
                       std::function<std::size_t(const pcap::Capture&, std::optional<std::uint16_t>,
                                                 std::vector<std::string>&)>
                           run) {
    auto* cmd = decode.add_subcommand(name, help);
    auto file = std::make_shared<std::string>();
    auto port = std::make_shared<int>(0);
    auto strict = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "pcap file or hex dump (one datagram per line)")->required();
    cmd->add_option("--port", *port, "only datagrams from or to this UDP port")
        ->check(CLI::Range(0, 65535));
    cmd->add_flag("--strict", *strict, "exit non-zero if any datagram does not decode");
    cmd->callback([name, file, port, strict, run] {
        auto cap = pcap::readCaptureFile(*file);
        if (!cap) {
            std::cerr << "iwfctl decode " << name << ": " << *file << ": " << cap.error().toString()
                      << "\n";
            throw CLI::RuntimeError(2);
        }
        std::vector<std::string> lines;
        const std::size_t errors = run(
            *cap,
            *port ? std::optional<std::uint16_t>(static_cast<std::uint16_t>(*port)) : std::nullopt,
            lines);
        for (const auto& l : lines) {
            std::cout << l << "\n";
        }
        if (*strict && errors > 0) {
            throw CLI::RuntimeError(1);
        }
    });
}

}  // namespace

std::size_t decodeUsrpCapture(const pcap::Capture& cap, std::optional<std::uint16_t> port,
                              std::vector<std::string>& lines) {
    return decodeEach(cap, port, lines, [](ByteView d) -> Result<json> {
        auto p = decodeUsrp(d);
        if (!p) {
            return p.error();
        }
        return packetJson(*p);
    });
}

std::size_t decodeAnalogRtpCapture(const pcap::Capture& cap, std::optional<std::uint16_t> port,
                                   std::vector<std::string>& lines) {
    return decodeEach(cap, port, lines, [](ByteView d) -> Result<json> {
        auto p = decodeAnalogRtp(d);
        if (!p) {
            return p.error();
        }
        return analogRtpJson(*p);
    });
}

void addDecodeCommands(CLI::App& decode) {
    addCaptureCommand(decode, "usrp",
                      "USRP datagrams (AllStarLink chan_usrp, DVSwitch Analog_Bridge): header, "
                      "PCM level, DTMF, TEXT/SET_INFO as JSON lines",
                      decodeUsrpCapture);
    addCaptureCommand(decode, "analog-rtp",
                      "RTP G.711 datagrams of a Radio-over-IP gateway (analog-rtp link): "
                      "marker (PTT), PT, sequence, timestamp, SSRC, PCM level as JSON lines",
                      decodeAnalogRtpCapture);
}

}  // namespace iwf::lmr::analog
