#include "lmr_adapters/dmr/cli/decode_hbp.hpp"

#include <iostream>
#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "lmr_adapters/dmr/calls.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/dmr/hbp.hpp"

namespace iwf::lmr::dmr {

namespace {

using nlohmann::json;

json lcJson(const FullLc& lc) {
    return json{{"flco", lc.flco},
                {"fid", lc.fid},
                {"service_options", lc.service_options},
                {"privacy", lc.privacy()},
                {"emergency", lc.emergency()},
                {"dst", lc.dst},
                {"src", lc.src}};
}

json dmrdJson(const DmrdPacket& p,
              std::map<std::tuple<std::uint32_t, std::uint8_t>, EmbeddedLcAssembler>& assemblers) {
    json j{{"type", "DMRD"},
           {"seq", p.seq},
           {"src_id", p.src},
           {"dst_id", p.dst},
           {"peer_id", p.peer_id},
           {"slot", p.slot},
           {"call", p.unit_call ? "unit" : "group"},
           {"frame_type", std::string(toString(p.frame_type))},
           {"stream_id", p.stream_id}};
    if (p.frame_type == FrameType::DataSync) {
        j["data_type"] = std::string(toString(static_cast<DataType>(p.dtype_vseq)));
    } else {
        j["voice_burst"] = std::string(1, static_cast<char>('A' + p.dtype_vseq));
    }
    if (p.has_trailer) {
        j["ber"] = p.ber;
        j["rssi"] = p.rssi;
    }
    auto info = inspectBurst(p);
    j["sync"] = std::string(toString(identifySync(syncField(p.burst))));
    if (!info) {
        j["burst_error"] = std::string(info.error().reason);
    } else {
        j["corrected_bits"] = info->corrected;
        if (info->slot_type) {
            j["color_code"] = info->slot_type->color_code;
        }
        if (info->emb) {
            j["emb"] = json{{"color_code", info->emb->color_code},
                            {"pi", info->emb->pi},
                            {"lcss", info->emb->lcss}};
            auto& a = assemblers[{p.peer_id, p.slot}];
            if (auto lc = a.feed(*info->emb, embeddedFragment(p.burst))) {
                if (lc->ok()) {
                    j["embedded_lc"] = lcJson(lc->value());
                } else {
                    j["embedded_lc_error"] = std::string(lc->error().reason);
                }
            }
        }
        if (info->pi) {
            j["pi_header"] = json{{"group", info->pi->group},  {"algid", info->pi->algid},
                                  {"fid", info->pi->fid},      {"key_id", info->pi->key_id},
                                  {"iv", toHex(info->pi->iv)}, {"dst", info->pi->dst}};
        }
        if (info->lc) {
            j["lc"] = lcJson(*info->lc);
        }
    }
    j["burst"] = toHex(p.burst);
    return j;
}

}  // namespace

std::size_t decodeHbpCapture(const pcap::Capture& cap, std::optional<std::uint16_t> port,
                             std::vector<std::string>& lines) {
    std::size_t errors = 0;
    std::map<std::tuple<std::uint32_t, std::uint8_t>, EmbeddedLcAssembler> assemblers;
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
        auto m = decodeHbp(d.payload);
        if (!m) {
            j["error"] = std::string(m.error().reason);
            ++errors;
        } else if (m->type == HbpType::Dmrd) {
            auto p = decodeDmrd(d.payload);
            if (!p) {
                j["type"] = "DMRD";
                j["error"] = std::string(p.error().reason);
                j["detail"] = p.error().detail;
                ++errors;
            } else {
                j.update(dmrdJson(*p, assemblers));
            }
        } else {
            j["type"] = std::string(toString(m->type));
            j["peer_id"] = m->peer_id;
            switch (m->type) {
                case HbpType::Rptack:
                    j["value"] = toHex(m->ack);
                    break;
                case HbpType::Rptk:
                    j["key"] = toHex(m->key);
                    break;
                case HbpType::Rptc:
                    j["config"] = json{{"callsign", m->config.callsign},
                                       {"rx_freq", m->config.rx_freq},
                                       {"tx_freq", m->config.tx_freq},
                                       {"tx_power", m->config.tx_power},
                                       {"color_code", m->config.color_code},
                                       {"latitude", m->config.latitude},
                                       {"longitude", m->config.longitude},
                                       {"height", m->config.height},
                                       {"location", m->config.location},
                                       {"description", m->config.description},
                                       {"slots", m->config.slots},
                                       {"url", m->config.url},
                                       {"software_id", m->config.software_id},
                                       {"package_id", m->config.package_id}};
                    break;
                case HbpType::Rpto:
                case HbpType::Dmra:
                case HbpType::Dmrg:
                case HbpType::Rptg:
                    j["text_hex"] = toHex(asBytes(m->text));
                    break;
                default:
                    break;
            }
        }
        lines.push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    return errors;
}

void addDecodeCommands(CLI::App& decode) {
    auto* cmd = decode.add_subcommand("hbp",
                                      "DMR Homebrew (HBP) datagrams: login, DMRD with "
                                      "burst metadata (PI header, LC, EMB) as JSON lines");
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
            std::cerr << "iwfctl decode hbp: " << *file << ": " << cap.error().toString() << "\n";
            throw CLI::RuntimeError(2);
        }
        std::vector<std::string> lines;
        const std::size_t errors = decodeHbpCapture(
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

}  // namespace iwf::lmr::dmr
