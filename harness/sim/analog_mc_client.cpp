#include "harness/sim/analog_mc_client.hpp"

#include <algorithm>

#include "mc_adapters/rtp/rtp_packet.hpp"
#include "media/amr_payload.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"

namespace iwf::harness {

namespace {
std::int64_t analogMcNowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

struct AnalogMcClient::Call {
    Call(asio::io_context& io, metrics::Registry& reg) : rtp(io), floor(io, reg, "analog-mc") {}
    asio::ip::udp::socket rtp;
    mc::rtp::FloorEndpoint floor;
    asio::ip::udp::endpoint iwf_rtp;
    mc::mcptt::AmrWbParams params;
    std::uint8_t payload_type = 96;
    std::unique_ptr<media::AmrWbDecoder> dec;
    std::unique_ptr<media::AmrWbEncoder> enc;
    std::vector<std::int16_t> heard;
    std::vector<std::int64_t> heard_at;
    std::optional<std::uint32_t> first_ts;
    std::size_t frames = 0;
    std::vector<mc::floor::MessageType> floor_msgs;
};

AnalogMcClient::AnalogMcClient(asio::io_context& io, metrics::Registry& reg) : io_(io), reg_(reg) {
    sip::StackConfig sc;
    sc.name = "analog-mc";
    sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
    stack_ = std::make_unique<sip::Stack>(io, reg, sc);
    stack_->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        if (req.method() == "INVITE") {
            onInvite(tx, req);
            return;
        }
        (void)stack_->respond(tx, sip::makeResponse(req, 200, {}));  // BYE, MESSAGE, ...
    });
}

AnalogMcClient::~AnalogMcClient() {
    stack_->stop();
}

Status AnalogMcClient::start() {
    return stack_->start();
}

std::uint16_t AnalogMcClient::sipPort() const {
    return stack_->port(sip::Protocol::Udp);
}

void AnalogMcClient::onInvite(sip::ServerTxId tx, const sip::Message& req) {
    auto sdp = sip::parseSdp(sip::bodyOfType(req, sip::kSdpContentType).value_or(""));
    auto offer = sdp ? mc::mcptt::readMcpttSdp(*sdp) : Result<mc::mcptt::McpttMedia>(sdp.error());
    auto call = std::make_unique<Call>(io_, reg_);
    const auto lo = asio::ip::make_address("127.0.0.1");
    boost::system::error_code ec;
    call->rtp.open(asio::ip::udp::v4(), ec);
    call->rtp.bind({lo, 0}, ec);
    call->rtp.non_blocking(true, ec);
    auto dec = media::AmrWbDecoder::create();
    if (!offer || ec || !call->floor.open({lo, 0}).ok() || !dec) {
        (void)stack_->respond(tx, sip::makeResponse(req, 488, {}, stack_->newTag()));
        return;
    }
    call->dec = std::move(*dec);
    mc::mcptt::McpttMedia ours;
    ours.address = "127.0.0.1";
    ours.audio_port = call->rtp.local_endpoint().port();
    ours.floor_port = call->floor.localEndpoint().port();
    ours.accept_amr_wb = true;
    auto answer = mc::mcptt::answerMedia(*offer, ours);
    auto params = answer ? mc::mcptt::parseAmrWbFmtp(answer->audio_fmtp)
                         : Result<mc::mcptt::AmrWbParams>(Error{"no_answer"});
    if (!answer || answer->encoding != mc::mcptt::kAmrWbEncoding || !params) {
        (void)stack_->respond(tx, sip::makeResponse(req, 488, {}, stack_->newTag()));
        return;
    }
    call->params = *params;
    call->payload_type = offer->payload_type;
    call->iwf_rtp = {asio::ip::make_address(offer->address), offer->audio_port};
    call->floor.setRemote({asio::ip::make_address(offer->address), offer->floor_port});
    Call* raw = call.get();
    call->floor.onMessage([raw](const mc::floor::FloorMessage& m, const mc::rtp::Udp::endpoint&) {
        raw->floor_msgs.push_back(m.type);
    });
    call_ = std::move(call);
    sip::Message ok = sip::makeResponse(req, 200, {}, stack_->newTag());
    ok.addHeader("Contact", "<" + stack_->contactUri("analog-mc", sip::Protocol::Udp) + ">");
    ok.setBody(mc::mcptt::buildMcpttSdp(*answer, 1).toString(), sip::kSdpContentType);
    (void)stack_->respond(tx, std::move(ok));
}

void AnalogMcClient::poll(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
    readRtp();
}

