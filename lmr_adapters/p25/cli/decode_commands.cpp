#include "lmr_adapters/p25/cli/decode_commands.hpp"

#include <cstring>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/pcap.hpp"
#include "lmr_adapters/p25/crypto_tracker.hpp"
#include "lmr_adapters/p25/issi_rtp.hpp"
#include "lmr_adapters/p25/issi_sip.hpp"
#include "lmr_adapters/p25/records.hpp"

namespace iwf::lmr::p25 {

namespace {

using nlohmann::json;

std::string hex8(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof(b), "0x%02x", v & 0xFFU);
    return b;
}

json base(const pcap::UdpDatagram& d) {
    json j;
    j["frame"] = d.index;
    if (d.time != 0) {
        j["time"] = d.time;
    }
    if (d.src_port != 0 || d.dst_port != 0) {
        j["src"] = pcap::ipToString(d.src_ip) + ":" + std::to_string(d.src_port);
        j["dst"] = pcap::ipToString(d.dst_ip) + ":" + std::to_string(d.dst_port);
    }
    return j;
}

json cryptoJson(const CryptoSync& c) {
    json j;
    j["encrypted"] = c.encrypted;
    j["algid"] = hex8(c.algid);
    j["kid"] = c.key_id;
    j["mi"] = toHex(c.mi.view());
    if (c.encrypted && c.mi.empty()) {
        j["late_entry"] = true;
    }
    return j;
}

std::string streamKey(const pcap::UdpDatagram& d) {
    return std::to_string(d.src_ip) + ":" + std::to_string(d.src_port) + ">" +
           std::to_string(d.dst_ip) + ":" + std::to_string(d.dst_port);
}

json blockJson(const IssiBlock& b) {
    json j;
    j["type"] = b.type;
    if (b.tso != 0) {
        j["tso"] = b.tso;
    }
    if (const auto* t = std::get_if<PacketTypeBlock>(&b.body)) {
        j["block"] = "packet_type";
        j["packet_type"] = std::string(toString(static_cast<IssiPacketKind>(t->type)));
        j["pt"] = t->type;
        j["mute"] = t->mute;
        j["service_options"] = hex8(t->service_options);
        j["tsn"] = t->tsn;
        j["losing_audio"] = t->losing_audio;
        j["heartbeat"] = t->heartbeat;
    } else if (const auto* w = std::get_if<PttControlWord>(&b.body)) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%05X.%03X.%06X", w->wacn, w->system, w->unit);
        j["block"] = "ptt_control_word";
        j["unit"] = buf;
        j["priority"] = hex8(w->priority);
    } else if (const auto* h = std::get_if<HeaderWord>(&b.body)) {
        j["block"] = "header_word";
        j["mi"] = toHex(ByteView(h->mi.data(), h->mi.size()));
        j["algid"] = hex8(h->algid);
        j["kid"] = h->kid;
        j["mfid"] = hex8(h->mfid);
        j["group"] = h->group;
        j["nid"] = h->nid;
        j["sf"] = h->superframe();
        j["vbb"] = h->voiceBlocksBundled();
    } else if (const auto* v = std::get_if<ImbeBlock>(&b.body)) {
        j["block"] = "imbe";
        j["ft"] = hex8(v->ft);
        if (auto i = v->index()) {
            j["index"] = *i;
        }
        j["imbe"] = toHex(ByteView(v->imbe.data(), v->imbe.size()));
        j["status"] = toHex(ByteView(v->status.data(), v->status.size()));
        if (!v->extra.empty()) {
            j["extra"] = toHex(v->extra.view());
        }
    } else {
        j["block"] = "opaque";
        j["bytes"] = toHex(std::get<OpaqueBlock>(b.body).bytes);
    }
    return j;
}

bool looksLikeSip(const Bytes& p) {
    static const char* kStarts[] = {"SIP/2.0 ", "INVITE ",   "ACK ",  "BYE ",    "CANCEL ",
                                    "OPTIONS ", "REGISTER ", "INFO ", "UPDATE ", "PRACK "};
    for (const char* s : kStarts) {
        const std::size_t n = std::strlen(s);
        if (p.size() >= n && std::memcmp(p.data(), s, n) == 0) {
            return true;
        }
    }
    return false;
}

