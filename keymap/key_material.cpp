#include "keymap/key_material.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include <boost/container/small_vector.hpp>
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

// Pieces of one run or segment: nearly always a few, kept without a heap allocation (the
// scanner looks at every word of a keymap: 25 MB for 100k users).
using Pieces = boost::container::small_vector<std::string_view, 16>;

// c is one of the (one or two) characters of `set` (a loop, not memchr: called per character).
bool oneOf(char c, std::string_view set) {
    for (char d : set) {
        if (c == d) {
            return true;
        }
    }
    return false;
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
    return oneOf(b, kCommonPairs[static_cast<std::size_t>(a - 'a')]);
}

enum class Cls { Digit, Upper, Lower };
Cls clsOf(char c) {
    return isDigit(c) ? Cls::Digit : (isUpper(c) ? Cls::Upper : Cls::Lower);
}

// Splits a segment of letters and digits into pieces the way words are joined in
// identifiers: at every letter/digit boundary, before a capital that follows a lower-case
// letter ("camelCase"), and before the last capital of a run that starts a word
// ("HTTPServer" -> "HTTP" "Server").
Pieces pieces(std::string_view s) {
    Pieces out;
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

// Calls f(begin, end) for every run of letters and digits of the text, in order; stops at
// the first hit f returns.
template <typename F>
std::optional<Hit> forEachWord(std::string_view text, F&& f) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (!isAlnum(text[i])) {
            ++i;
            continue;
        }
        const std::size_t s = i;
        while (i < text.size() && isAlnum(text[i])) {
            ++i;
        }
        if (auto h = f(s, i)) {
            return h;
        }
    }
    return std::nullopt;
}

// One run of 32+ hex digits, even inside a word ("0x…", "sip:…@"). 40 digits is a SHA-1 /
// git object name (no LMR cipher has a 160-bit key); a labelled digest is one.
std::optional<Hit> hexRunIn(std::string_view text, std::size_t s, std::size_t e) {
    const std::string_view t = text.substr(s, e - s);
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
    return std::nullopt;
}

// The word text[s, e) as a number token (digits empty: a word, not a number).
NumTok numberToken(std::string_view text, std::size_t s, std::size_t e) {
    const std::string_view t = text.substr(s, e - s);
    NumTok tok{s, e, {}, false, false};
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && allOf(t.substr(2), isHex)) {
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
    return tok;
}

// Judges the lists of numbers within consecutive number tokens (no word between them): a
// list continues while the separators between its numbers are alike.
std::optional<Hit> judgeNumberRun(std::string_view text, const std::vector<NumTok>& toks) {
    const std::size_t n = toks.size();
    std::size_t a = 0;
    while (a < n) {
        std::vector<NumTok> seq{toks[a]};
        std::optional<std::string> sep;
        std::size_t j = a + 1;
        bool mismatch = false;
        while (j < n) {
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

std::optional<Hit> scanNumbers(std::string_view text) {
    // First any long hex run anywhere (it names the clearest finding), then lists of numbers,
    // judged one stretch of number tokens at a time (a word ends every list).
    if (auto h =
            forEachWord(text, [&](std::size_t s, std::size_t e) { return hexRunIn(text, s, e); })) {
        return h;
    }
    std::vector<NumTok> run;
    auto h = forEachWord(text, [&](std::size_t s, std::size_t e) -> std::optional<Hit> {
        NumTok tok = numberToken(text, s, e);
        if (!tok.digits.empty()) {
            run.push_back(tok);
            return std::nullopt;
        }
        std::optional<Hit> found = run.empty() ? std::nullopt : judgeNumberRun(text, run);
        run.clear();
        return found;
    });
    if (!h && !run.empty()) {
        h = judgeNumberRun(text, run);
    }
    return h;
}

// ---------------------------------------------------------------------------------------
// base64 / base64url / base32.

// The fewest characters judgeOne reports (22 base64; 26 base32): a run shorter than this is
// never a finding, whatever it is split into.
constexpr std::size_t kMinEncodedKey = 22;

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

// Calls f for every run (VRun) of the text, in order; stops at the first hit f returns.
template <typename F>
std::optional<Hit> forEachB64Run(std::string_view text, F&& f) {
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
    // Each such set of groups, or else each run alone, is a unit; units joined across soft line
    // breaks make one VRun, handed to f as soon as it is complete (one buffer, reused).
    VRun v;
    std::size_t cur_b = 0;  // the VRun being collected: runs [cur_b, cur_e)
    std::size_t cur_e = 0;
    auto flush = [&]() -> std::optional<Hit> {
        if (cur_b == cur_e) {
            return std::nullopt;
        }
        v.chars.clear();
        v.pos.clear();
        for (std::size_t k = cur_b; k < cur_e; ++k) {
            for (std::size_t p = runs[k].b; p < runs[k].e; ++p) {
                v.chars += text[p];
                v.pos.push_back(p);
            }
        }
        cur_b = cur_e;
        return f(v);
    };
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
        bool starts_differ = false;
        for (std::size_t k = i + 1; k <= j && !starts_differ; ++k) {
            starts_differ = text.substr(runs[k].b, 2) != text.substr(runs[i].b, 2);
        }
        const std::size_t unit_end = (j - i + 1 >= 4 && len >= 4 && starts_differ) ? j + 1 : i + 1;
        if (cur_b != cur_e &&
            softLineGap(text.substr(runs[cur_e - 1].e, runs[i].b - runs[cur_e - 1].e))) {
            cur_e = unit_end;
        } else {
            if (auto h = flush()) {
                return h;
            }
            cur_b = i;
            cur_e = unit_end;
        }
        i = unit_end;
    }
    return flush();
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

Pieces splitAny(std::string_view s, std::string_view delims) {
    Pieces out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || oneOf(s[i], delims)) {
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
        bool any = false;
        bool all_hex = true;
        bool upper = false;
        bool lower = false;
        for (std::size_t i = a; i < b; ++i) {
            const char c = body[i];
            if (isAlnum(c)) {
                any = true;
                all_hex = all_hex && isHex(c);
                upper = upper || isUpper(c);
                lower = lower || isLower(c);
            }
        }
        if (!any || all_hex) {
            return std::nullopt;  // hex is the number rules' business
        }
        const bool mixed = upper && lower;
        std::size_t count = b - a + (b == body.size() ? pad : 0);
        if (mixed && count >= kMinEncodedKey) {  // 22 base64 characters carry 132 bits
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
    return forEachB64Run(text, [](const VRun& r) -> std::optional<Hit> {
        if (r.chars.size() < kMinEncodedKey) {
            return std::nullopt;  // too short for any finding of judgeOne: skip the judging
        }
        return judgeRun(r.chars, r.pos.data());
    });
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
