#include "fake_rfss.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "harness/sim/p25_radio.hpp"

namespace iwf::test::peers {

namespace {

using namespace std::chrono_literals;

// ISSIConstants.BODY_BOUNDARY / CONTENT_BOUNDARY.
constexpr std::string_view kBoundary = "P25 ISSI body boundary";
constexpr std::string_view kDelimiter = "--P25 ISSI body boundary";

// PacketType values (p25payload/PacketType, ISSIPacketType).
constexpr std::uint8_t kRequest = 0;
constexpr std::uint8_t kGrant = 1;
constexpr std::uint8_t kProgress = 2;
constexpr std::uint8_t kEnd = 3;
constexpr std::uint8_t kDeny = 8;
constexpr std::uint8_t kHeartbeat = 9;
constexpr std::uint8_t kHeartbeatQuery = 10;
// BlockType indexes.
constexpr std::uint8_t kBtImbe = 0;
constexpr std::uint8_t kBtPacketType = 1;
constexpr std::uint8_t kBtHeaderWord = 5;
constexpr std::uint8_t kBtControlWord = 11;

std::int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void rfssPut32(Bytes& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) {
        b.push_back(static_cast<std::uint8_t>(v >> s));
    }
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// The value of header `name` (first occurrence, case-insensitive), "" when absent.
std::string header(const std::string& msg, std::string_view name) {
    const std::string want = lower(std::string(name)) + ":";
    std::size_t pos = msg.find("\r\n");
    while (pos != std::string::npos) {
        pos += 2;
        const std::size_t eol = msg.find("\r\n", pos);
        if (eol == pos || eol == std::string::npos) {
            return "";
        }
        const std::string line = msg.substr(pos, eol - pos);
        if (lower(line.substr(0, want.size())) == want) {
            std::string v = line.substr(want.size());
            v.erase(0, v.find_first_not_of(' '));
            return v;
        }
        pos = eol;
    }
    return "";
}

std::string bodyOf(const std::string& msg) {
    const std::size_t at = msg.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : msg.substr(at + 4);
}

std::string tagOf(const std::string& name_addr) {
    const std::size_t at = name_addr.find(";tag=");
    if (at == std::string::npos) {
        return "";
    }
    return name_addr.substr(at + 5, name_addr.find(';', at + 5) - (at + 5));
}

// "<sip:...>" -> "sip:..."
std::string uriOf(const std::string& name_addr) {
    const std::size_t a = name_addr.find('<');
    const std::size_t b = name_addr.find('>');
    return a == std::string::npos || b == std::string::npos ? name_addr
                                                            : name_addr.substr(a + 1, b - a - 1);
}

// SipUtils.createTag: (int)(Math.random() * 10000) + 13.
std::string nistTag() {
    static std::mt19937 rng(std::random_device{}());
    return std::to_string(std::uniform_int_distribution<int>(0, 9999)(rng) + 13);
}

}  // namespace

FakeRfss::FakeRfss(RfssConfig cfg)
    : cfg_(cfg)
    , cipher_(cfg.key, cfg.first_mi)
    , heartbeat_tx_(cfg.t_heartbeat)
    , heartbeat_rx_(cfg.t_heartbeat * 4) {
    request_.setTimeout(cfg_.t_request);
}

// RfssConfig.getDomainName: rfss (2 hex) . system (3 hex) . wacn (5 hex) . p25dr.
std::string FakeRfss::domain(std::uint8_t rfss) const {
    char b[48];
    std::snprintf(b, sizeof b, "%02x.%03x.%05x.p25dr", rfss, cfg_.system, cfg_.wacn);
    return b;
}

// GroupConfig.getRadicalName: wacn (5 hex) system (3 hex) group (4 hex), Integer.toHexString.
std::string FakeRfss::radical() const {
    char b[16];
    std::snprintf(b, sizeof b, "%05x%03x%04x", cfg_.wacn, cfg_.system, cfg_.group);
    return b;
}

std::string FakeRfss::groupUri() const {
    return "sip:" + radical() + "@p25dr;user=TIA-P25-SG";
}

void FakeRfss::sendSip(const std::string& msg) {
    sip_.sendTo(cfg_.home_sip_port,
                ByteView(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
}

// GroupCallControlManager.subscribeToGroup + createInviteForGroupCall: the JAIN-SIP INVITE
// with SipUtils' headers, then the ContentList of SdpContent (SipUtils.createSdpBody) and
// CallParamContent (c-resavail:0 always on INVITE "#665", c-groupcalltype explicit,
// c-protected:1 for a protected call) as ContentList.toString writes it: each part
// "--boundary CRLF Content-Type: x CRLF CRLF content", a CRLF after each part, the close
// delimiter with no CRLF after it; SipUtils.checkContentLength adds MIME-Version and
// Content-Disposition: session;handling=required for a multipart body.
void FakeRfss::subscribeToGroup() {
    const std::int64_t now = wallMs();
    call_id_ = std::to_string(now) + ".1@" + domain(cfg_.rfss);  // SipUtils.createCallId
    from_tag_ = nistTag();
    const std::string sdp = "v=0\r\no=- " + std::to_string(now % 100000) + " " +
                            std::to_string((now / 7) % 100000) + " IN IP4 127.0.0.1\r\n" +
                            "s=TIA-P25-Groupcall\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + "m=audio " +
                            std::to_string(rtp_.port()) + " RTP/AVP 100\r\n" +
                            "a=rtpmap:100 X-TIA-P25-IMBE/8000\r\n";
    std::string params = "c-resavail:0\r\nc-groupcalltype:0\r\n";  // CallParam.toString order
    if (cfg_.protected_call) {
        params += "c-protected:1\r\n";
    }
    std::string body;
    body += std::string(kDelimiter) + "\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n";
    body += std::string(kDelimiter) + "\r\nContent-Type: application/x-tia-p25-issi\r\n\r\n" +
            params + "\r\n";
    body += std::string(kDelimiter) + "--";
    std::string m;
    m += "INVITE " + groupUri() + " SIP/2.0\r\n";
    m += "Call-ID: " + call_id_ + "\r\n";
    m += "CSeq: 1 INVITE\r\n";
    m += "From: <" + groupUri() + ">;tag=" + from_tag_ + "\r\n";
    m += "To: <" + groupUri() + ">\r\n";
    m += "Via: SIP/2.0/UDP " + domain(cfg_.rfss) + ";branch=z9hG4bK" + std::to_string(++branch_) +
         "\r\n";
    m += "Max-Forwards: 70\r\n";
    // SipUtils.createRouteToRfss, user set to ISSIConstants.P25_GROUP_CALL.
    m += "Route: <sip:TIA-P25-Groupcall@" + domain(cfg_.home_rfss) + ";lr>\r\n";
    // SipUtils.createContactHeaderForGroup.
    m += "Contact: <sip:" + radical() + "@" + domain(cfg_.rfss) + ";user=TIA-P25-SG>\r\n";
    m += "Allow: ACK,BYE,CANCEL,INVITE,REGISTER\r\n";                       // addAllowHeaders
    m += "Accept: application/sdp;level=1,application/x-tia-p25-issi\r\n";  // addAcceptHeader
    m += "Priority: " + std::to_string(cfg_.priority) + ";a\r\n";           // addPriorityHeader
    m += "Timestamp: " + std::to_string(now) + "\r\n";                      // createTimeStampHeader
    m += "Content-Disposition: session;handling=required\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: multipart/mixed;boundary=\"" + std::string(kBoundary) + "\"\r\n";
    m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    invite_ = m;
    sendSip(invite_);
    invite_retx_.start();
    heartbeat_rx_.start();  // the SMF session's HeartbeatReceiver exists from here
}

// ContentList.getContentListFromMessage / createContentList for the 200 OK, then
// groupCallConfirm: SDP connection (media-level c= wins) and port, then the ACK.
void FakeRfss::onInviteResponse(const std::string& msg, int status) {
    invite_status_ = status;
    invite_retx_.stop();  // any response ends Timer A (RFC 3261 17.1.1.2)
    if (status < 200) {
        return;
    }
    if (status >= 300) {
        return;
    }
    answer_ = msg;
    to_tag_ = tagOf(header(msg, "To"));
    remote_target_ = uriOf(header(msg, "Contact"));
    const std::string ct = lower(header(msg, "Content-Type"));
    const std::string body = bodyOf(msg);
    std::string sdp;
    if (ct.rfind("multipart/mixed", 0) == 0) {
        // body.split(CONTENT_BOUNDARY): fragments; leading CR/LF stripped; the first line is
        // the part's Content-Type header, the content starts 4 bytes after its end.
        std::size_t pos = 0;
        bool any = false;
        while (pos <= body.size()) {
            std::size_t next = body.find(kDelimiter, pos);
            std::string frag =
                body.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
            pos = next == std::string::npos ? body.size() + 1 : next + kDelimiter.size();
            frag.erase(0, frag.find_first_not_of("\r\n"));
            if (frag.empty()) {
                continue;
            }
            const std::size_t eol = frag.find("\r\n");
            if (eol == std::string::npos || eol == 2) {
                if (frag.rfind("--", 0) == 0) {
                    break;
                }
                answer_error_ = "no content type header found";
                return;
            }
            const std::string line = frag.substr(0, eol);
            const std::size_t colon = line.find(':');
            if (colon == std::string::npos || lower(line.substr(0, colon)) != "content-type") {
                answer_error_ = "Expecting a ContentTypeHeader got [" + line + "]";
                return;
            }
            const std::string type = lower(line.substr(colon + 1));
            const std::string rest = frag.substr(std::min(frag.size(), eol + 4));
            if (type.find("application/sdp") != std::string::npos) {
                sdp = rest;
            } else if (type.find("application/x-tia-p25-issi") == std::string::npos) {
                answer_error_ = "Unknown content type [" + line + "]";
                return;
            } else if (!rest.empty() && rest.rfind("c-", 0) != 0 && rest.rfind("u-", 0) != 0 &&
                       rest.rfind("g-", 0) != 0 && rest.rfind("r-", 0) != 0) {
                answer_error_ = "Unrecognized content:<" + rest + ">";
                return;
            }
            any = true;
        }
        if (!any) {
            answer_error_ = "no part";
            return;
        }
    } else if (ct.rfind("application/sdp", 0) == 0) {
        sdp = body;
    }
    if (sdp.empty()) {
        answer_error_ = "No session description - dropping response";
        return;
    }
    const std::size_t m = sdp.find("m=audio ");
    if (m == std::string::npos || sdp.find("c=IN IP4 ") == std::string::npos) {
        answer_error_ = "no media description";
        return;
    }
    home_rtp_port_ = static_cast<std::uint16_t>(std::stoul(sdp.substr(m + 8)));
    // dialog.createAck(cseq) + SipUtils.filterSipHeaders (Timestamp; no Accept, Allow,
    // Contact, Priority on an ACK) + checkContentLength.
    std::string a;
    a += "ACK " + remote_target_ + " SIP/2.0\r\n";
    a += "Call-ID: " + call_id_ + "\r\nCSeq: 1 ACK\r\n";
    a += "From: <" + groupUri() + ">;tag=" + from_tag_ + "\r\n";
    a += "To: <" + groupUri() + ">;tag=" + to_tag_ + "\r\n";
    a += "Via: SIP/2.0/UDP " + domain(cfg_.rfss) + ";branch=z9hG4bK" + std::to_string(++branch_) +
         "\r\n";
    a += "Max-Forwards: 70\r\nTimestamp: " + std::to_string(wallMs()) + "\r\n";
    a += "Content-Length: 0\r\n\r\n";
    sendSip(a);
    acked_ = true;
    // groupCallConfirm: the heartbeat transmitter starts once the far port is known; the
    // HeartbeatReceiver's first timeout (4 x THEARTBEAT) runs from the session's creation.
    heartbeat_tx_.start();
}

// GroupServing.heartbeatTimeout's BYE: dialog.createRequest(BYE) with the Request-URI's host
// set to p25dr (#592) and user=TIA-P25-SG, filterSipHeaders, checkContentLength.
void FakeRfss::bye() {
    std::string target = remote_target_;
    const std::size_t at = target.find('@');
    if (at != std::string::npos) {
        std::size_t end = target.find_first_of(":;", at);
        target = target.substr(0, at + 1) + "p25dr" +
                 (end == std::string::npos ? std::string() : target.substr(end));
    }
    std::string b;
    b += "BYE " + target + " SIP/2.0\r\n";
    b += "Call-ID: " + call_id_ + "\r\nCSeq: 2 BYE\r\n";
    b += "From: <" + groupUri() + ">;tag=" + from_tag_ + "\r\n";
    b += "To: <" + groupUri() + ">;tag=" + to_tag_ + "\r\n";
    b += "Via: SIP/2.0/UDP " + domain(cfg_.rfss) + ";branch=z9hG4bK" + std::to_string(++branch_) +
         "\r\n";
    b += "Max-Forwards: 70\r\nTimestamp: " + std::to_string(wallMs()) + "\r\n";
    b += "Content-Length: 0\r\n\r\n";
    bye_ = b;
    sendSip(bye_);
    bye_retx_.start();
    heartbeat_tx_.stop();
    heartbeat_rx_.stop();
}

void FakeRfss::onSip(const std::string& msg) {
    if (msg.rfind("SIP/2.0 ", 0) == 0) {
        const int status = std::stoi(msg.substr(8, 3));
        const std::string cseq = header(msg, "CSeq");
        if (cseq.find("INVITE") != std::string::npos) {
            onInviteResponse(msg, status);
        } else if (cseq.find("BYE") != std::string::npos && status >= 200) {
            bye_status_ = status;
            bye_retx_.stop();
        }
        return;
    }
    if (msg.rfind("BYE ", 0) == 0) {
        // GroupCallControlManager.processBye: 200 OK, the call segment ends.
        bye_from_home_ = true;
        std::string r = "SIP/2.0 200 OK\r\n";
        for (const char* h : {"Via", "From", "To", "Call-ID", "CSeq"}) {
            r += std::string(h) + ": " + header(msg, h) + "\r\n";
        }
        r += "Content-Length: 0\r\n\r\n";
        sendSip(r);
        heartbeat_tx_.stop();
        heartbeat_rx_.stop();
    }
}

// RtpPacket as PttSession.sendPttPacket fills it: V 2, P 0, X 0, CC 0, M 0, PT 100, the
// session's timestamp, SSRC = LinkType.GROUP_SERVING (2).
void FakeRfss::sendRtp(const Bytes& payload) {
    Bytes p{0x80, 100, static_cast<std::uint8_t>(rtp_seq_ >> 8),
            static_cast<std::uint8_t>(rtp_seq_)};
    ++rtp_seq_;
    rfssPut32(p, rtp_ts_);
    rfssPut32(p, 2);
    p.insert(p.end(), payload.begin(), payload.end());
    rtp_.sendTo(home_rtp_port_, p);
    rtp_sent_.push_back(p);
}

// P25Payload(ISSIPacketType, PTTControlWord, ...) + getBytes for a packet without voice:
// control octet S(1) C(0) BHC(6); verbose block headers E=1 (PROFILE_SPECIFIC_TYPE) BT TSO BL;
// ISSIPacketType.getBytes M PT SO TSN L interval (interval THEARTBEAT / 1000 = 10, as
// TimerValues states it); PTTControlWord.getBytes WACN SYS UNIT TP (TransmitPriorityType
// NORMAL 0, level 0: SmfSession). Service options: the static ServiceOptions() of PttSession,
// never changed: priority level 4, nothing else (0x04).
Bytes FakeRfss::packetType(std::uint8_t type, std::uint8_t tsn, bool signal,
                           bool control_word) const {
    Bytes b{static_cast<std::uint8_t>((signal ? 0x80 : 0) | (control_word ? 2 : 1))};
    rfssPut32(b, (1u << 31) | (std::uint32_t{kBtPacketType} << 24) | 4);
    if (control_word) {
        rfssPut32(b, (1u << 31) | (std::uint32_t{kBtControlWord} << 24) | 8);
    }
    rfssPut32(b, (std::uint32_t{type} << 24) | (0x04u << 16) | (std::uint32_t{tsn} << 9) | 10);
    if (control_word) {
        rfssPut32(b, ((cfg_.wacn & 0xFFFFF) << 12) | (cfg_.system & 0xFFF));
        rfssPut32(b, (cfg_.unit & 0xFFFFFF) << 8);
    }
    return b;
}

// SmfTransmitter.sendSpurtRequest -> RequestTask: a PTT Request now and every TREQUEST; after
// two, REQUEST_TIMEOUT with localPolicyTransition FAIL_ON_TIMEOUT: a PTT End.
void FakeRfss::sendSpurt() {
    request_tries_ = 0;
    granted_ = false;
    header_word_sent_ = false;
    next_block_ = 0;
    sendRequest();
    request_.start();
}

void FakeRfss::sendRequest() {
    // createPttPacket(PTT_TRANSMIT_REQUEST, ...): packet type + PTT control word, S = 0.
    sendRtp(packetType(kRequest, tsn_, false, true));
    ++request_tries_;
}

// AudioSourceTransmitter.run -> PttSession.createPttTransmitProgress: 3 IMBE blocks per
// packet (NUM_IMBE_BLOCKS_PER_PACKET), the RTP timestamp advanced by 2500 per block first,
// the header word in the first Progress of the spurt (VBB = blocks in the packet, SF the
// superframe counter, MFID 0x90, NID 0xF7F0, the group), IMBE block headers with TSO
// i * IMBE_TIME_OFFSET (160). The IMBE blocks as IMBEVoiceDataGenerator builds them: FT
// from IMBE_FRAME_TYPES, status bytes all 0 but SF, the frame-type extras.
void FakeRfss::sendProgress() {
    const std::uint32_t total = 18 * cfg_.superframes;
    const std::uint32_t n = std::min<std::uint32_t>(3, total - next_block_);
    rtp_ts_ += 2500 * n;
    struct Block {
        std::uint8_t bt;
        std::uint16_t tso;
        Bytes bytes;
    };
    std::vector<Block> blocks;
    const std::uint32_t sf0 = next_block_ / 18;
    if (!header_word_sent_) {
        const lmr::p25::Mi mi0 = cipher_.miOf(sf0);
        Bytes hw(mi0.begin(), mi0.end());  // MI (72)
        hw.push_back(cfg_.algid);
        hw.push_back(static_cast<std::uint8_t>(cfg_.kid >> 8));
        hw.push_back(static_cast<std::uint8_t>(cfg_.kid));
        hw.push_back(0x90);  // MFID: Motorola
        hw.push_back(static_cast<std::uint8_t>(cfg_.group >> 8));
        hw.push_back(static_cast<std::uint8_t>(cfg_.group));
        hw.push_back(0xF7);  // NID 63472: NAC 0xF7F, DUID 0
        hw.push_back(0xF0);
        hw.push_back(static_cast<std::uint8_t>(((sf0 & 3) << 6) | (n << 4)));
        blocks.push_back({kBtHeaderWord, 0, hw});
        header_word_sent_ = true;
    }
    static constexpr std::uint8_t kFt[18] = {0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0x6A,
                                             0xCB, 0xCC, 0x6D, 0x6E, 0x6F, 0x70, 0x71, 0x72, 0x73};
    for (std::uint32_t k = 0; k < n; ++k, ++next_block_) {
        const std::uint32_t sf = next_block_ / 18;
        const auto idx = static_cast<std::uint8_t>(next_block_ % 18);
        harness::Imbe11 imbe = harness::p25Canary(cfg_.tag, cfg_.nonce, sf, idx);
        (void)cipher_.applyImbe(sf, idx, MutableByteView(imbe.data(), imbe.size()));
        Bytes v{kFt[idx]};
        v.insert(v.end(), imbe.begin(), imbe.end());
        v.push_back(0);
        v.push_back(static_cast<std::uint8_t>((sf & 3) << 2));  // Et Er M L E4 E1 SF Rsvd
        if (idx == 8 || idx == 17) {
            v.insert(v.end(), {0, 0, 0});  // low speed data
        } else if (idx >= 11 && idx <= 13) {
            const lmr::p25::Mi next = cipher_.miOf(sf + 1);  // the ES: next superframe's MI
            const std::size_t third = (idx - 11) * 3;
            v.insert(v.end(), {next[third], next[third + 1], next[third + 2], 0});
        } else if (idx == 14) {
            v.insert(v.end(), {cfg_.algid, static_cast<std::uint8_t>(cfg_.kid >> 8),
                               static_cast<std::uint8_t>(cfg_.kid), 0});
        } else if (idx == 15) {
            v.insert(v.end(), {0xAC, 0xB8, 0xA4, 0});  // NIST's constant ES parity bytes
        } else if (idx == 16) {
            v.insert(v.end(), {0x9B, 0xDC, 0x75, 0});
        }
        blocks.push_back({kBtImbe, static_cast<std::uint16_t>(k * 160), v});
        ++blocks_sent_;
    }
    Bytes b{static_cast<std::uint8_t>(0x80 | (2 + blocks.size()))};
    rfssPut32(b, (1u << 31) | (std::uint32_t{kBtPacketType} << 24) | 4);
    rfssPut32(b, (1u << 31) | (std::uint32_t{kBtControlWord} << 24) | 8);
    for (const auto& bl : blocks) {
        rfssPut32(b, (1u << 31) | (std::uint32_t{bl.bt} << 24) | (std::uint32_t{bl.tso} << 10) |
                         static_cast<std::uint32_t>(bl.bytes.size()));
    }
    const Bytes head = packetType(kProgress, tsn_, true, true);
    b.insert(b.end(), head.begin() + 9, head.end());  // packet type + control word payloads
    for (const auto& bl : blocks) {
        b.insert(b.end(), bl.bytes.begin(), bl.bytes.end());
    }
    sendRtp(b);
    ++progress_sent_;
}

// sendSpurtEndNotification -> createPttEndForUnitId: packet type only (no control word for
// PTT_TRANSMIT_END), the unit's TSN, S = 0; one End (REND could be up to 4).
void FakeRfss::sendEnd() {
    sendRtp(packetType(kEnd, tsn_, false, false));
    spurt_done_ = true;
}

// PttSession.createHeartbeatConnection: TSN 0, M 0, L 0, S 0, no other block.
void FakeRfss::sendHeartbeat() {
    sendRtp(packetType(kHeartbeat, 0, false, false));
}

// HeartbeatTransmitter.sendHeartbeatQuery -> PttSession.createHeartbeatQuery.
void FakeRfss::sendHeartbeatQuery() {
    sendRtp(packetType(kHeartbeatQuery, 0, false, false));
}

// P25Payload(byte[]): the control octet's block count, verbose block headers (C = 0; iwfd
// never sends compact ones), then PttSession.handleIncomingPttPacket for what the serving
// side does with it.
void FakeRfss::onRtp(ByteView d) {
    if (d.size() < 13 || d[1] != 100) {
        return;
    }
    RfssRx r;
    r.ssrc = (std::uint32_t{d[8]} << 24) | (std::uint32_t{d[9]} << 16) |
             (std::uint32_t{d[10]} << 8) | d[11];
    const std::uint8_t co = d[12];
    r.signal = (co & 0x80) != 0;
    const std::size_t bhc = co & 0x3F;
    std::size_t off = 13 + 4 * bhc;
    for (std::size_t i = 0; i < bhc && off <= d.size(); ++i) {
        const std::size_t h = 13 + 4 * i;
        const std::uint8_t bt = d[h] & 0x7F;
        const std::size_t bl = ((d[h + 2] & 0x03) << 8) | d[h + 3];
        if (off + bl > d.size()) {
            return;
        }
        if (bt == kBtPacketType && bl == 4) {
            r.type = d[off] & 0x7F;
            r.service_options = d[off + 1];
            r.tsn = d[off + 2] >> 1;
            r.interval = d[off + 3];
        } else if (bt == kBtControlWord) {
            r.has_control_word = true;
        }
        off += bl;
    }
    rx_.push_back(r);
    if (r.tsn == 0 && r.type == kHeartbeat) {
        // HeartbeatReceiver: reset to 4 x the interval the packet announces.
        ++heartbeats_rx_;
        if (heartbeat_rx_.isRunning()) {
            heartbeat_rx_.setTimeout(std::chrono::seconds(4 * r.interval));
            heartbeat_rx_.start();
        }
        return;
    }
    if (r.tsn == 0 && r.type == kHeartbeatQuery) {
        ++queries_answered_;
        sendHeartbeat();
        return;
    }
    // verifyPttPacket (SMF): Grant/Deny/Wait/Mute/Unmute need an even TSN of our own.
    if ((r.type == kGrant || r.type == kDeny) && r.tsn != tsn_) {
        ++dropped_tsn_;
        return;
    }
    if (r.type == kGrant && request_.isRunning()) {
        request_.stop();
        granted_ = true;
        audio_.start();
        sendProgress();  // AudioSourceTransmitter: the first packet at once
    } else if (r.type == kDeny && request_.isRunning()) {
        request_.stop();
        sendEnd();
    }
}

void FakeRfss::clock(std::int64_t ms) {
    std::uint16_t from = 0;
    while (auto d = sip_.read(&from)) {
        onSip(std::string(d->begin(), d->end()));
    }
    while (auto d = rtp_.read(&from)) {
        onRtp(*d);
    }
    for (PeerTimer* t :
         {&invite_retx_, &bye_retx_, &request_, &audio_, &heartbeat_tx_, &heartbeat_rx_}) {
        t->clock(ms);
    }
    if (invite_retx_.hasExpired()) {
        sendSip(invite_);
        invite_retx_.start();
    }
    if (bye_retx_.hasExpired()) {
        sendSip(bye_);
        bye_retx_.start();
    }
    if (request_.hasExpired()) {
        if (request_tries_ < 2) {
            sendRequest();
            request_.start();
        } else {
            request_.stop();
            request_timed_out_ = true;
            sendEnd();
        }
    }
    if (audio_.hasExpired()) {
        if (next_block_ < 18 * cfg_.superframes) {
            sendProgress();
            audio_.start();
        } else {
            audio_.stop();
            sendEnd();
        }
    }
    if (heartbeat_tx_.hasExpired()) {
        sendHeartbeat();
        heartbeat_tx_.start();
    }
    if (heartbeat_rx_.hasExpired()) {
        // GroupServing.heartbeatTimeout: shut the SMF sessions down, BYE.
        ++heartbeat_timeouts_;
        heartbeat_rx_.stop();
        audio_.stop();
        bye();
    }
}

}  // namespace iwf::test::peers
