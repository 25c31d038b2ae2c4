// The real iwfctl binary against SQLite and PostgreSQL stores.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "keymap_env.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::keymap {
namespace {

using iwf::test::CommandResult;
using iwf::test::runCommand;
using nlohmann::json;

class IwfctlKeymap : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        store_ = GetParam() == "sqlite" ? "sqlite:" + dir_.file("keymap.db")
                                        : test::freshPostgresDatabase();
        ASSERT_FALSE(store_.empty());
    }

    CommandResult ctl(std::vector<std::string> args, bool with_store = true) {
        std::vector<std::string> argv{IWFCTL_BIN, "keymap"};
        if (with_store) {
            argv.push_back("--store");
            argv.push_back(store_);
        }
        argv.insert(argv.end(), args.begin(), args.end());
        return runCommand(argv, std::chrono::seconds(60));
    }

    std::uint64_t head() {
        CommandResult r = ctl({"--json", "history", "-n", "1"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return json::parse(r.out).at("head").get<std::uint64_t>();
    }

    iwf::test::TempDir dir_;
    std::string store_;
};

TEST_P(IwfctlKeymap, ImportExampleAndRenderGroupConfig) {
    CommandResult r = ctl({"import", test::examplePath(), "--actor", "tester"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("as revision 1"), std::string::npos) << r.out;
    EXPECT_EQ(head(), 1u);

    r = ctl({"render", "group-config", "sip:fire-ops@iwf.example"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(r.out.c_str())) << r.out;
    // TS 24.481 shape: <group> root, <list-service> inside.
    pugi::xml_node ls = doc.child("group").child("list-service");
    EXPECT_STREQ(ls.attribute("uri").value(), "sip:fire-ops@iwf.example");
    EXPECT_STREQ(ls.child_value("display-name"), "Fire operations");
    int n = 0;
    for (pugi::xml_node e : ls.child("list").children("entry")) {
        EXPECT_EQ(std::string(e.attribute("uri").value()),
                  "sip:p25-" + std::to_string(1001 + n) + "@iwf.example");
        ++n;
    }
    EXPECT_EQ(n, 6);
    EXPECT_STREQ(ls.child("mcpttgi:preferred-voice-encodings")
                     .child("mcpttgi:encoding")
                     .attribute("name")
                     .value(),
                 "X-IWF-LMR/8000");
    EXPECT_STREQ(ls.child_value("mcpttgi:protect-media"), "true");
    EXPECT_STREQ(ls.child_value("mcpttgi:protect-floor-control-signalling"), "true");
    EXPECT_STREQ(ls.child("iwf:lmr-e2ee").child_value("iwf:mode"), "secure");
    EXPECT_STREQ(ls.child("iwf:lmr-e2ee").child_value("iwf:lmr-type"), "p25");
    EXPECT_EQ(ls.child("iwf:lmr-e2ee").child("iwf:algid").text().as_uint(), 0x84u);
    EXPECT_EQ(ls.child("iwf:lmr-e2ee").child("iwf:key-id").text().as_uint(), 0x0101u);
    EXPECT_STREQ(ls.child("iwf:interworking").child_value("iwf:home"), "lmr");
    EXPECT_EQ(ls.child("iwf:interworking").child("iwf:lmr-group").text().as_uint(), 100u);
    EXPECT_STREQ(ls.child("iwf:interworking").child_value("iwf:lmr-codec"), "imbe");

    // --encoding names what a link with another media.encoding offers.
    r = ctl({"render", "group-config", "sip:fire-ops@iwf.example", "--encoding", "AMR-WB/16000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("<mcpttgi:encoding name=\"AMR-WB/16000\""), std::string::npos) << r.out;

    // By SYSTEM/TGID too, and the user profile.
    r = ctl({"render", "group-config", "dmr-city/91"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("sip:city-common@iwf.example"), std::string::npos);
    r = ctl({"render", "user-profile", "sip:dmr-2003@iwf.example"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    pugi::xml_document up;
    ASSERT_TRUE(up.load_string(r.out.c_str()));
    EXPECT_STREQ(up.child("mcptt-user-profile")
                     .child("iwf:lmr-e2ee-user-profile")
                     .child_value("iwf:kmf-uri"),
                 "sip:kmf@kmf.dmr-city.example");
    r = ctl({"render", "group-config", "sip:none@iwf.example"});
    EXPECT_EQ(r.exit_code, 2);

    r = ctl({"--json", "show", "group", "sip:ems-dispatch@iwf.example"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json g = json::parse(r.out);
    EXPECT_EQ(g["mode"], "mixed");
    EXPECT_EQ(g["revision"], 1);
    EXPECT_EQ(g["effective_codec"], "imbe");
    r = ctl({"show", "user", "p25-north/1005"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("mc_id: sip:p25-1005@iwf.example"), std::string::npos) << r.out;
}

// Each validation rule refuses a bad file with exit 1, names file/line/entry, and leaves the
// store's revision unchanged.
TEST_P(IwfctlKeymap, RefusedFilesChangeNothing) {
    ASSERT_EQ(ctl({"import", test::examplePath()}).exit_code, 0);
    struct Bad {
        std::string from, to, needle;
    };
    const std::string hex256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    std::vector<Bad> bad = {
        {"# AES-128", "# " + hex256, "looks like a key"},
        {"    key_id: 0x0202\n", "    key_id: 0x0202\n    tek: abc\n", "looks like key material"},
        {"algid: 0x84            # AES-256", "algid: 0x80", "[algid]"},
        {"key_id: 0x11\n", "key_id: 0x1FF\n", "[key_id_width]"},
        {"    algid: 0x85            # AES-128\n", "", "[secure_needs_algid]"},
        {"    codec: imbe\n", "    codec: pcm\n", "[secure_codec]"},
        {"      - sip:p25-1006@iwf.example\n  - mc_group",
         "      - sip:p25-1006@iwf.example\n      - sip:p25-1009@iwf.example\n  - mc_group",
         "[member_not_authorised]"},
        {"    tgid: 200\n", "    tgid: 100\n", "[duplicate_lmr_group]"},
        {"      - sip:p25-1006@iwf.example\n", "      - sip:ghost@iwf.example\n",
         "[dangling_member]"},
        {"mc_id: sip:p25-1002@iwf.example", "mc_id: sip:p25-1001@iwf.example", "[duplicate_id]"},
    };
    int i = 0;
    for (const auto& b : bad) {
        std::string name = "bad" + std::to_string(i++) + ".yaml";
        std::string path = dir_.write(name, test::edit(test::exampleText(), b.from, b.to));
        CommandResult r = ctl({"import", path});
        EXPECT_EQ(r.exit_code, 1) << name << ": " << r.out << r.err;
        EXPECT_NE(r.err.find(b.needle), std::string::npos) << name << ": " << r.err;
        EXPECT_NE(r.err.find(path + ":"), std::string::npos) << "no file:line in " << r.err;
        EXPECT_EQ(head(), 1u) << name << " changed the store";
        // validate says the same without a store.
        CommandResult v = ctl({"validate", path}, false);
        EXPECT_EQ(v.exit_code, 1) << name;
    }
    // JSON findings.
    std::string path = dir_.write(
        "bad-json.yaml", test::edit(test::exampleText(), "    tgid: 200\n", "    tgid: 100\n"));
    CommandResult r = ctl({"--json", "validate", path}, false);
    EXPECT_EQ(r.exit_code, 1);
    json j = json::parse(r.out);
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["findings"][0]["rule"], "duplicate_lmr_group");
    EXPECT_EQ(j["findings"][0]["entry"], "group sip:police-tac@iwf.example");
    EXPECT_GT(j["findings"][0]["line"].get<int>(), 0);
}

TEST_P(IwfctlKeymap, HistoryDiffRollbackExport) {
    ASSERT_EQ(ctl({"import", test::examplePath(), "--actor", "alice"}).exit_code, 0);
    std::string v2 =
        dir_.write("v2.yaml", test::edit(test::exampleText(), "mode: mixed", "mode: secure"));
    CommandResult d = ctl({"diff", v2});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_NE(d.out.find("~ group sip:ems-dispatch@iwf.example: mode: \"mixed\" -> \"secure\""),
              std::string::npos)
        << d.out;
    EXPECT_NE(d.out.find("0 added, 1 changed, 0 removed"), std::string::npos);
    ASSERT_EQ(ctl({"import", v2, "--actor", "bob"}).exit_code, 0);
    EXPECT_EQ(head(), 2u);

    CommandResult h = ctl({"--json", "history", "--diff"});
    ASSERT_EQ(h.exit_code, 0) << h.err;
    json hj = json::parse(h.out);
    ASSERT_EQ(hj["revisions"].size(), 2u);
    EXPECT_EQ(hj["revisions"][0]["actor"], "bob");
    EXPECT_EQ(hj["revisions"][0]["note"], v2);
    EXPECT_NE(hj["revisions"][0]["diff"].get<std::string>().find("ems-dispatch"),
              std::string::npos);
    EXPECT_EQ(hj["revisions"][1]["actor"], "alice");

    CommandResult rb = ctl({"--json", "--actor", "carol", "rollback", "1"});
    ASSERT_EQ(rb.exit_code, 0) << rb.err;
    EXPECT_EQ(json::parse(rb.out)["revision"], 3);
    EXPECT_EQ(head(), 3u);
    EXPECT_EQ(ctl({"rollback", "42"}).exit_code, 2);
    EXPECT_EQ(head(), 3u);

    // Export of the head re-imports as "nothing to import".
    CommandResult ex = ctl({"export", "-o", dir_.file("exported.yaml")});
    ASSERT_EQ(ex.exit_code, 0) << ex.err;
    CommandResult re = ctl({"import", dir_.file("exported.yaml")});
    ASSERT_EQ(re.exit_code, 0) << re.err;
    EXPECT_NE(re.out.find("nothing to import"), std::string::npos) << re.out;
    EXPECT_EQ(head(), 3u);
    // Export of revision 2 differs from the head in exactly the mode.
    ASSERT_EQ(ctl({"export", "-r", "2", "-o", dir_.file("r2.yaml")}).exit_code, 0);
    CommandResult d2 = ctl({"diff", dir_.file("r2.yaml")});
    EXPECT_NE(d2.out.find("0 added, 1 changed, 0 removed"), std::string::npos) << d2.out;
}

TEST_P(IwfctlKeymap, UsageAndIoErrorsExitTwo) {
    EXPECT_EQ(ctl({"import", dir_.file("missing.yaml")}).exit_code, 2);
    EXPECT_EQ(ctl({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(runCommand({IWFCTL_BIN, "keymap", "--store", "nosuch:x", "history"}).exit_code, 2);
    EXPECT_EQ(ctl({"export"}).exit_code, 2);  // empty store: no revision yet
}

INSTANTIATE_TEST_SUITE_P(Backends, IwfctlKeymap, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace iwf::keymap
