#include "gateway/ops_cli/admin_client.hpp"

#include <charconv>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/asio.hpp"

namespace iwf::ops {

namespace beast = boost::beast;
namespace http = beast::http;

AdminUrl parseAdminUrl(std::string_view url) {
    AdminUrl u;
    u.text = std::string(url);
    auto bad = [&](const std::string& why) {
        return OpsError(kExitUsage, "--admin " + u.text + ": " + why +
                                        " (expected http://HOST[:PORT], e.g. "
                                        "http://127.0.0.1:9100)");
    };
    constexpr std::string_view kScheme = "http://";
    if (url.substr(0, 8) == "https://") {
        throw bad(
            "https is not spoken by iwfctl; the admin endpoint is plain HTTP on loopback "
            "(use an SSH tunnel to reach another host)");
    }
    if (url.substr(0, kScheme.size()) != kScheme) {
        throw bad("not an http:// URL");
    }
    std::string_view rest = url.substr(kScheme.size());
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        u.prefix = std::string(rest.substr(slash));
        while (!u.prefix.empty() && u.prefix.back() == '/') {
            u.prefix.pop_back();
        }
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            throw bad("unclosed [ in the host");
        }
        u.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                throw bad("junk after ]");
            }
            port_text = after.substr(1);
        }
    } else {
        const std::size_t colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
        }
    }
    if (u.host.empty()) {
        throw bad("no host");
    }
    if (!port_text.empty() || authority.back() == ':') {
        unsigned p = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || p == 0 ||
            p > 65535) {
            throw bad("the port is not a number from 1 to 65535");
        }
        u.port = static_cast<std::uint16_t>(p);
    }
    return u;
}

AdminReply adminRequest(const AdminUrl& url, std::string_view method, std::string_view path,
                        std::string_view bearer, std::chrono::milliseconds timeout) {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    http::request<http::string_body> req{
        http::string_to_verb(beast::string_view(method.data(), method.size())),
        url.prefix + std::string(path), 11};
    req.set(http::field::host, url.host + ":" + std::to_string(url.port));
    req.set(http::field::user_agent, "iwfctl/" IWF_VERSION);
    req.set(http::field::accept, "application/json");
    if (!bearer.empty()) {
        req.set(http::field::authorization, "Bearer " + std::string(bearer));
    }
    req.prepare_payload();

    boost::system::error_code failed;
    std::string step = "resolve";
    bool done = false;
    auto fail = [&](const boost::system::error_code& ec, const char* what) {
        failed = ec;
        step = what;
        done = true;
    };
    // One deadline for everything (the stream's timer covers connect, write and read; the
    // resolver and run_for() cover the rest).
    stream.expires_after(timeout);
    resolver.async_resolve(
        url.host, std::to_string(url.port),
        [&](const boost::system::error_code& ec, asio::ip::tcp::resolver::results_type r) {
            if (ec) {
                return fail(ec, "resolve");
            }
            stream.async_connect(r, [&](const boost::system::error_code& ec2,
                                        const asio::ip::tcp::endpoint&) {
                if (ec2) {
                    return fail(ec2, "connect");
                }
                http::async_write(
                    stream, req, [&](const boost::system::error_code& ec3, std::size_t) {
                        if (ec3) {
                            return fail(ec3, "send");
                        }
                        http::async_read(stream, buffer, res,
                                         [&](const boost::system::error_code& ec4, std::size_t) {
                                             if (ec4) {
                                                 return fail(ec4, "read the answer");
                                             }
                                             done = true;
                                         });
                    });
            });
        });
    io.run_for(timeout + std::chrono::milliseconds(100));
    if (!done) {
        throw OpsError(kExitUnreachable, "cannot reach iwfd at " + url.text +
                                             ": no answer within " +
                                             std::to_string(timeout.count()) + " ms");
    }
    if (failed) {
        const std::string why = failed == beast::error::timeout
                                    ? "timed out after " + std::to_string(timeout.count()) + " ms"
                                    : failed.message();
        throw OpsError(kExitUnreachable,
                       "cannot reach iwfd at " + url.text + " (" + step + "): " + why);
    }
    boost::system::error_code ignore;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignore);
    AdminReply out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    out.content_type = std::string(res[http::field::content_type]);
    return out;
}

std::string bearerSecret(std::string_view token_text) {
    // As iwfd reads admin.token_file (gateway/config/daemon_config.cpp): the first line, white
    // space at its end dropped, split at the first ':'.
    std::string_view line = token_text.substr(0, token_text.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
    }
    const std::size_t colon = line.find(':');
    return std::string(colon == std::string_view::npos ? line : line.substr(colon + 1));
}

}  // namespace iwf::ops
