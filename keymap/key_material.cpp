#include "keymap/key_material.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include <fmt/format.h>

namespace iwf::keymap {

namespace {

// ASCII classes only: a byte >= 0x80 (UTF-8) is never part of a key-like run.
bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
bool isUpper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool isLower(char c) {
    return c >= 'a' && c <= 'z';
}
bool isAlpha(char c) {
    return isUpper(c) || isLower(c);
}
bool isAlnum(char c) {
    return isAlpha(c) || isDigit(c);
}
bool isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool isB64(char c) {
    return isAlnum(c) || c == '+' || c == '/' || c == '_' || c == '=' || c == '-';
}
char lowerOf(char c) {
    return isUpper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}
bool allOf(std::string_view s, bool (*f)(char)) {
    return std::all_of(s.begin(), s.end(), f);
}
bool anyOf(std::string_view s, bool (*f)(char)) {
    return std::any_of(s.begin(), s.end(), f);
}

struct Hit {
    std::size_t offset;
    std::string what;
};

// ---------------------------------------------------------------------------------------
// Natural text versus random characters.

// Letter pairs that occur in English words: every pair seen at least 50 times per million
// letter pairs in the words (3+ lower-case letters) of this repository's documentation
// (docs/**/*.md, 101,427 pairs, 361 of the 676 pairs). Row = first letter, string = the
// second letters. A random letter pair is in the table about half the time; a word of
// natural text rarely has more than one pair outside it.
constexpr std::array<std::string_view, 26> kCommonPairs = {
    "bcdefgiklmnpqrstuvwxy",  // a
    "aeijloprsuy",            // b
    "acdehiklmoprstuvy",      // c
    "acdegilmoprstuvy",       // d
    "abcdefghilmnopqrstuvwxy",
    "acdefilmorstu",         // f
    "aeghilmnorstu",         // g
    "abeimoprsty",           // h
    "abcdefgklmnoprstvwxz",  // i
    "aeos",                  // j
    "aegimnstu",             // k
    "abdefgiklmoprstuvwy",   // l
    "abcehilmnoprsu",        // m
    "acdefgijklmnopstuvy",   // n
    "abcdefgijklmnoprstuvwx",
    "abcehiklmoprstuy",       // p
    "lu",                     // q
    "abcdefgiklmnoprstuvwy",  // r
    "acdeghiklmnopqstuwy",    // s
    "abcdeghilmoprstuwxy",    // t
    "abcdefgilmnprstz",       // u
    "aefimno",                // v
    "adefhilnors",            // w
    "aceimpt",                // x
    "aelmnopst",              // y
    "ez",                     // z
};

bool commonPair(char a, char b) {
    a = lowerOf(a);
    b = lowerOf(b);
    return kCommonPairs[static_cast<std::size_t>(a - 'a')].find(b) != std::string_view::npos;
}

enum class Cls { Digit, Upper, Lower };
Cls clsOf(char c) {
    return isDigit(c) ? Cls::Digit : (isUpper(c) ? Cls::Upper : Cls::Lower);
}

// Splits a segment of letters and digits into pieces the way words are joined in
// identifiers: at every letter/digit boundary, before a capital that follows a lower-case
// letter ("camelCase"), and before the last capital of a run that starts a word
// ("HTTPServer" -> "HTTP" "Server").
std::vector<std::string_view> pieces(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        Cls a = clsOf(s[i]);
        Cls b = clsOf(s[i + 1]);
        bool split = false;
        if ((a == Cls::Digit) != (b == Cls::Digit)) {
            split = true;
        } else if (a == Cls::Lower && b == Cls::Upper) {
            split = true;
        } else if (a == Cls::Upper && b == Cls::Upper && i + 2 < s.size() && isLower(s[i + 2])) {
            split = true;
        }
        if (split) {
            out.push_back(s.substr(start, i + 1 - start));
            start = i + 1;
        }
    }
    out.push_back(s.substr(start));
    return out;
}

// Natural text made of pieces of 3+ characters on average (2.75 when the case is mixed);
// random base64 averages under 2, random base32 has letter pairs no word has and digits
// inside the run.
bool natural(std::string_view seg) {
    if (seg.size() < 4) {
        return false;
    }
    if (allOf(seg, isDigit)) {
        return true;
    }
    auto ps = pieces(seg);
    bool mixed = anyOf(seg, isUpper) && anyOf(seg, isLower);
    double mean = static_cast<double>(seg.size()) / static_cast<double>(ps.size());
    if (mean < (mixed ? 2.75 : 2.5)) {
        return false;
    }
    int rare = 0;
    int pairs = 0;
    for (auto p : ps) {
        if (p.size() >= 2 && allOf(p, isAlpha)) {
            for (std::size_t i = 0; i + 1 < p.size(); ++i) {
                ++pairs;
                rare += commonPair(p[i], p[i + 1]) ? 0 : 1;
            }
        }
    }
    if (rare >= 2 && rare * 10 > pairs) {
        return false;
    }
    if (!mixed) {
        int inner_digits = 0;
        for (std::size_t i = 1; i + 1 < ps.size(); ++i) {
            inner_digits += isDigit(ps[i][0]) ? 1 : 0;
        }
        if (inner_digits >= 2) {
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------
// Hex and decimal numbers.

struct NumTok {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string_view digits;  // empty: not a number (a word)
    bool prefixed = false;    // 0x12 or \x12
    bool negative = false;    // -12 (a signed byte)
};

// The separator between two numbers, reduced to its punctuation: "" (white space only),
// ":", "-", ",", ";", ".", "|", "_"; nullopt for anything else. A line break followed by
// indentation and a comment or list marker ("#", "//", "*", "- ") counts as white space.
std::optional<std::string> normSep(std::string_view s) {
    if (s.size() > 40) {
        return std::nullopt;
    }
    std::string out;
    std::size_t lines = 0;
    std::size_t i = 0;
    bool line_start = false;
    while (i < s.size()) {
        char c = s[i];
        if (c == '\n') {
            if (++lines > 2) {
                return std::nullopt;
            }
            line_start = true;
            ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            ++i;
            continue;
        }
        if (line_start) {
            line_start = false;
            for (std::string_view m : {"//", "#", "*", "- ", ";"}) {
                if (s.substr(i, m.size()) == m) {
                    i += m.size();
                    break;
                }
            }
            continue;
        }
        out += c;
        ++i;
    }
    static const std::set<std::string> kAllowed = {"", ":", "-", ",", ";", ".", "|", "_"};
    if (kAllowed.count(out) == 0) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> judgeNumbers(const std::vector<NumTok>& seq, const std::string& sep) {
    const std::size_t n = seq.size();
    std::size_t total = 0;
    bool prefix = false;
    bool letter = false;
    bool digit = false;
    bool bytes = true;
    bool decimal = true;
    std::vector<std::size_t> widths;
    for (const auto& t : seq) {
        total += t.digits.size();
        prefix = prefix || t.prefixed;
        letter = letter || anyOf(t.digits, [](char c) { return isHex(c) && !isDigit(c); });
        digit = digit || anyOf(t.digits, isDigit);
        bytes = bytes && t.digits.size() <= 2;
        decimal = decimal && !t.prefixed && allOf(t.digits, isDigit);
        widths.push_back(t.digits.size());
    }
    // A UUID (8-4-4-4-12) and an IPv6 address (at most 8 groups of at most 4) are identifiers.
    bool uuid = sep == "-" && widths == std::vector<std::size_t>{8, 4, 4, 4, 12};
    bool ipv6 = sep == ":" && n <= 8 &&
                std::all_of(widths.begin(), widths.end(), [](std::size_t w) { return w <= 4; });
    if (n >= 2 && total >= 32 && (prefix || (letter && digit)) && !uuid && !ipv6) {
        return fmt::format("{} hex digits in {} groups ({} bits) look like a key", total, n,
                           total * 4);
    }
    if (n >= 16 && bytes && (prefix || letter)) {
        return fmt::format("{} hex byte values look like a key", n);
    }
    if (n >= 16 && decimal) {
        std::vector<int> v;
        for (const auto& t : seq) {
            if (t.digits.size() > 3) {
                return std::nullopt;
            }
            int x = 0;
            for (char c : t.digits) {
                x = x * 10 + (c - '0');
            }
            v.push_back(t.negative ? -x : x);
        }
        if (std::any_of(v.begin(), v.end(), [](int x) { return x < -128 || x > 255; })) {
            return std::nullopt;
        }
        // 1, 2, 3, ... (a list of numbers counting up) is not a key; nor is a list with few
        // distinct values.
        bool progression = true;
        for (std::size_t i = 2; i < v.size(); ++i) {
            progression = progression && v[i] - v[i - 1] == v[1] - v[0];
        }
        std::set<int> distinct(v.begin(), v.end());
        if (!progression && distinct.size() >= 8) {
            return fmt::format("{} decimal byte values look like a key", n);
        }
    }
    return std::nullopt;
}

bool digestLabelBefore(std::string_view text, std::size_t pos) {
    // "sha256:<hex>", "sha-1=<hex>", "md5:<hex>": a digest says what it is.
    std::string before;
    for (std::size_t i = pos >= 8 ? pos - 8 : 0; i < pos; ++i) {
        before += lowerOf(text[i]);
    }
    for (std::string_view label : {"sha1", "sha-1", "sha224", "sha-224", "sha256", "sha-256",
                                   "sha384", "sha-384", "sha512", "sha-512", "md5"}) {
        for (char sep : {':', '='}) {
            std::string l = std::string(label) + sep;
            if (before.size() >= l.size() &&
                before.compare(before.size() - l.size(), l.size(), l) == 0) {
                return true;
            }
        }
    }
    return false;
}

std::optional<Hit> scanNumbers(std::string_view text) {
    std::vector<NumTok> toks;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!isAlnum(text[i])) {
            ++i;
            continue;
        }
        std::size_t s = i;
        while (i < text.size() && isAlnum(text[i])) {
            ++i;
        }
        std::string_view t = text.substr(s, i - s);
        // One run of 32+ hex digits, even inside a word ("0x…", "sip:…@"). 40 digits is a
        // SHA-1 / git object name (no LMR cipher has a 160-bit key); a labelled digest is one.
        for (std::size_t k = 0; k < t.size();) {
            if (!isHex(t[k])) {
                ++k;
                continue;
            }
            std::size_t m = k;
            while (m < t.size() && isHex(t[m])) {
                ++m;
            }
            if (m - k >= 32 && m - k != 40 && !digestLabelBefore(text, s + k)) {
                return Hit{s + k, fmt::format("a run of {} hex digits ({} bits) looks like a key",
                                              m - k, (m - k) * 4)};
            }
            k = m;
        }
        NumTok tok{s, i, {}, false, false};
        if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') &&
            allOf(t.substr(2), isHex)) {
            tok.digits = t.substr(2);
            tok.prefixed = true;
        } else if (s > 0 && text[s - 1] == '\\' && t.size() >= 2 && t.size() <= 3 && t[0] == 'x' &&
                   allOf(t.substr(1), isHex)) {
            tok.digits = t.substr(1);
            tok.prefixed = true;
        } else if (allOf(t, isHex)) {
            tok.digits = t;
            tok.negative = s > 0 && text[s - 1] == '-' && (s < 2 || !isAlnum(text[s - 2]));
        }
        toks.push_back(tok);
    }
    const std::size_t n = toks.size();
    std::size_t a = 0;
    while (a < n) {
        if (toks[a].digits.empty()) {
            ++a;
            continue;
        }
        std::vector<NumTok> seq{toks[a]};
        std::optional<std::string> sep;
        std::size_t j = a + 1;
        bool mismatch = false;
        while (j < n && !toks[j].digits.empty()) {
            std::size_t gb = toks[j - 1].end;
            std::size_t ge = toks[j].begin;
            if (toks[j].negative || (toks[j].prefixed && text[ge - 1] == '\\')) {
                --ge;  // the sign or the backslash belongs to the number
            }
            std::string_view gap = text.substr(gb, ge - gb);
            auto p = normSep(gap);
            if (p && p->empty() && gap.find('\n') != std::string_view::npos && sep) {
                p = sep;  // a line break continues the list whatever its separator
            }
            if (!p || (sep && *p != *sep)) {
                mismatch = p.has_value();
                break;
            }
            sep = p;
            seq.push_back(toks[j]);
            ++j;
        }
        if (auto what = judgeNumbers(seq, sep.value_or(""))) {
            return Hit{seq.front().begin, *what};
        }
        a = (mismatch && j - 1 > a) ? j - 1 : j;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// base64 / base64url / base32.

// A run of base64 characters as the detector sees it: joined across line breaks and
// comment markers, and across the single spaces of equal-length groups. pos[i] is where
// chars[i] is in the text.
struct VRun {
    std::string chars;
    std::vector<std::size_t> pos;
};

// Only white space, quotes, and at the start of the next line a comment or list marker or
// a YAML block indicator: a key split over lines continues after such a gap.
bool softLineGap(std::string_view g) {
    std::size_t nl = g.find('\n');
    if (nl == std::string_view::npos || g.find('\n', nl + 1) != std::string_view::npos) {
        return false;
    }
    auto blank = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(), [](char c) {
            return c == ' ' || c == '\t' || c == '\r' || c == '"' || c == '\'';
        });
    };
    std::string_view first = g.substr(0, nl);
    std::string_view second = g.substr(nl + 1);
    std::size_t k = 0;
    while (k < second.size() &&
           (second[k] == ' ' || second[k] == '\t' || second[k] == '"' || second[k] == '\'')) {
        ++k;
    }
    second = second.substr(k);
    for (std::string_view m : {"//", "#", "*", "-", ">", "|"}) {
        if (second.substr(0, m.size()) == m) {
            second = second.substr(m.size());
            break;
        }
    }
    return blank(first) && blank(second);
}

std::vector<VRun> b64Runs(std::string_view text) {
    struct Span {
        std::size_t b, e;
    };
    std::vector<Span> runs;
    for (std::size_t i = 0; i < text.size();) {
        if (!isB64(text[i])) {
            ++i;
            continue;
        }
        std::size_t s = i;
        while (i < text.size() && isB64(text[i])) {
            ++i;
        }
        runs.push_back({s, i});
    }
    // Equal-length groups separated by single spaces ("JBSW Y3DP EHPK ..."): 4+ groups of 4+
    // characters, the last one may be shorter; not when all groups start alike ("TG100 TG200").
    std::vector<std::vector<Span>> grouped;
    for (std::size_t i = 0; i < runs.size();) {
        std::size_t len = runs[i].e - runs[i].b;
        std::size_t j = i;
        while (j + 1 < runs.size() && runs[j + 1].b == runs[j].e + 1 && text[runs[j].e] == ' ' &&
               runs[j + 1].e - runs[j + 1].b <= len) {
            ++j;
            if (runs[j].e - runs[j].b < len) {
                break;
            }
        }
        std::set<std::string_view> starts;
        for (std::size_t k = i; k <= j; ++k) {
            starts.insert(text.substr(runs[k].b, 2));
        }
        if (j - i + 1 >= 4 && len >= 4 && starts.size() > 1) {
            grouped.emplace_back(runs.begin() + static_cast<std::ptrdiff_t>(i),
                                 runs.begin() + static_cast<std::ptrdiff_t>(j + 1));
            i = j + 1;
        } else {
            grouped.push_back({runs[i]});
            ++i;
        }
    }
    std::vector<VRun> out;
    std::vector<Span> cur;
    auto flush = [&]() {
        if (cur.empty()) {
            return;
        }
        VRun v;
        for (auto sp : cur) {
            for (std::size_t p = sp.b; p < sp.e; ++p) {
                v.chars += text[p];
                v.pos.push_back(p);
            }
        }
        out.push_back(std::move(v));
        cur.clear();
    };
    for (auto& g : grouped) {
        if (!cur.empty() && softLineGap(text.substr(cur.back().e, g.front().b - cur.back().e))) {
            cur.insert(cur.end(), g.begin(), g.end());
        } else {
            flush();
            cur = g;
        }
    }
    flush();
    return out;
}

// A path component or identifier word: natural text, lower case and digits, a capitalised
// word, or a short acronym.
bool pathWord(std::string_view c) {
    if (c.size() < 2) {
        return false;
    }
    if (natural(c) || allOf(c, [](char x) { return isLower(x) || isDigit(x); })) {
        return true;
    }
    if (isUpper(c[0]) && allOf(c.substr(1), isLower)) {
        return true;
    }
    return c.size() <= 4 && allOf(c, isUpper);
}

std::vector<std::string_view> splitAny(std::string_view s, std::string_view delims) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || delims.find(s[i]) != std::string_view::npos) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

bool pathLike(std::string_view c) {
    auto parts = splitAny(c, "_-");
    auto words = std::count_if(parts.begin(), parts.end(), pathWord);
    return 2 * static_cast<std::size_t>(words) > parts.size();
}

// One run without path/identifier structure: finds stretches of random segments. A segment
// of natural text of 10+ characters ends a stretch; shorter ones are counted (a random key
// has short word-like pieces by chance). Segments next to '+' and the padded last segment
// are random whatever they look like ('+' and '=' appear in base64, not in words).
std::optional<Hit> judgeOne(std::string_view chars, const std::size_t* pos) {
    std::size_t body_len = chars.size();
    while (body_len > 0 && chars[body_len - 1] == '=') {
        --body_len;
    }
    std::string_view body = chars.substr(0, body_len);
    const std::size_t pad = chars.size() - body_len;
    auto decide = [&](std::size_t a, std::size_t b) -> std::optional<Hit> {
        std::string alnum;
        for (std::size_t i = a; i < b; ++i) {
            if (isAlnum(body[i])) {
                alnum += body[i];
            }
        }
        if (alnum.empty() || allOf(alnum, isHex)) {
            return std::nullopt;  // hex is the number rules' business
        }
        bool mixed = anyOf(alnum, isUpper) && anyOf(alnum, isLower);
        std::size_t count = b - a + (b == body.size() ? pad : 0);
        if (mixed && count >= 22) {  // 22 base64 characters carry 132 bits
            return Hit{pos[a],
                       fmt::format("a base64-like run of {} characters looks like a key", count)};
        }
        if (!mixed && count >= 26) {  // 26 base32 characters carry 130 bits
            return Hit{pos[a],
                       fmt::format("a base32-like run of {} characters looks like a key", count)};
        }
        return std::nullopt;
    };
    std::optional<std::size_t> start;
    std::size_t end = 0;
    for (std::size_t i = 0; i < body.size();) {
        if (!isAlnum(body[i])) {
            ++i;
            continue;
        }
        std::size_t s = i;
        while (i < body.size() && isAlnum(body[i])) {
            ++i;
        }
        std::string_view seg = body.substr(s, i - s);
        bool last_padded = pad > 0 && i == body.size();
        bool plus = (s > 0 && body[s - 1] == '+') || (i < body.size() && body[i] == '+');
        bool hexseg = seg.size() >= 8 && allOf(seg, isHex);
        bool breaks = !last_padded && !plus && (hexseg || (seg.size() >= 10 && natural(seg)));
        if (breaks) {
            if (start) {
                if (auto h = decide(*start, end)) {
                    return h;
                }
            }
            start.reset();
            continue;
        }
        if (!start) {
            std::size_t b = s;
            while (b > 0 && (body[b - 1] == '+' || body[b - 1] == '/' || body[b - 1] == '_' ||
                             body[b - 1] == '-')) {
                --b;
            }
            start = b;
        }
        end = i;
    }
    if (start) {
        return decide(*start, end);
    }
    return std::nullopt;
}

using Judge = std::optional<Hit> (*)(std::string_view, const std::size_t*);

// Splits at `delims` and judges each component alone when the components look like a path
// or an identifier's words (`rule`), else judges the whole.
std::optional<Hit> splitJudge(std::string_view chars, const std::size_t* pos,
                              std::string_view delims,
                              bool (*rule)(std::size_t n, std::size_t words, std::size_t word_chars,
                                           std::size_t chars),
                              Judge inner) {
    auto comps = splitAny(chars, delims);
    std::size_t words = 0;
    std::size_t word_chars = 0;
    std::size_t all_chars = 0;
    for (auto c : comps) {
        all_chars += c.size();
        if (pathLike(c)) {
            ++words;
            word_chars += c.size();
        }
    }
    if (!rule(comps.size(), words, word_chars, all_chars)) {
        return inner(chars, pos);
    }
    std::size_t off = 0;
    for (auto c : comps) {
        if (auto h = inner(c, pos + off)) {
            return h;
        }
        off += c.size() + 1;
    }
    return std::nullopt;
}

std::optional<Hit> judgeDashes(std::string_view chars, const std::size_t* pos) {
    // "late_entry_wait_frames", "MCPTT-IWF1-LINK-TO-COUNTY": every word (or all but one of 4+)
    // is a word.
    return splitJudge(
        chars, pos, "_-",
        [](std::size_t n, std::size_t words, std::size_t, std::size_t) {
            return (n >= 4 && words + 1 >= n) || (n == 3 && words == 3);
        },
        judgeOne);
}

std::optional<Hit> judgeRun(std::string_view chars, const std::size_t* pos) {
    // "yiqDZxb08K/repo/tests/interop/scenarios": most components, and most of the characters,
    // are path words. "/var/lib/iwfd/zxokY9bRsv/EEmT9FSUbf/keymap.db": an absolute path whose
    // first component is a word.
    auto comps = splitAny(chars, "/");
    bool absolute = comps.size() >= 3 && comps[0].empty() && comps[1].size() >= 3 &&
                    allOf(comps[1], [](char c) { return isLower(c) || isDigit(c); });
    if (absolute) {
        return splitJudge(
            chars, pos, "/",
            [](std::size_t, std::size_t, std::size_t, std::size_t) { return true; }, judgeDashes);
    }
    return splitJudge(
        chars, pos, "/",
        [](std::size_t n, std::size_t words, std::size_t word_chars, std::size_t all) {
            return n >= 3 && 2 * words > n && 2 * word_chars >= all;
        },
        judgeDashes);
}

std::optional<Hit> scanEncoded(std::string_view text) {
    for (const auto& r : b64Runs(text)) {
        if (auto h = judgeRun(r.chars, r.pos.data())) {
            return h;
        }
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// PEM and JWK.

std::optional<Hit> scanContainers(std::string_view text) {
    if (auto p = text.find("-----BEGIN"); p != std::string_view::npos) {
        return Hit{p, "a PEM block (-----BEGIN) looks like a key"};
    }
    // A JSON Web Key names its key type: "kty": "oct" (RFC 7517 section 4.1).
    for (std::size_t p = text.find("kty"); p != std::string_view::npos;
         p = text.find("kty", p + 1)) {
        if (p > 0 && isAlnum(text[p - 1])) {
            continue;
        }
        std::size_t q = p + 3;
        if (q < text.size() && isAlnum(text[q])) {
            continue;
        }
        while (q < text.size() && (text[q] == '"' || text[q] == '\'' || text[q] == ' ')) {
            ++q;
        }
        if (q < text.size() && (text[q] == ':' || text[q] == '=')) {
            return Hit{p, "a JSON Web Key (\"kty\") looks like a key"};
        }
    }
    return std::nullopt;
}

}  // namespace

bool looksNatural(std::string_view segment) {
    return natural(segment);
}

std::optional<KeyMaterialFinding> scanForKeyMaterial(std::string_view text) {
    std::optional<Hit> hit = scanContainers(text);
    if (!hit) {
        hit = scanNumbers(text);
    }
    if (!hit) {
        hit = scanEncoded(text);
    }
    if (!hit) {
        return std::nullopt;
    }
    int line = 1;
    std::size_t line_start = 0;
    for (std::size_t p = 0; p < hit->offset && p < text.size(); ++p) {
        if (text[p] == '\n') {
            ++line;
            line_start = p + 1;
        }
    }
    return KeyMaterialFinding{line, static_cast<int>(hit->offset - line_start) + 1,
                              std::move(hit->what)};
}

}  // namespace iwf::keymap
