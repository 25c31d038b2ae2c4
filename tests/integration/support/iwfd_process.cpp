#include "tests/integration/support/iwfd_process.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace iwf::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "iwf-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = buf.data();
    // Services started as unprivileged users (PostgreSQL) need to reach into it.
    fs::permissions(path_, fs::perms::all);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
    std::string p = file(name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds step) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (cond()) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(step);
    }
}

namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void readAll(int fd, std::string& into) {
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            return;
        }
        into.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::string& stdin_text) {
    CommandResult r;
    int out_pipe[2];
    int err_pipe[2];
    int in_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0 || pipe(in_pipe) != 0) {
        return r;
    }
    // Built before the fork: the child of a threaded process may only call async-signal-safe
    // functions until exec (no allocation).
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        for (int fd :
             {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], in_pipe[0], in_pipe[1]}) {
            close(fd);
        }
        execv(args[0], args.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(in_pipe[0]);
    if (!stdin_text.empty()) {
        ssize_t w = ::write(in_pipe[1], stdin_text.data(), stdin_text.size());
        (void)w;
    }
    close(in_pipe[1]);
    fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    bool done = false;
    while (!done) {
        pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
        poll(fds, 2, 20);
        readAll(out_pipe[0], r.out);
        readAll(err_pipe[0], r.err);
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            done = true;
        } else if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            r.err += "\n[runCommand: timed out, killed]\n";
            close(out_pipe[0]);
            close(err_pipe[0]);
            return r;
        }
    }
    readAll(out_pipe[0], r.out);
    readAll(err_pipe[0], r.err);
    close(out_pipe[0]);
    close(err_pipe[0]);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

HttpResult httpGet(std::uint16_t port, const std::string& path, const std::string& host) {
    HttpResult r;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return r;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return r;
    }
    std::string req =
        "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        close(fd);
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
    close(fd);
    if (resp.rfind("HTTP/1.1 ", 0) != 0 || resp.size() < 12) {
        return r;
    }
    r.status = std::atoi(resp.substr(9, 3).c_str());
    auto hdr_end = resp.find("\r\n\r\n");
    if (hdr_end != std::string::npos) {
        r.body = resp.substr(hdr_end + 4);
    }
    return r;
}

IwfdProcess::~IwfdProcess() {
    if (pid_ > 0 && !exit_) {
        kill(pid_, SIGKILL);
        int st = 0;
        waitpid(pid_, &st, 0);
    }
}

bool IwfdProcess::start(const TempDir& dir, const std::string& config_yaml,
                        std::chrono::milliseconds timeout, const std::string& binary) {
    // A process object may start iwfd again after the last one exited (restart tests).
    exit_.reset();
    port_ = 0;
    std::string cfg = config_yaml;
    std::string port_file = dir.file("admin.port");
    std::remove(port_file.c_str());
    if (cfg.find("admin:") == std::string::npos) {
        cfg += "\nadmin:\n  address: 127.0.0.1\n  port: 0\n  port_file: " + port_file + "\n";
    }
    config_path_ = dir.write("iwfd.yaml", cfg);
    log_path_ = dir.file("iwfd.log");
    pid_ = fork();
    if (pid_ == 0) {
        int fd = open(log_path_.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        close(fd);
        execl(binary.c_str(), binary.c_str(), "--config", config_path_.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    bool up = waitFor(
        [&] {
            if (!running()) {
                return true;  // stop waiting: it died
            }
            std::string p = readFile(port_file);
            if (p.empty()) {
                return false;
            }
            port_ = static_cast<std::uint16_t>(std::atoi(p.c_str()));
            // Liveness, not readiness: most tests run iwfd without a keymap, and /healthz says
            // "not ready" until a keymap revision is loaded.
            return httpGet(port_, "/livez").status == 200;
        },
        timeout);
    return up && running() && port_ != 0;
}

std::string IwfdProcess::log() const {
    return readFile(log_path_);
}

bool IwfdProcess::running() {
    if (pid_ <= 0 || exit_) {
        return false;
    }
    int st = 0;
    pid_t w = waitpid(pid_, &st, WNOHANG);
    if (w == pid_) {
        exit_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return false;
    }
    return true;
}

void IwfdProcess::signal(int sig) {
    if (pid_ > 0 && !exit_) {
        kill(pid_, sig);
    }
}

std::optional<int> IwfdProcess::waitExit(std::chrono::milliseconds timeout) {
    waitFor([&] { return !running(); }, timeout, std::chrono::milliseconds(5));
    return exit_;
}

std::optional<double> prometheusValue(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(series + " ", 0) == 0) {
            return std::strtod(line.c_str() + series.size() + 1, nullptr);
        }
    }
    return std::nullopt;
}

}  // namespace iwf::test
