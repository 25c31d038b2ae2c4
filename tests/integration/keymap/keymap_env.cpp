#include "keymap_env.hpp"

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdlib.h>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::keymap::test {

namespace {

class PostgresEnv : public ::testing::Environment {
  public:
    // Starts the server on first use.
    std::string url() {
        std::lock_guard<std::mutex> lk(mu_);
        if (!url_.empty()) {
            return url_;
        }
        char tmpl[] = "/tmp/iwf-keymap-pg.XXXXXX";
        char* d = ::mkdtemp(tmpl);
        if (d == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
            return {};
        }
        dir_ = d;
        iwf::test::CommandResult r = iwf::test::runCommand(
            {"/bin/bash", POSTGRES_SH, "start", dir_}, std::chrono::seconds(120));
        if (r.exit_code != 0) {
            ADD_FAILURE() << "postgres.sh start failed (" << r.exit_code << "): " << r.err;
            return {};
        }
        url_ = r.out.substr(0, r.out.find('\n'));
        return url_;
    }

    void TearDown() override {
        std::lock_guard<std::mutex> lk(mu_);
        if (!dir_.empty()) {
            iwf::test::runCommand({"/bin/bash", POSTGRES_SH, "stop", dir_},
                                  std::chrono::seconds(60));
            dir_.clear();
            url_.clear();
        }
    }

  private:
    std::mutex mu_;
    std::string dir_;
    std::string url_;
};

PostgresEnv* env() {
    static PostgresEnv* e = [] {
        auto* p = new PostgresEnv();
        ::testing::AddGlobalTestEnvironment(p);  // gtest owns and tears it down
        return p;
    }();
    return e;
}

// Registered before main() runs the tests, so TearDown happens at the end.
const bool kRegistered = (env(), true);

}  // namespace

std::string freshPostgresDatabase() {
    (void)kRegistered;
    std::string base = env()->url();
    if (base.empty()) {
        return {};
    }
    static std::atomic<int> n{0};
    std::string name = "keymap_t" + std::to_string(::getpid()) + "_" + std::to_string(n++);
    PGconn* c = PQconnectdb(base.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        ADD_FAILURE() << "connect " << base << ": " << PQerrorMessage(c);
        PQfinish(c);
        return {};
    }
    PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        ADD_FAILURE() << "CREATE DATABASE: " << PQerrorMessage(c);
    }
    PQclear(r);
    PQfinish(c);
    if (!ok) {
        return {};
    }
    return base.substr(0, base.rfind('/') + 1) + name;
}

std::string examplePath() {
    return std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml";
}

std::string exampleText() {
    std::ifstream in(examplePath());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string edit(std::string text, const std::string& from, const std::string& to) {
    auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << "not in the example: " << from;
    if (pos != std::string::npos) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

}  // namespace iwf::keymap::test
