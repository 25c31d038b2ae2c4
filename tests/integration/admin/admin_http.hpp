#pragma once
// Test support: HTTP/1.1 requests to iwfd's admin API with any method and headers, and a
// Server-Sent Events reader (GET /v1/events), over plain sockets on 127.0.0.1 (no code of
// iwfd's admin server). Header-only.

#include <arpa/inet.h>
#include <chrono>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

namespace iwf::test {

struct HttpReply {
    int status = 0;                              // 0: no answer
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
};

inline int connectLoopback(std::uint16_t port, int recv_timeout_s = 10) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    timeval tv{recv_timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline std::map<std::string, std::string> parseHeaders(const std::string& head) {
    std::map<std::string, std::string> h;
    std::size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
        const auto next = head.find("\r\n", pos + 2);
        const std::string line =
            head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (auto& ch : name) {
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.erase(0, 1);
            }
            h[name] = value;
        }
        pos = next;
    }
    return h;
}

inline HttpReply httpRequest(std::uint16_t port, const std::string& method, const std::string& path,
                             const std::vector<std::string>& headers = {},
                             const std::string& body = "") {
    HttpReply r;
    int fd = connectLoopback(port);
    if (fd < 0) {
        return r;
    }
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& h : headers) {
        req += h + "\r\n";
    }
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        ::close(fd);
        return r;
    }
    std::string resp;
    char buf[8192];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        resp.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (resp.rfind("HTTP/1.1 ", 0) != 0 || resp.size() < 12) {
        return r;
    }
    r.status = std::atoi(resp.substr(9, 3).c_str());
    const auto hdr_end = resp.find("\r\n\r\n");
    if (hdr_end != std::string::npos) {
        r.headers = parseHeaders(resp.substr(0, hdr_end));
        r.body = resp.substr(hdr_end + 4);
    }
    return r;
}

}  // namespace iwf::test
