#include "mc_adapters/rtp/cli/decode_lmr_rtp.hpp"

#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"

namespace iwf::mc::rtp {

std::size_t decodeLmrRtpCapture(const pcap::Capture& cap, std::uint8_t payload_type,
                                std::ostream& out) {
    using nlohmann::json;
    std::size_t errors = 0;
    for (const auto& d : cap.udp) {
        // RTP version 2 (RFC 3550 5.1: the two high bits of octet 0) with the payload type.
        if (d.payload.size() < kRtpFixedHeader || (d.payload[0] >> 6) != 2 ||
            (d.payload[1] & 0x7F) != payload_type) {
            continue;
        }
        json j{{"frame", d.index}};
        if (d.src_port != 0 || d.dst_port != 0) {
            j["src"] = pcap::ipToString(d.src_ip) + ":" + std::to_string(d.src_port);
            j["dst"] = pcap::ipToString(d.dst_ip) + ":" + std::to_string(d.dst_port);
        }
        auto rtp = RtpView::parse(d.payload);
        if (!rtp) {
            j["error"] = std::string(rtp.error().reason);
            ++errors;
            out << j.dump() << "\n";
            continue;
        }
        j["marker"] = rtp->marker();
        j["pt"] = rtp->payloadType();
        j["seq"] = rtp->sequence();
        j["ts"] = rtp->timestamp();
        j["ssrc"] = rtp->ssrc();
        const ByteView p = rtp->payload();
        auto f = decodeLmrPayload(p);
        if (!f) {
            j["error"] = std::string(f.error().reason);
            j["bytes"] = toHex(p);
            ++errors;
            out << j.dump() << "\n";
            continue;
        }
        // The length octets as on the wire (the decoder has checked that they add up).
        j["version"] = p[0] >> 6;
        j["encrypted"] = f->crypto.encrypted;
        j["family"] = static_cast<unsigned>(f->crypto.family);
        j["family_name"] = toString(f->crypto.family);
        j["codec"] = static_cast<unsigned>(f->codec);
        j["codec_name"] = std::string(toString(f->codec));
        j["index"] = f->pos.index;
        j["superframe"] = f->pos.superframe;
        j["algid"] = f->crypto.algid;
        j["key_id"] = f->crypto.key_id;
        j["mi_len"] = f->crypto.mi.size();
        j["payload_len"] = f->payload.size();
        j["side_len"] = f->side.size();
        j["mi"] = toHex(f->crypto.mi.view());
        j["payload"] = toHex(f->payload.view());
        j["side"] = toHex(f->side.view());
        out << j.dump() << "\n";
    }
    return errors;
}

void addDecodeCommands(CLI::App& decode) {
    auto* cmd = decode.add_subcommand(
        "lmr-rtp", "RTP packets with the X-IWF-LMR payload (IWF-1 media) as JSON lines");
    auto file = std::make_shared<std::string>();
    auto pt = std::make_shared<unsigned>(96);
    cmd->add_option("FILE", *file, "pcap, pcapng or hex dump")->required();
    cmd->add_option("--payload-type", *pt,
                    "RTP payload type negotiated for X-IWF-LMR (default 96, the link's default)")
        ->check(CLI::Range(0U, 127U));
    cmd->callback([file, pt] {
        auto cap = pcap::readCaptureFile(*file);
        if (!cap) {
            std::cerr << "iwfctl decode lmr-rtp: " << *file << ": " << cap.error().toString()
                      << "\n";
            throw CLI::RuntimeError(2);
        }
        if (decodeLmrRtpCapture(*cap, static_cast<std::uint8_t>(*pt), std::cout) != 0) {
            throw CLI::RuntimeError(1);
        }
    });
}

}  // namespace iwf::mc::rtp
