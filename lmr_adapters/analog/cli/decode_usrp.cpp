#include "lmr_adapters/analog/cli/decode_usrp.hpp"

#include <cmath>
#include <iostream>

#include <nlohmann/json.hpp>

#include "lmr_adapters/analog/usrp.hpp"

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

}  // namespace

std::size_t decodeUsrpCapture(const pcap::Capture& cap, std::optional<std::uint16_t> port,
                              std::vector<std::string>& lines) {
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
        auto p = decodeUsrp(d.payload);
        if (!p) {
            j["error"] = std::string(p.error().reason);
            ++errors;
        } else {
            j.update(packetJson(*p));
        }
        lines.push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    return errors;
}

void addDecodeCommands(CLI::App& decode) {
    auto* cmd = decode.add_subcommand(
        "usrp",
        "USRP datagrams (AllStarLink chan_usrp, DVSwitch Analog_Bridge): header, PCM level, "
        "DTMF, TEXT/SET_INFO as JSON lines");
    auto file = std::make_shared<std::string>();
    auto port = std::make_shared<int>(0);
    auto strict = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "pcap file or hex dump (one datagram per line)")->required();
    cmd->add_option("--port", *port, "only datagrams from or to this UDP port")
        ->check(CLI::Range(0, 65535));
    cmd->add_flag("--strict", *strict, "exit non-zero if any datagram does not decode");
    cmd->callback([file, port, strict] {
        auto cap = pcap::readCaptureFile(*file);
        if (!cap) {
            std::cerr << "iwfctl decode usrp: " << *file << ": " << cap.error().toString() << "\n";
            throw CLI::RuntimeError(2);
        }
        std::vector<std::string> lines;
        const std::size_t errors = decodeUsrpCapture(
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

}  // namespace iwf::lmr::analog