void AnalogMcClient::readRtp() {
    if (!call_) {
        return;
    }
    Call& c = *call_;
    for (;;) {
        std::uint8_t buf[1500];
        asio::ip::udp::endpoint from;
        boost::system::error_code ec;
        const std::size_t n = c.rtp.receive_from(asio::buffer(buf), from, 0, ec);
        if (ec) {
            return;
        }
        const std::int64_t now = analogMcNowNs();
        auto rtp = mc::rtp::RtpView::parse(ByteView(buf, n));
        if (!rtp || rtp->payloadType() != c.payload_type) {
            continue;
        }
        auto p = media::decodeAmrPayload({media::AmrCodec::AmrWb, c.params.octet_aligned},
                                         rtp->payload());
        if (!p || p->count != 1) {
            continue;
        }
        if (!c.first_ts) {
            c.first_ts = rtp->timestamp();
        }
        const std::size_t k = (rtp->timestamp() - *c.first_ts) / 320;
        if (k * media::kWbFrameSamples < c.heard.size()) {
            continue;  // late or repeated: its place is taken
        }
        media::WbFrame pcm{};
        while (c.heard.size() < k * media::kWbFrameSamples) {  // lost: the decoder conceals
            c.dec->conceal(pcm);
            c.heard.insert(c.heard.end(), pcm.begin(), pcm.end());
            c.heard_at.push_back(0);
        }
        c.dec->decode(p->frames[0], pcm);
        c.heard.insert(c.heard.end(), pcm.begin(), pcm.end());
        c.heard_at.push_back(now);
        ++c.frames;
    }
}

const std::vector<std::int16_t>& AnalogMcClient::heard() const {
    static const std::vector<std::int16_t> kNone;
    return call_ ? call_->heard : kNone;
}

const std::vector<std::int64_t>& AnalogMcClient::heardAt() const {
    static const std::vector<std::int64_t> kNone;
    return call_ ? call_->heard_at : kNone;
}

std::size_t AnalogMcClient::framesReceived() const {
    return call_ ? call_->frames : 0;
}

bool AnalogMcClient::sawFloor(mc::floor::MessageType t) const {
    return call_ && std::find(call_->floor_msgs.begin(), call_->floor_msgs.end(), t) !=
                        call_->floor_msgs.end();
}

Status AnalogMcClient::requestFloor() {
    return sendFloor(mc::floor::MessageType::FloorRequest);
}

Status AnalogMcClient::releaseFloor() {
    return sendFloor(mc::floor::MessageType::FloorRelease);
}

Status AnalogMcClient::sendFloor(mc::floor::MessageType type) {
    if (!call_) {
        return Error{"no_call"};
    }
    mc::floor::FloorMessage req;
    req.type = type;
    req.ssrc = 0x4D43;
    req.add(mc::floor::FloorPriority{1}).add(mc::floor::UserId{"sip:analog-mc@mc.example"});
    return call_->floor.send(req);
}

Status AnalogMcClient::sendFrame(std::size_t i, const std::int16_t* wb, media::AmrWbMode mode,
                                 bool lose) {
    if (!call_) {
        return Error{"no_call"};
    }
    Call& c = *call_;
    if (!c.enc) {
        auto enc = media::AmrWbEncoder::create(mode);
        if (!enc) {
            return enc.error();
        }
        c.enc = std::move(*enc);
    }
    media::WbFrame pcm;
    std::copy_n(wb, pcm.size(), pcm.begin());
    auto frame = c.enc->encode(pcm);  // encoded even when lost: the encoder state goes on
    if (!frame) {
        return frame.error();
    }
    if (lose) {
        return {};
    }
    media::AmrPayload p;
    p.frames[0] = *frame;
    p.count = 1;
    media::AmrPayloadBuffer amr;
    IWF_TRY_STATUS(
        media::encodeAmrPayload({media::AmrCodec::AmrWb, c.params.octet_aligned}, p, amr));
    // RFC 3550 5.1: V 2, marker on the talk spurt's first packet, sequence i, timestamp
    // i * 320 (16 kHz clock, RFC 4867 4.1).
    Bytes pkt(12, 0);
    pkt[0] = 0x80;
    pkt[1] = static_cast<std::uint8_t>((i == 0 ? 0x80 : 0) | c.payload_type);
    pkt[2] = static_cast<std::uint8_t>(i >> 8);
    pkt[3] = static_cast<std::uint8_t>(i);
    const auto ts = static_cast<std::uint32_t>(i * 320);
    for (int b = 0; b < 4; ++b) {
        pkt[4 + b] = static_cast<std::uint8_t>(ts >> (24 - 8 * b));
    }
    pkt[11] = 0x43;  // SSRC 0x4D43
    pkt[10] = 0x4D;
    pkt.insert(pkt.end(), amr.data(), amr.data() + amr.size());
    boost::system::error_code ec;
    c.rtp.send_to(asio::buffer(pkt), c.iwf_rtp, 0, ec);
    if (ec) {
        return Error{"send_failed"};
    }
    return {};
}

}  // namespace iwf::harness