json sipJson(const Bytes& payload, bool& ok) {
    json j;
    j["kind"] = "sip";
    std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    auto eol = text.find("\r\n");
    j["start_line"] = std::string(text.substr(0, eol));
    auto hdr_end = text.find("\r\n\r\n");
    if (hdr_end == std::string_view::npos) {
        return j;
    }
    std::string_view headers = text.substr(0, hdr_end);
    std::string_view body = text.substr(hdr_end + 4);
    std::string ctype;
    std::size_t pos = 0;
    while (pos < headers.size()) {
        auto e = headers.find("\r\n", pos);
        auto line = headers.substr(pos, e == std::string_view::npos ? e : e - pos);
        auto c = line.find(':');
        if (c != std::string_view::npos) {
            std::string name(line.substr(0, c));
            for (auto& ch : name) {
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            auto v = line.substr(c + 1);
            while (!v.empty() && v.front() == ' ') {
                v.remove_prefix(1);
            }
            if (name == "content-type" || name == "c") {
                ctype = std::string(v);
            } else if (name == "call-id" || name == "i") {
                j["call_id"] = std::string(v);
            } else if (name == "cseq") {
                j["cseq"] = std::string(v);
            }
        }
        if (e == std::string_view::npos) {
            break;
        }
        pos = e + 2;
    }
    if (!ctype.empty() && !body.empty()) {
        j["content_type"] = ctype;
        auto b = parseIssiBody(ctype, body);
        if (!b) {
            j["error"] = std::string(b.error().reason);
            ok = false;
        } else {
            if (b->sdp) {
                j["sdp"] = {{"address", b->sdp->address}, {"port", b->sdp->port}};
                if (b->sdp->imbe_pt) {
                    j["sdp"]["imbe_pt"] = *b->sdp->imbe_pt;
                }
            }
            if (b->params) {
                j["issi_params"] = buildIssiCallParams(*b->params);
            }
        }
    }
    auto sp = text.find(' ');
    if (sp != std::string_view::npos) {
        auto rest = text.substr(sp + 1, eol - sp - 1);
        auto g = parseIssiGroupUri(rest.substr(0, rest.find(' ')));
        if (g) {
            j["group"] = toString(Address(*g));
        }
    }
    return j;
}

}  // namespace

int decodeRecordsFile(const std::string& path, std::ostream& out) {
    auto cap = pcap::readCaptureFile(path);
    if (!cap) {
        std::cerr << "iwfctl: " << path << ": " << cap.error().toString() << "\n";
        return 2;
    }
    int rc = 0;
    std::map<std::string, CryptoTracker> streams;
    for (const auto& d : cap->udp) {
        json j = base(d);
        auto r = decodeRecord(d.payload);
        if (!r) {
            j["error"] = std::string(r.error().reason);
            j["bytes"] = toHex(d.payload);
            rc = 1;
            out << j.dump() << "\n";
            continue;
        }
        j["record"] = std::string(recordName(*r));
        if (const auto* v = std::get_if<VoiceRecord>(&*r)) {
            CryptoTracker& t = streams[streamKey(d)];
            const FramePosition pos = t.onFrame(v->index());
            j["tag"] = hex8(v->tag);
            j["index"] = v->index();
            j["superframe"] = pos.superframe;
            j["imbe"] = toHex(ByteView(v->imbe.data(), v->imbe.size()));
            j["side"] = toHex(v->side.view());
            if (auto lc = lcOf(*v)) {
                t.onLcf(lc->lcf);
                t.onServiceOptions(lc->service_options);
                j["lcf"] = hex8(lc->lcf);
                j["protected_lc"] = (lc->lcf & kLcfProtected) != 0;
                j["mfid"] = hex8(lc->mfid);
                j["service_options"] = hex8(lc->service_options);
            }
            // `dst_id` and `src_id`: the record's destination (talkgroup) and source IDs;
            // `dst` and `src` are the UDP addresses of the datagram (base()), as in every
            // other `iwfctl decode` command.
            if (auto dst = dstOf(*v)) {
                j["dst_id"] = *dst;
            }
            if (auto src = srcOf(*v)) {
                j["src_id"] = *src;
            }
            if (auto es = esOf(*v)) {
                t.onEsFragment(v->index(), *es);
                j["es"] = toHex(ByteView(es->data(), es->size()));
            }
            if (auto lsd = lsdOf(*v)) {
                j["lsd"] = toHex(ByteView(lsd->data(), lsd->size()));
            }
            j["crypto"] = cryptoJson(t.current());
        } else if (const auto* p = std::get_if<PollRecord>(&*r)) {
            j["callsign"] = std::string(p->callsignView());
        } else {
            streams.erase(streamKey(d));
        }
        out << j.dump() << "\n";
    }
    return rc;
}

