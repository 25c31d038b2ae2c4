// iwfctl's live commands against the real iwfd (gateway/ops_cli/, README "iwfctl exit codes"):
// human tables and --json, every exit code the README names, --help on every command.
#include <regex>

#include "ops_env.hpp"

namespace iwf::test::ops {
namespace {

CommandResult iwfctl(std::vector<std::string> args) {
    args.insert(args.begin(), IWFCTL_BIN);
    return runCommand(args, 30s);
}

// The row of `table` whose first column is `key` (nullopt if none).
std::optional<std::vector<std::string>> row(const std::string& table, const std::string& key) {
    std::istringstream in(table);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream w(line);
        std::vector<std::string> cols;
        std::string c;
        while (w >> c) {
            cols.push_back(c);
        }
        if (!cols.empty() && cols[0] == key) {
            return cols;
        }
    }
    return std::nullopt;
}

TEST_F(OpsEnv, IwfctlPrintsTablesAndTheSameJsonAsTheApi) {
    ASSERT_NO_FATAL_FAILURE(start(config()));
    lmr::p25::test::UdpPeer radio;
    ASSERT_NO_FATAL_FAILURE(link(radio, "RADIO1"));

    auto st = iwfctl({"status", "--admin", admin()});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    auto inst = row(st.out, "instance");
    ASSERT_TRUE(inst) << st.out;
    EXPECT_EQ((*inst)[1], "ops");
    EXPECT_EQ((*row(st.out, "ready"))[1], "yes") << st.out;

    auto links = iwfctl({"links", "--admin", admin()});
    ASSERT_EQ(links.exit_code, 0) << links.err;
    ASSERT_TRUE(row(links.out, "LINK")) << links.out;  // the header
    auto p25 = row(links.out, "p25");
    ASSERT_TRUE(p25) << links.out;
    // LINK TYPE SIDE STATE LOCAL PEERS ...
    EXPECT_EQ((*p25)[1], "p25-records");
    EXPECT_EQ((*p25)[2], "lmr");
    EXPECT_EQ((*p25)[3], "running");
    EXPECT_EQ((*p25)[4], "127.0.0.1:" + std::to_string(p25_port));
    EXPECT_EQ((*p25)[5], "1");

    auto peers = iwfctl({"peers", "--admin", admin()});
    ASSERT_EQ(peers.exit_code, 0) << peers.err;
    EXPECT_NE(peers.out.find("RADIO1"), std::string::npos) << peers.out;
    EXPECT_NE(peers.out.find("127.0.0.1:" + std::to_string(radio.port())), std::string::npos);

    // --json is iwfd's answer itself.
    for (const std::string cmd : {"links", "peers", "refusals", "calls", "status"}) {
        auto j = iwfctl({cmd, "--json", "--admin", admin()});
        ASSERT_EQ(j.exit_code, 0) << cmd << ": " << j.err;
        auto parsed = nlohmann::json::parse(j.out);
        auto api = getJson(iwfd.adminPort(), "/v1/" + cmd);
        EXPECT_EQ(parsed.begin().key(), api.begin().key()) << cmd;
        if (cmd == "links" || cmd == "peers") {
            EXPECT_EQ(parsed[cmd].size(), api[cmd].size()) << cmd;
        }
    }

    // A refusal shows in the table with its reason and cause.
    transmit(radio, 1002, 4242);
    ASSERT_TRUE(waitFor([&] { return refusalCount() >= 1; }, 10s)) << iwfd.log();
    auto ref = iwfctl({"refusals", "--admin", admin()});
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    std::istringstream lines(ref.out);
    std::string header, first;
    std::getline(lines, header);
    std::getline(lines, first);
    EXPECT_EQ(header.rfind("TIME", 0), 0u) << ref.out;
    EXPECT_TRUE(std::regex_search(
        first, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z +p25 +unknown_group +255 )")))
        << ref.out;
}

TEST_F(OpsEnv, IwfctlCallsWatchRefreshesAndEndsAfterCount) {
    ASSERT_NO_FATAL_FAILURE(start(config(1, false)));
    auto w = iwfctl({"calls", "--watch", "--interval", "0.2", "--count", "3", "--admin", admin()});
    ASSERT_EQ(w.exit_code, 0) << w.err;
    std::size_t frames = 0;
    for (std::size_t p = w.out.find("--- "); p != std::string::npos;
         p = w.out.find("--- ", p + 1)) {
        ++frames;
    }
    EXPECT_EQ(frames, 3u) << w.out;
    EXPECT_NE(w.out.find("0 call(s)"), std::string::npos) << w.out;
    // --json: one document per refresh, one per line.
    auto j = iwfctl(
        {"calls", "--watch", "--json", "--interval", "0.2", "--count", "2", "--admin", admin()});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    std::istringstream in(j.out);
    std::string line;
    std::size_t docs = 0;
    while (std::getline(in, line)) {
        EXPECT_TRUE(nlohmann::json::parse(line).contains("calls")) << line;
        ++docs;
    }
    EXPECT_EQ(docs, 2u);
}

TEST_F(OpsEnv, IwfctlExitCodesAreTheReadmeTable) {
    // 3: nobody at the address (a port nothing listens on).
    const std::uint16_t dead = pickLoopbackPort(PortProtocol::Tcp);
    auto r = iwfctl({"links", "--admin", "http://127.0.0.1:" + std::to_string(dead)});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("cannot reach iwfd"), std::string::npos) << r.err;
    // 2: usage (bad URL, unknown option, missing argument) - as every iwfctl command.
    EXPECT_EQ(iwfctl({"links", "--admin", "ftp://x"}).exit_code, 2);
    EXPECT_EQ(iwfctl({"links", "--admin", "http://127.0.0.1:99999"}).exit_code, 2);
    EXPECT_EQ(iwfctl({"links", "--no-such-option"}).exit_code, 2);
    EXPECT_EQ(iwfctl({"call", "show"}).exit_code, 2);

    ASSERT_NO_FATAL_FAILURE(start(config(1, false)));
    // 5: no such call.
    auto nf = iwfctl({"call", "show", "c-no-such-call", "--admin", admin()});
    EXPECT_EQ(nf.exit_code, 5) << nf.out << nf.err;
    // 0 with --help on every command, which names its options.
    for (std::vector<std::string> cmd : {std::vector<std::string>{"status"},
                                         {"links"},
                                         {"peers"},
                                         {"calls"},
                                         {"call", "show"},
                                         {"refusals"},
                                         {"reload"}}) {
        cmd.push_back("--help");
        auto h = iwfctl(cmd);
        EXPECT_EQ(h.exit_code, 0) << cmd[0];
        EXPECT_NE(h.out.find("--admin"), std::string::npos) << cmd[0] << "\n" << h.out;
        EXPECT_NE(h.out.find("Exit codes"), std::string::npos) << cmd[0];
    }
}

}  // namespace
}  // namespace iwf::test::ops

