#include "harness/runner/admin_client.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace iwf::harness {

std::string adminGet(std::uint16_t port, const std::string& path, std::chrono::seconds timeout) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return {};
    }
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        const std::string req =
            "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
            char buf[8192];
            ssize_t n = 0;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
                out.append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    const auto body = out.find("\r\n\r\n");
    return body == std::string::npos ? std::string{} : out.substr(body + 4);
}

std::optional<double> metricTotal(const std::string& text, const std::string& name,
                                  const std::vector<std::string>& needles) {
    std::optional<double> sum;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name, 0) != 0 || line.size() <= name.size() ||
            (line[name.size()] != '{' && line[name.size()] != ' ')) {
            continue;
        }
        bool all = true;
        for (const auto& n : needles) {
            all = all && line.find(n) != std::string::npos;
        }
        const auto sp = line.rfind(' ');
        if (!all || sp == std::string::npos) {
            continue;
        }
        sum = sum.value_or(0.0) + std::strtod(line.c_str() + sp + 1, nullptr);
    }
    return sum;
}

}  // namespace iwf::harness
