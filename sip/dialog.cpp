#include "sip/dialog.hpp"

#include <algorithm>

namespace iwf::sip {

namespace {

std::string stripTag(const std::string& value) {
    auto na = parseNameAddr(value);
    if (!na) {
        return value;
    }
    na->tag.clear();
    return formatNameAddr(*na);
}

std::string contactUri(const Message& m) {
    auto c = m.header("Contact");
    if (!c) {
        return {};
    }
    auto na = parseNameAddr(*c);
    return na ? na->uri : std::string();
}

std::vector<std::string> splitRoutes(const std::vector<std::string>& values) {
    // Record-Route may carry several comma-separated entries; keep each "<...>" separately.
    std::vector<std::string> out;
    for (const auto& v : values) {
        std::size_t pos = 0;
        while (pos < v.size()) {
            auto lt = v.find('<', pos);
            if (lt == std::string::npos) {
                break;
            }
            auto gt = v.find('>', lt);
            if (gt == std::string::npos) {
                break;
            }
            auto comma = v.find(',', gt);
            out.push_back(v.substr(lt, (comma == std::string::npos ? v.size() : comma) - lt));
            pos = comma == std::string::npos ? v.size() : comma + 1;
        }
    }
    return out;
}

}  // namespace

Dialog Dialog::asUac(const Message& request, const Message& response, const Peer& peer) {
    Dialog d;
    d.call_id_ = request.callId();
    d.local_tag_ = request.fromTag();
    d.remote_tag_ = response.toTag();
    d.local_uri_ = stripTag(request.header("From").value_or(""));
    d.remote_uri_ = stripTag(request.header("To").value_or(""));
    d.remote_target_ = contactUri(response);
    if (d.remote_target_.empty()) {
        d.remote_target_ = request.requestUri();
    }
    auto rr = splitRoutes(response.headers("Record-Route"));
    std::reverse(rr.begin(), rr.end());
    d.route_set_ = std::move(rr);
    d.local_cseq_ = request.cseqNumber();
    d.peer_ = peer;
    return d;
}

Dialog Dialog::asUas(const Message& request, std::string local_tag, const Peer& peer) {
    Dialog d;
    d.call_id_ = request.callId();
    d.local_tag_ = std::move(local_tag);
    d.remote_tag_ = request.fromTag();
    d.local_uri_ = stripTag(request.header("To").value_or(""));
    d.remote_uri_ = stripTag(request.header("From").value_or(""));
    d.remote_target_ = contactUri(request);
    d.route_set_ = splitRoutes(request.headers("Record-Route"));
    d.remote_cseq_ = request.cseqNumber();
    d.local_cseq_ = 0;
    d.peer_ = peer;
    return d;
}

Message Dialog::makeRequest(std::string_view method) {
    ++local_cseq_;
    Message m = Message::request(
        std::string(method), remote_target_.empty() ? std::string("sip:invalid") : remote_target_);
    for (const auto& r : route_set_) {
        m.addHeader("Route", r);
    }
    m.addHeader("From", local_uri_ + ";tag=" + local_tag_);
    m.addHeader("To", remote_uri_ + (remote_tag_.empty() ? "" : ";tag=" + remote_tag_));
    m.addHeader("Call-ID", call_id_);
    m.addHeader("CSeq", std::to_string(local_cseq_) + " " + std::string(method));
    return m;
}

Message Dialog::makeAck(std::uint32_t invite_cseq) const {
    Message m = Message::request(
        "ACK", remote_target_.empty() ? std::string("sip:invalid") : remote_target_);
    for (const auto& r : route_set_) {
        m.addHeader("Route", r);
    }
    m.addHeader("From", local_uri_ + ";tag=" + local_tag_);
    m.addHeader("To", remote_uri_ + (remote_tag_.empty() ? "" : ";tag=" + remote_tag_));
    m.addHeader("Call-ID", call_id_);
    m.addHeader("CSeq", std::to_string(invite_cseq) + " ACK");
    return m;
}

bool Dialog::acceptRemoteCseq(const Message& request) {
    const auto n = request.cseqNumber();
    if (remote_cseq_ != 0 && n <= remote_cseq_) {
        return false;
    }
    remote_cseq_ = n;
    return true;
}

void Dialog::refreshTarget(const Message& m) {
    auto c = contactUri(m);
    if (!c.empty()) {
        remote_target_ = c;
    }
}

DialogId Dialog::idOfIncoming(const Message& m) {
    if (m.isRequest()) {
        return {m.callId(), m.toTag(), m.fromTag()};
    }
    return {m.callId(), m.fromTag(), m.toTag()};
}

}  // namespace iwf::sip