namespace iwf::test::ops {
namespace {

// iwfctl reload: POST /v1/reload with the bearer token (the console's route, admin.token_file).
TEST_F(OpsEnv, IwfctlReloadIsRefusedWithoutTheTokenAndAcceptedWithIt) {
    const std::string secret = "ops-reload-secret-0123456789";
    const std::string tf = dir.write("admin.token", "alice:" + secret + "\n");
    ::chmod(tf.c_str(), 0600);
    const std::string admin_section =
        "admin:\n  address: 127.0.0.1\n  port: 0\n  port_file: " + dir.file("admin.port") +
        "\n  token_file: " + tf + "\n";
    ASSERT_NO_FATAL_FAILURE(start(config(1, false, admin_section)));

    // 4: no token, and a wrong one (401).
    auto none = iwfctl({"reload", "--admin", admin()});
    EXPECT_EQ(none.exit_code, 4) << none.out << none.err;
    EXPECT_NE(none.err.find("401"), std::string::npos) << none.err;
    const std::string wrong = dir.write("wrong.token", "alice:not-the-secret-at-all-000\n");
    EXPECT_EQ(iwfctl({"reload", "--token-file", wrong, "--admin", admin()}).exit_code, 4);
    EXPECT_EQ(iwfd.log().find("reload=ok"), std::string::npos) << "refused, nothing reloaded";

    // 0 with the token file (NAME:SECRET, as admin.token_file) or IWF_ADMIN_TOKEN.
    auto ok = iwfctl({"reload", "--token-file", tf, "--admin", admin()});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_EQ(ok.out, "reloaded: config revision 2\n");
    auto env = runCommand({"/usr/bin/env", "IWF_ADMIN_TOKEN=" + secret, IWFCTL_BIN, "reload",
                           "--json", "--admin", admin()},
                          30s);
    EXPECT_EQ(env.exit_code, 0) << env.out << env.err;
    EXPECT_EQ(nlohmann::json::parse(env.out)["revision"], 3);

    // 1: iwfd refuses the new file (a change only a restart applies) and keeps its config.
    std::string changed = config(1, false, admin_section);
    changed.replace(0, changed.find('\n') + 1, "instance: other\n");
    dir.write("iwfd.yaml", changed);
    auto refused = iwfctl({"reload", "--token-file", tf, "--admin", admin()});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("instance"), std::string::npos) << refused.err;
}

TEST_F(OpsEnv, IwfctlReloadAgainstAnIwfdWithoutTokenIsForbidden) {
    ASSERT_NO_FATAL_FAILURE(start(config(1, false)));
    const std::string tf = dir.write("admin.token", "some-secret-of-16-chars\n");
    auto r = iwfctl({"reload", "--token-file", tf, "--admin", admin()});
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;  // 403: no token configured on iwfd
    EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace iwf::test::ops
