#include "common/config_node.hpp"

#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace iwf {
namespace {

// Runs f and returns the ConfigError it throws (fails the test if it throws none).
template <typename F>
ConfigError expectError(F f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "no ConfigError thrown";
    return ConfigError("", 0, 0, "", "");
}

const char* kDoc =
    "admin:\n"
    "  address: 127.0.0.1\n"
    "  port: http\n"
    "  enabled: maybe\n"
    "timers:\n"
    "  hang: 3s\n"
    "  T1: 250\n"
    "  bad: 3 weeks\n"
    "links:\n"
    "  - name: a\n"
    "  - name: b\n"
    "    mode: loud\n";

TEST(ConfigNode, WrongTypeNamesFileLineAndField) {
    ConfigNode root = ConfigNode::loadString(kDoc, "test.yaml");
    ConfigError e = expectError([&] { root.child("admin").getInt("port", 1, 65535); });
    EXPECT_EQ(e.file(), "test.yaml");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.field(), "admin.port");
    EXPECT_NE(std::string(e.what()).find("test.yaml:3:"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("\"http\""), std::string::npos);
}

TEST(ConfigNode, OutOfRangeInteger) {
    ConfigNode root = ConfigNode::loadString("a:\n  n: 70000\n", "r.yaml");
    ConfigError e = expectError([&] { root.child("a").getInt("n", 0, 65535); });
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.field(), "a.n");
    EXPECT_NE(e.message().find("[0, 65535]"), std::string::npos);
}

TEST(ConfigNode, MissingRequiredField) {
    ConfigNode root = ConfigNode::loadString(kDoc, "test.yaml");
    ConfigError e = expectError([&] { root.child("admin").getString("password_file"); });
    EXPECT_EQ(e.field(), "admin.password_file");
    EXPECT_EQ(e.line(), 2);  // the mapping that lacks it starts at line 2
    EXPECT_NE(e.message().find("missing"), std::string::npos);
}

TEST(ConfigNode, UnknownFieldIsRefused) {
    ConfigNode root = ConfigNode::loadString(kDoc, "test.yaml");
    ConfigError e = expectError([&] { root.child("admin").expectKeys({"address", "port"}); });
    EXPECT_EQ(e.field(), "admin.enabled");
    EXPECT_EQ(e.line(), 4);
    EXPECT_NE(e.message().find("unknown field"), std::string::npos);
}

TEST(ConfigNode, BadBoolDurationAndEnum) {
    ConfigNode root = ConfigNode::loadString(kDoc, "test.yaml");
    EXPECT_EQ(expectError([&] { root.child("admin").getBool("enabled"); }).line(), 4);
    ConfigNode timers = root.child("timers");
    EXPECT_EQ(timers.getDuration("hang"), std::chrono::seconds(3));
    EXPECT_EQ(timers.getDuration("T1"), std::chrono::milliseconds(250));
    ConfigError d = expectError([&] { timers.getDuration("bad"); });
    EXPECT_EQ(d.field(), "timers.bad");
    EXPECT_EQ(d.line(), 8);
    auto links = root.list("links");
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[1].path(), "links[1]");
    ConfigError en = expectError([&] { links[1].getEnum("mode", {"quiet", "normal"}); });
    EXPECT_EQ(en.field(), "links[1].mode");
    EXPECT_EQ(en.line(), 12);
}

TEST(ConfigNode, SyntaxErrorAndWrongShape) {
    ConfigError s = expectError([] { ConfigNode::loadString("a: [1, 2\nb: 3\n", "s.yaml"); });
    EXPECT_EQ(s.field(), "(syntax)");
    EXPECT_GT(s.line(), 0);
    ConfigError empty = expectError([] { ConfigNode::loadString("", "e.yaml"); });
    EXPECT_EQ(empty.field(), "(document)");
    ConfigError top = expectError([] { ConfigNode::loadString("- 1\n- 2\n", "l.yaml"); });
    EXPECT_NE(top.message().find("mapping"), std::string::npos);
    ConfigNode root = ConfigNode::loadString("a: 5\n", "m.yaml");
    ConfigError m = expectError([&] { root.child("a"); });
    EXPECT_EQ(m.field(), "a");
    ConfigError f = expectError([] { ConfigNode::loadFile("/nonexistent/iwfd.yaml"); });
    EXPECT_EQ(f.field(), "(file)");
}

TEST(ConfigNode, IpAddressTakesV4AndV6AndRefusesNamesWithFileLineAndField) {
    ConfigNode root = ConfigNode::loadString(
        "l:\n  a: 127.0.0.1\n  b: \"::1\"\n  c: localhost\n  d: 10.0.0.256\n", "ip.yaml");
    ConfigNode l = root.child("l");
    EXPECT_EQ(l.getIpAddress("a"), "127.0.0.1");
    EXPECT_EQ(l.getIpAddress("b"), "::1");
    EXPECT_EQ(l.getIpAddress("z", "0.0.0.0"), "0.0.0.0");
    for (const auto& [key, line] : {std::pair{"c", 4}, std::pair{"d", 5}}) {
        ConfigError e = expectError([&, k = key] { l.getIpAddress(k); });
        EXPECT_EQ(e.file(), "ip.yaml");
        EXPECT_EQ(e.line(), line);
        EXPECT_EQ(e.field(), std::string("l.") + key);
        EXPECT_NE(e.message().find("expected an IPv4 or IPv6 address"), std::string::npos)
            << e.what();
    }
    ConfigError missing = expectError([&] { l.getIpAddress("z"); });
    EXPECT_EQ(missing.field(), "l.z");
}

TEST(ConfigNode, DefaultsAndHex) {
    ConfigNode root = ConfigNode::loadString("a:\n  x: 0x1f\n  on: yes\n", "d.yaml");
    ConfigNode a = root.child("a");
    EXPECT_EQ(a.getInt("x", 0, 255), 31);
    EXPECT_EQ(a.getInt("y", 0, 255, 7), 7);
    EXPECT_TRUE(a.getBool("on"));
    EXPECT_FALSE(a.getBool("off", false));
    EXPECT_EQ(a.getString("s", "dflt"), "dflt");
    EXPECT_FALSE(root.optionalChild("b").has_value());
    EXPECT_TRUE(root.optionalList("b").empty());
}

}  // namespace
}  // namespace iwf

namespace iwf {
namespace {

TEST(ConfigNode, EmptyKeyStillNamesAField) {
    ConfigNode root = ConfigNode::loadString("\"\": 1\n", "k.yaml");
    ConfigError e = expectError([&] { root.expectKeys({"admin"}); });
    EXPECT_EQ(e.field(), "\"\"");
    EXPECT_EQ(e.line(), 1);
}

}  // namespace
}  // namespace iwf
