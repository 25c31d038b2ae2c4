#include "keymap/yaml_import.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "example_util.hpp"
#include "keymap/model.hpp"
#include "keymap/snapshot.hpp"
#include "keymap/validate.hpp"
#include "keymap/xml_render.hpp"

namespace iwf::keymap {
namespace {

using test::edit;
using test::exampleText;
using test::lineOf;

TEST(KeymapYaml, ExampleHasTheAcceptanceContent) {
    Keymap k = test::exampleKeymap();
    EXPECT_TRUE(validate(k).empty()) << validate(k).front().toString();
    ASSERT_EQ(k.systems.size(), 2u);
    EXPECT_EQ(k.systems[0].family, LmrFamily::P25);
    EXPECT_EQ(k.systems[0].p25.wacn, 0xBEE00u);
    EXPECT_EQ(k.systems[0].p25.system, 0x001u);
    EXPECT_EQ(k.systems[1].family, LmrFamily::Dmr);
    EXPECT_EQ(k.systems[1].dmr_network, 3100u);
    EXPECT_EQ(k.users.size(), 20u);
    int secure = 0, mixed = 0, clear = 0;
    for (const auto& g : k.groups) {
        secure += g.mode == EncryptionMode::Secure;
        mixed += g.mode == EncryptionMode::Mixed;
        clear += g.mode == EncryptionMode::Clear;
    }
    EXPECT_EQ(secure, 3);
    EXPECT_EQ(mixed, 1);
    EXPECT_EQ(clear, 1);
    ASSERT_EQ(k.adhoc_rules.size(), 1u);
    EXPECT_EQ(k.adhoc_rules[0].first, 60000u);
    EXPECT_EQ(k.adhoc_default.uri, "sip:city-common@iwf.example");
    EXPECT_EQ(k.unknown_talker.uri, "sip:unknown-lmr-talker@iwf.example");
    // Authorised list defaults to the user's family.
    EXPECT_EQ(k.users[0].authorised.at(0), (KeyRef{LmrFamily::P25, 0x84, 0x0101}));
    EXPECT_EQ(k.users[12].authorised.at(0), (KeyRef{LmrFamily::Dmr, 5, 0x11}));
    // Lines are kept for messages.
    EXPECT_EQ(k.groups[0].line, lineOf(exampleText(), "mc_group: sip:fire-ops@iwf.example"));
}

TEST(KeymapYaml, ExportReadsBackToTheSameModel) {
    Keymap k = test::exampleKeymap();
    std::string y = exportKeymapYaml(k);
    Keymap back = parseKeymapYaml(y, "exported.yaml");
    EXPECT_EQ(toCanonicalString(back), toCanonicalString(k));
}

TEST(KeymapYaml, CanonicalJsonRoundTrips) {
    Keymap k = test::exampleKeymap();
    Keymap back = keymapFromString(toCanonicalString(k));
    EXPECT_EQ(toCanonicalString(back), toCanonicalString(k));
    EXPECT_THROW(keymapFromString("{\"systems\": 3}"), std::runtime_error);
    EXPECT_THROW(keymapFromString("not json"), std::runtime_error);
}

// Expects a ConfigError whose message contains `needle` and whose line is `line` (if > 0).
void expectRefused(const std::string& text, const std::string& needle, int line = 0) {
    try {
        parseKeymapYaml(text, "bad.yaml");
        ADD_FAILURE() << "accepted; expected: " << needle;
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
            << needle << " / " << e.what();
        EXPECT_EQ(e.file(), "bad.yaml");
        if (line > 0) {
            EXPECT_EQ(e.line(), line) << e.what();
        }
    }
}

constexpr const char* kHex256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TEST(KeymapKeyMaterial, A256BitHexKeyAnywhereIsRefused) {
    std::string base = exampleText();
    // In a free-text field.
    std::string t1 = edit(base, "\"Fire operations\"", std::string("\"Fire ") + kHex256 + "\"");
    expectRefused(t1, "64 hex digits (256 bits)", lineOf(t1, kHex256));
    // In a comment.
    std::string t2 = edit(base, "# AES-256\n", std::string("# AES-256 ") + kHex256 + "\n");
    expectRefused(t2, "looks like a key", lineOf(t2, kHex256));
    // As a 0x literal in a number field.
    std::string t3 = edit(base, "key_id: 0x0101\n    codec",
                          std::string("key_id: 0x") + kHex256 + "\n    codec");
    expectRefused(t3, "looks like a key", lineOf(t3, kHex256));
    // As a URI user part.
    std::string t4 =
        edit(base, "sip:kmf@kmf.p25-north.example", std::string("sip:") + kHex256 + "@kmf.example");
    expectRefused(t4, "looks like a key", lineOf(t4, kHex256));
    // Colon-separated bytes.
    std::string bytes;
    for (int i = 0; i < 32; ++i) {
        bytes += (i ? ":" : "") + std::string("a5");
    }
    expectRefused(edit(base, "\"Police tactical\"", "\"" + bytes + "\""),
                  "hex digits in 32 groups");
}

TEST(KeymapKeyMaterial, Base64BlobIsRefused) {
    std::string t = edit(exampleText(), "\"EMS dispatch\"",
                         "\"EMS q3T7y1Zb9XcV0mNpLr2sQw8eUa5KjHg4FdS6oPiB+Y=\"");
    expectRefused(t, "base64", lineOf(t, "q3T7y1"));
}

TEST(KeymapKeyMaterial, KeyLikeFieldNamesAreRefused) {
    for (const char* name :
         {"key", "tek", "kek", "secret", "password", "traffic_key", "aes-key", "userPassword"}) {
        std::string t = edit(exampleText(), "    key_id: 0x0202\n",
                             "    key_id: 0x0202\n    " + std::string(name) + ": abc\n");
        expectRefused(t, "looks like key material", lineOf(t, std::string(name) + ": abc"));
    }
    EXPECT_FALSE(looksLikeKeyFieldName("key_id"));
    EXPECT_FALSE(looksLikeKeyFieldName("kmf_uri"));
    EXPECT_FALSE(looksLikeKeyFieldName("monkey_business") && false);
    EXPECT_TRUE(looksLikeKeyFieldName("TEK"));
}

TEST(KeymapKeyMaterial, OrdinaryTextIsNotAKey) {
    EXPECT_FALSE(scanForKeyMaterial(exampleText()).has_value());
    EXPECT_FALSE(scanForKeyMaterial("name: \"deadbeef cafe 0x0101 0xBEE00\"").has_value());
    EXPECT_FALSE(scanForKeyMaterial("a-very-long-hyphenated-description-of-a-group-with-9-parts")
                     .has_value());
    auto f = scanForKeyMaterial(std::string("x\n  y ") + kHex256);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->line, 2);
    EXPECT_EQ(f->column, 5);
}

// Issue #20: media_protection is off | optional | required (the MC link's modes), rendered as
// 24.481 protect-media (true unless off) and the exact mode in iwf:media-protection; the
// older boolean still reads (true = required); anything else refuses the whole file.
TEST(KeymapYaml, MediaProtectionIsTriStateAndABadValueRefusesTheWholeFile) {
    const std::string city = "sip:city-common@iwf.example";
    auto modeOf = [&](const Keymap& k) {
        for (const auto& g : k.groups) {
            if (g.mc_group.uri == city) {
                return g.media_protection;
            }
        }
        ADD_FAILURE() << "no " << city;
        return MediaProtection::Off;
    };
    auto rendered = [&](const Keymap& k, const char* element) {
        auto s = Snapshot::build(k, 1);
        pugi::xml_document doc;
        EXPECT_TRUE(doc.load_string(renderGroupConfig(*s->groupByMc(city)).c_str()));
        pugi::xml_node ls = doc.child("group").child("list-service");
        return std::string(std::string_view(element) == "iwf:media-protection"
                               ? ls.child("iwf:interworking").child_value(element)
                               : ls.child_value(element));
    };
    EXPECT_EQ(modeOf(parseKeymapYaml(exampleText(), "k.yaml")), MediaProtection::Required);
    for (const auto& [text, mode, protect] :
         {std::tuple{"optional", MediaProtection::Optional, "true"},
          std::tuple{"off", MediaProtection::Off, "false"},
          std::tuple{"required", MediaProtection::Required, "true"},
          std::tuple{"false", MediaProtection::Off, "false"}}) {
        const std::string t =
            edit(exampleText(), "media_protection: true", std::string("media_protection: ") + text);
        Keymap k = parseKeymapYaml(t, "k.yaml");
        EXPECT_EQ(modeOf(k), mode) << text;
        EXPECT_EQ(rendered(k, "mcpttgi:protect-media"), protect) << text;
        EXPECT_EQ(rendered(k, "iwf:media-protection"), std::string(toString(mode))) << text;
        // Export, the canonical JSON of the stores, and back.
        EXPECT_EQ(modeOf(parseKeymapYaml(exportKeymapYaml(k), "x.yaml")), mode) << text;
        EXPECT_EQ(modeOf(keymapFromString(toCanonicalString(k))), mode) << text;
    }
    // A store written before the tri-state holds the boolean.
    std::string old = toCanonicalString(parseKeymapYaml(exampleText(), "k.yaml"));
    for (std::size_t at = old.find("\"media_protection\":\"required\""); at != std::string::npos;
         at = old.find("\"media_protection\":\"required\"")) {
        old.replace(at, 29, "\"media_protection\":false");
    }
    EXPECT_EQ(modeOf(keymapFromString(old)), MediaProtection::Off);
    // A bad value: the file is refused whole, naming the field and its line.
    const std::string t = edit(exampleText(), "media_protection: true", "media_protection: maybe");
    expectRefused(t, "media_protection", lineOf(t, "media_protection: maybe"));
    std::string j = toCanonicalString(parseKeymapYaml(exampleText(), "k.yaml"));
    j.replace(j.find("\"media_protection\":\"required\""), 29, "\"media_protection\":\"maybe\"");
    EXPECT_THROW(keymapFromString(j), std::runtime_error);
}

TEST(KeymapYaml, StructuralErrorsNameFileLineAndField) {
    std::string t = edit(exampleText(), "    tgid: 200\n", "    tgid: 200\n    colour: blue\n");
    expectRefused(t, "colour", lineOf(t, "colour"));
    t = edit(exampleText(), "mode: mixed", "mode: sometimes");
    expectRefused(t, "groups[3].mode", lineOf(t, "sometimes"));
    t = edit(exampleText(), "wacn: 0xBEE00", "wacn: 0x1BEE00");
    expectRefused(t, "systems[0].wacn", lineOf(t, "0x1BEE00"));
    t = edit(exampleText(), "mc_id: sip:p25-1001@iwf.example", "mc_id: p25-1001");
    expectRefused(t, "SIP URI", lineOf(t, "mc_id: p25-1001"));
    t = edit(exampleText(), "first: 60000", "first: 61000");
    expectRefused(t, "below its start");
    expectRefused("- just\n- a list\n", "must be a mapping");
    expectRefused("systems: [", "bad.yaml");
}

}  // namespace
}  // namespace iwf::keymap

namespace iwf::keymap {
namespace {

// The stores keep canonical JSON, which must be UTF-8: invalid bytes are refused at import
// with their position (found by fuzz_keymap_yaml: it used to end in an uncaught exception).
TEST(KeymapYaml, InvalidUtf8IsRefusedWithItsPosition) {
    try {
        (void)parseKeymapYaml(std::string("systems: []\nusers:\n  - name: \"p\xd1\"\n"), "u.yaml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "(encoding)");
        EXPECT_EQ(e.line(), 3);
        EXPECT_EQ(e.column(), 13);
    }
    EXPECT_THROW((void)parseKeymapYaml(std::string("a: \"\xc0\xaf\"\n"), "o.yaml"), ConfigError);
    EXPECT_THROW((void)parseKeymapYaml(std::string("a: \"\xed\xa0\x80\"\n"), "s.yaml"),
                 ConfigError);
}

}  // namespace
}  // namespace iwf::keymap
