#pragma once
// The HTTP client of iwfctl's live commands: one request to iwfd's admin endpoint
// (docs/operations.md), as any outside client would make it: iwfctl knows iwfd only through
// the admin API, never through the daemon's or the engine's code.
//
// Plain HTTP/1.1 over TCP (the admin endpoint binds to loopback by default; reach a remote one
// through an SSH tunnel or a TLS proxy). Every step has one deadline (connect, send, the
// whole answer); a daemon that is not there, does not answer in time or answers something
// that is not HTTP is "cannot reach" (exit code 3), never a hang.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace iwf::ops {

// iwfctl's exit codes for the live commands (README "iwfctl exit codes"). 0-2 are the same as
// every other iwfctl command (keymap, decode): 1 refused, 2 usage or local I/O error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // iwfd refused the request (reload: 409, bad config)
inline constexpr int kExitUsage = 2;        // bad option or URL, token file unreadable
inline constexpr int kExitUnreachable = 3;  // no connection, timeout, not an HTTP answer
inline constexpr int kExitAuth = 4;         // 401 (no or wrong token) or 403 (none configured)
inline constexpr int kExitNotFound = 5;     // 404: no such call, link or route
inline constexpr int kExitServer = 6;       // any other error status, or a body not JSON

// An error with the exit code it ends iwfctl with.
class OpsError : public std::runtime_error {
  public:
    OpsError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

struct AdminUrl {
    std::string host;
    std::uint16_t port = 9100;
    std::string prefix;  // path before /v1/... ("" or e.g. "/iwf" behind a proxy)
    std::string text;    // as given, for messages
};

// "http://host[:port][/prefix]" (host: name, IPv4 or [IPv6]); throws OpsError(kExitUsage).
AdminUrl parseAdminUrl(std::string_view url);

struct AdminReply {
    unsigned status = 0;
    std::string body;
    std::string content_type;
};

// One request; `bearer` (may be empty) goes in `Authorization: Bearer`. Throws
// OpsError(kExitUnreachable) when there is no HTTP answer within `timeout`.
AdminReply adminRequest(const AdminUrl& url, std::string_view method, std::string_view path,
                        std::string_view bearer, std::chrono::milliseconds timeout);

// The secret of a token file or IWF_ADMIN_TOKEN value: iwfd's admin.token_file holds
// "NAME:SECRET" or "SECRET" (docs/operations.md); the bearer token is the SECRET. Read as iwfd
// reads it: the first line, white space at its end ignored.
std::string bearerSecret(std::string_view token_text);

}  // namespace iwf::ops
