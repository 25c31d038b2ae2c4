// SIP message parser + multipart bodies + fault classification + header pieces.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "sip/multipart.hpp"
#include "sip/transport.hpp"

using namespace iwf::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto m = parseMessage(text);
    if (m) {
        // Round trip must be a fixed point.
        const std::string once = m->serialize();
        auto again = parseMessage(std::string_view(once));
        if (!again || again->serialize() != once) {
            __builtin_trap();
        }
        if (m->isRequest()) {
            (void)checkRequest(*m);
            (void)makeResponse(*m, 400, "Bad Request", "t").serialize();
        }
        for (const auto& v : m->headers("Via")) {
            (void)parseVia(v);
        }
        for (const char* h : {"From", "To", "Contact", "P-Asserted-Identity"}) {
            if (auto v = m->header(h)) {
                (void)parseNameAddr(*v);
            }
        }
        (void)parseUri(m->requestUri());
        if (auto ct = m->header("Content-Type")) {
            auto mp = parseMultipart(m->body(), *ct);
            if (mp) {
                auto back = parseMultipart(mp->toString(), mp->contentType());
                if (!back || back->parts != mp->parts) {
                    __builtin_trap();
                }
            }
        }
    } else {
        (void)classifyFault(text);
    }
    StreamFramer f;
    f.append(text);
    std::string out;
    for (int i = 0; i < 8 && f.next(out) == StreamFramer::Next::Message; ++i) {
    }
    return 0;
}
