// The libyaml document tree under ConfigNode (common/yaml_doc.hpp). The YAML texts are
// written here by hand from YAML 1.1 (yaml.org/spec/1.1): block and flow collections,
// anchors (§3.2.2.2 "&", "*"), the null forms of the null type (yaml.org/type/null.html:
// ~, null, Null, NULL, empty) and multi-document streams.

#include "common/yaml_doc.hpp"

#include <string>

#include <gtest/gtest.h>

#include "common/config_node.hpp"

namespace iwf::yaml {
namespace {

ConfigError parseError(const std::string& text) {
    try {
        Document::parse(text, "t.yaml");
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "no ConfigError for:\n" << text;
    return ConfigError("", 0, 0, "", "");
}

TEST(YamlDoc, ScalarsMapsSequencesWithLinesAndColumns) {
    auto doc = Document::parse("a: 1\nb:\n  - x\n  - {k: v, n: [1, 2]}\nc: \"q\"\n", "t.yaml");
    const Node& r = doc->root();
    ASSERT_TRUE(r.isMap());
    ASSERT_EQ(r.count, 3u);
    EXPECT_EQ(r.keyName(0), "a");
    EXPECT_EQ(r.find("a")->text, "1");
    EXPECT_EQ(r.find("a")->line, 1u);
    EXPECT_EQ(r.find("a")->column, 4u);
    const Node* b = r.find("b");
    ASSERT_TRUE(b != nullptr && b->isSeq());
    ASSERT_EQ(b->count, 2u);
    EXPECT_EQ(b->item(0).text, "x");
    EXPECT_EQ(b->item(0).line, 3u);
    EXPECT_EQ(b->item(1).find("k")->text, "v");
    EXPECT_EQ(b->item(1).find("n")->count, 2u);
    EXPECT_EQ(b->item(1).find("n")->item(1).text, "2");
    EXPECT_EQ(r.find("c")->text, "q");
    EXPECT_EQ(r.find("c")->line, 5u);
    EXPECT_EQ(r.find("zzz"), nullptr);
    EXPECT_EQ(r.find("a")->find("a"), nullptr);  // not a map
}

TEST(YamlDoc, NullFormsAreNullButQuotedOrTaggedTextIsNot) {
    auto doc = Document::parse(
        "e:\nt: ~\nn: null\nN: Null\nU: NULL\nq: \"null\"\ns: ''\nx: nul\nz: !!str null\n",
        "t.yaml");
    const Node& r = doc->root();
    for (const char* k : {"e", "t", "n", "N", "U"}) {
        EXPECT_TRUE(r.find(k)->isNull()) << k;
    }
    for (const char* k : {"q", "s", "x", "z"}) {
        EXPECT_TRUE(r.find(k)->isScalar()) << k;
    }
    EXPECT_EQ(r.find("q")->text, "null");
    EXPECT_EQ(r.find("s")->text, "");
}

TEST(YamlDoc, DuplicateKeysAreKeptInOrder) {
    auto doc = Document::parse("a: 1\nb: 2\na: 3\n", "t.yaml");
    const Node& r = doc->root();
    ASSERT_EQ(r.count, 3u);
    EXPECT_EQ(r.find("a")->text, "1");  // the first one
    EXPECT_EQ(r.keyName(2), "a");
    EXPECT_EQ(r.key(2).line, 3u);
}

TEST(YamlDoc, AnAliasIsItsAnchoredNode) {
    auto doc = Document::parse("base: &b {port: 5060, ttl: 3}\nl1: *b\nl2: *b\n", "t.yaml");
    const Node& r = doc->root();
    EXPECT_EQ(r.find("l1"), r.find("base"));
    EXPECT_EQ(r.find("l2")->find("port")->text, "5060");
    EXPECT_TRUE(sameValue(*r.find("l1"), *r.find("base")));
}

TEST(YamlDoc, OnlyTheFirstDocumentOfAStreamIsRead) {
    auto doc = Document::parse("---\na: 1\n...\n---\nb: 2\n", "t.yaml");
    EXPECT_NE(doc->root().find("a"), nullptr);
    EXPECT_EQ(doc->root().find("b"), nullptr);
}

TEST(YamlDoc, EmptyTextIsANullRoot) {
    EXPECT_TRUE(Document::parse("", "t.yaml")->root().isNull());
    EXPECT_TRUE(Document::parse("# only a comment\n", "t.yaml")->root().isNull());
}

TEST(YamlDoc, SyntaxErrorsNameFileLineAndColumn) {
    ConfigError e = parseError("a: 1\nb: [1, 2\nc: 3\n");
    EXPECT_EQ(e.file(), "t.yaml");
    EXPECT_EQ(e.field(), "(syntax)");
    EXPECT_EQ(e.line(), 3);
    ConfigError tab = parseError("a:\n\tb: 1\n");
    EXPECT_EQ(tab.field(), "(syntax)");
    EXPECT_EQ(tab.line(), 2);
    EXPECT_FALSE(tab.message().empty());
}

TEST(YamlDoc, AnUndefinedAliasIsRefused) {
    ConfigError e = parseError("a: 1\nb: *nowhere\n");
    EXPECT_EQ(e.field(), "(syntax)");
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(e.message().find("*nowhere"), std::string::npos) << e.what();
}

TEST(YamlDoc, AnAliasInsideItsOwnAnchorIsRefused) {
    // Accepted, the node would contain itself and every walk of it (ConfigNode, the keymap's
    // field-name scan, the reload's comparison) would never end.
    ConfigError e = parseError("a: &loop\n  - 1\n  - *loop\n");
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(e.message().find("inside its own anchor"), std::string::npos) << e.what();
    ConfigError m = parseError("a: &m {x: *m}\n");
    EXPECT_EQ(m.field(), "(syntax)");
}

TEST(YamlDoc, ABillionLaughsDocumentIsRefusedNotWalked) {
    // 10 levels of 10 aliases each: 10^10 nodes when walked, from about 120 written.
    std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i <= 9; ++i) {
        const std::string prev = "*l" + std::to_string(i - 1);
        text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) {
            text += (j ? ", " : "") + prev;
        }
        text += "]\n";
    }
    ConfigError e = parseError(text);
    EXPECT_EQ(e.field(), "(syntax)");
    EXPECT_NE(e.message().find("aliases expand"), std::string::npos) << e.what();
    // The same shape 3 levels deep (about 1,100 nodes walked) is an ordinary document.
    auto ok = Document::parse("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", "t.yaml");
    EXPECT_EQ(ok->root().find("c")->weight, 1u + 3u * (1u + 3u * (1u + 3u)));
}

TEST(YamlDoc, SameValueComparesMappingsWhateverTheirOrder) {
    auto a = Document::parse("x: {p: 1, q: [a, b]}\n", "a.yaml");
    auto b = Document::parse("x: {q: [a, b], p: 1}\n", "b.yaml");
    auto c = Document::parse("x: {q: [b, a], p: 1}\n", "c.yaml");
    auto d = Document::parse("x: {q: [a, b], p: 1, r: ~}\n", "d.yaml");
    EXPECT_TRUE(sameValue(a->root(), b->root()));
    EXPECT_FALSE(sameValue(a->root(), c->root()));
    EXPECT_FALSE(sameValue(a->root(), d->root()));
}

}  // namespace
}  // namespace iwf::yaml