int decodeIssiFile(const std::string& path, std::ostream& out, unsigned payload_type) {
    auto cap = pcap::readCaptureFile(path);
    if (!cap) {
        std::cerr << "iwfctl: " << path << ": " << cap.error().toString() << "\n";
        return 2;
    }
    int rc = 0;
    for (const auto& d : cap->udp) {
        json j = base(d);
        bool ok = true;
        const Bytes& p = d.payload;
        if (looksLikeSip(p)) {
            j.update(sipJson(p, ok));
        } else if (p.size() >= 2 && (p[0] >> 6) == 2 && p[1] >= 200 && p[1] <= 204) {
            j["kind"] = "rtcp";
            j["rtcp_type"] = p[1];
        } else if (p.size() >= kRtpHeaderLen && (p[0] >> 6) == 2 && (p[1] & 0x7F) == payload_type) {
            j["kind"] = "issi";
            auto r = decodeIssiPacket(p);
            if (!r) {
                j["error"] = std::string(r.error().reason);
                j["bytes"] = toHex(p);
                ok = false;
            } else {
                j["seq"] = r->rtp.seq;
                j["ts"] = r->rtp.timestamp;
                j["ssrc"] = r->rtp.ssrc;
                j["signal"] = r->payload.signal;
                j["compact"] = r->payload.compact;
                json blocks = json::array();
                for (const auto& b : r->payload.blocks) {
                    blocks.push_back(blockJson(b));
                }
                j["blocks"] = std::move(blocks);
            }
        } else if (p.size() >= kRtpHeaderLen && (p[0] >> 6) == 2) {
            j["kind"] = "rtp";
            j["payload_type"] = p[1] & 0x7F;
        } else {
            j["kind"] = "other";
        }
        rc = ok ? rc : 1;
        out << j.dump() << "\n";
    }
    return rc;
}

void addDecodeCommands(CLI::App& decode) {
    auto* rec = decode.add_subcommand(
        "p25-records", "P25 open-network records (MMDVM/P25Gateway/P25Reflector) as JSON lines");
    auto rec_file = std::make_shared<std::string>();
    rec->add_option("FILE", *rec_file, "pcap or hex dump")->required();
    rec->callback([rec_file] {
        if (int rc = decodeRecordsFile(*rec_file, std::cout); rc != 0) {
            throw CLI::RuntimeError(rc);
        }
    });

    auto* issi = decode.add_subcommand(
        "issi", "P25 ISSI capture (SIP bodies, ISSI RTP block payloads) as JSON lines");
    auto issi_file = std::make_shared<std::string>();
    auto pt = std::make_shared<unsigned>(100);
    issi->add_option("FILE", *issi_file, "pcap or hex dump")->required();
    issi->add_option("--payload-type", *pt, "RTP payload type of the ISSI stream (default 100)")
        ->check(CLI::Range(0U, 127U));
    issi->callback([issi_file, pt] {
        if (int rc = decodeIssiFile(*issi_file, std::cout, *pt); rc != 0) {
            throw CLI::RuntimeError(rc);
        }
    });
}

}  // namespace iwf::lmr::p25
