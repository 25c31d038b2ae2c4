#include "lmr_adapters/dmr/fec.hpp"

#include <bit>

#include "common/osmocom.hpp"

namespace iwf::lmr::dmr {

namespace {

// ---------------------------------------------------------------- CRC-CCITT
// TS 102 361-1 B.3.7: generator x^16 + x^12 + x^5 + 1, shift register preset to zero, the
// result inverted. libosmocore's generic generator: poly without the x^16 term, final XOR.
const osmo_crc16gen_code kDmrCcitt = {16, 0x1021, 0x0000, 0xFFFF};

// ---------------------------------------------------------------- cyclic codes
constexpr std::uint32_t polyMod(std::uint32_t v, std::uint32_t g, int g_degree, int v_degree) {
    for (int bit = v_degree; bit >= g_degree; --bit) {
        if (v & (std::uint32_t{1} << bit)) {
            v ^= g << (bit - g_degree);
        }
    }
    return v;
}

// Golay (20,8,7) = cyclic Golay (23,12) shortened by 4 information bits (generator
// g(x) = x^11+x^10+x^6+x^5+x^4+x^2+1 = 0xC75) plus an even overall parity bit.
constexpr std::uint32_t golayCodeword(std::uint32_t data) {
    const std::uint32_t cw19 = (data << 11) | polyMod(data << 11, 0xC75, 11, 18);
    return (cw19 << 1) | static_cast<std::uint32_t>(std::popcount(cw19) & 1);
}

// QR (16,7,6) = cyclic (15,7) code with g(x) = x^8+x^5+x^4+x^3+1 (0x139) plus an even
// overall parity bit.
constexpr std::uint32_t qrCodeword(std::uint32_t data) {
    const std::uint32_t cw15 = (data << 8) | polyMod(data << 8, 0x139, 8, 14);
    return (cw15 << 1) | static_cast<std::uint32_t>(std::popcount(cw15) & 1);
}

template <std::size_t N, typename F>
constexpr std::array<std::uint32_t, N> makeTable(F f) {
    std::array<std::uint32_t, N> t{};
    for (std::size_t i = 0; i < N; ++i) {
        t[i] = f(static_cast<std::uint32_t>(i));
    }
    return t;
}

constexpr auto kGolayTable = makeTable<256>(golayCodeword);
constexpr auto kQrTable = makeTable<128>(qrCodeword);

// Nearest codeword by exhaustive search (256 / 128 codewords: cheap and obviously right).
template <std::size_t N>
Result<FecDecoded> nearest(const std::array<std::uint32_t, N>& table, std::uint32_t cw,
                           unsigned max_errors, std::string_view fail) {
    unsigned best = 99;
    std::uint32_t best_data = 0;
    for (std::size_t i = 0; i < N; ++i) {
        const auto d = static_cast<unsigned>(std::popcount(table[i] ^ cw));
        if (d < best) {
            best = d;
            best_data = static_cast<std::uint32_t>(i);
            if (d == 0) {
                break;
            }
        }
    }
    if (best > max_errors) {
        return Error{fail, static_cast<std::int64_t>(best)};
    }
    return FecDecoded{best_data, best};
}

// ---------------------------------------------------------------- Hamming
// Parity equations as data-bit masks (bit i = data bit d[i]), TS 102 361-1 B.3.5.
constexpr std::uint16_t kH15113[4] = {
    0b00110101111,  // p0 = d0^d1^d2^d3^d5^d7^d8
    0b01101011110,  // p1 = d1^d2^d3^d4^d6^d8^d9
    0b11010111100,  // p2 = d2^d3^d4^d5^d7^d9^d10
    0b10011010111,  // p3 = d0^d1^d2^d4^d6^d7^d10
};
constexpr std::uint16_t kH1393[4] = {
    0b001101011,  // p0 = d0^d1^d3^d5^d6
    0b011010111,  // p1 = d0^d1^d2^d4^d6^d7
    0b110101111,  // p2 = d0^d1^d2^d3^d5^d7^d8
    0b100110101,  // p3 = d0^d2^d4^d5^d8
};
constexpr std::uint16_t kH16114[5] = {
    0b00110101111, 0b01101011110, 0b11010111100, 0b10011010111,
    0b11101100101,  // p4 = d0^d2^d5^d6^d8^d9^d10
};

template <int K, int P>
std::uint32_t hammingSyndrome(const std::uint8_t* d, const std::uint16_t (&eq)[P]) {
    std::uint32_t s = 0;
    for (int j = 0; j < P; ++j) {
        unsigned v = d[K + j] & 1u;
        for (int i = 0; i < K; ++i) {
            if (eq[j] & (1u << i)) {
                v ^= d[i] & 1u;
            }
        }
        if (v) {
            s |= 1u << j;
        }
    }
    return s;
}

template <int K, int P>
void hammingEncode(std::uint8_t* d, const std::uint16_t (&eq)[P]) {
    for (int j = 0; j < P; ++j) {
        unsigned v = 0;
        for (int i = 0; i < K; ++i) {
            if (eq[j] & (1u << i)) {
                v ^= d[i] & 1u;
            }
        }
        d[K + j] = static_cast<std::uint8_t>(v);
    }
}

template <int K, int P>
int hammingDecode(std::uint8_t* d, const std::uint16_t (&eq)[P]) {
    const std::uint32_t s = hammingSyndrome<K, P>(d, eq);
    if (s == 0) {
        return 0;
    }
    for (int j = 0; j < P; ++j) {
        if (s == (1u << j)) {
            d[K + j] ^= 1u;
            return 1;
        }
    }
    for (int i = 0; i < K; ++i) {
        std::uint32_t sig = 0;
        for (int j = 0; j < P; ++j) {
            if (eq[j] & (1u << i)) {
                sig |= 1u << j;
            }
        }
        if (sig == s) {
            d[i] ^= 1u;
            return 1;
        }
    }
    return -1;
}

// ---------------------------------------------------------------- GF(2^8)
struct Gf256 {
    std::array<std::uint8_t, 512> exp{};
    std::array<int, 256> log{};
    constexpr Gf256() {
        unsigned x = 1;
        for (int i = 0; i < 255; ++i) {
            exp[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(x);
            log[x] = i;
            x <<= 1;
            if (x & 0x100) {
                x ^= 0x11D;  // x^8 + x^4 + x^3 + x^2 + 1
            }
        }
        for (int i = 255; i < 512; ++i) {
            exp[static_cast<std::size_t>(i)] = exp[static_cast<std::size_t>(i - 255)];
        }
        log[0] = -1;
    }
    constexpr std::uint8_t mul(std::uint8_t a, std::uint8_t b) const {
        if (a == 0 || b == 0) {
            return 0;
        }
        return exp[static_cast<std::size_t>(log[a] + log[b])];
    }
    constexpr std::uint8_t div(std::uint8_t a, std::uint8_t b) const {
        if (a == 0) {
            return 0;
        }
        return exp[static_cast<std::size_t>(log[a] - log[b] + 255)];
    }
};
constexpr Gf256 kGf;

// g(x) = (x + a)(x + a^2)(x + a^3), coefficients highest degree first.
constexpr std::array<std::uint8_t, 4> rsGenerator() {
    std::array<std::uint8_t, 4> g{1, 0, 0, 0};
    int deg = 0;
    for (int r = 1; r <= 3; ++r) {
        const std::uint8_t root = kGf.exp[static_cast<std::size_t>(r)];
        std::array<std::uint8_t, 4> n{};
        for (int i = 0; i <= deg; ++i) {
            n[static_cast<std::size_t>(i)] ^= g[static_cast<std::size_t>(i)];
            n[static_cast<std::size_t>(i + 1)] ^= kGf.mul(g[static_cast<std::size_t>(i)], root);
        }
        g = n;
        ++deg;
    }
    return g;
}
constexpr auto kRsGen = rsGenerator();
static_assert(kRsGen[0] == 1 && kRsGen[1] == 14 && kRsGen[2] == 56 && kRsGen[3] == 64,
              "RS(12,9) generator must be x^3 + 14x^2 + 56x + 64");

}  // namespace

// ---------------------------------------------------------------- CRC
std::uint16_t crcCcitt(ByteView data) {
    std::uint8_t bits[8 * 64];
    std::uint16_t crc = 0;
    // Process in chunks so any length works without allocation.
    osmo_crc16gen_code code = kDmrCcitt;
    code.remainder = 0;
    std::size_t off = 0;
    while (off < data.size()) {
        const std::size_t n = std::min<std::size_t>(64, data.size() - off);
        osmo_pbit2ubit(bits, data.data() + off, static_cast<unsigned>(n * 8));
        code.init = crc;
        crc = osmo_crc16gen_compute_bits(&code, bits, static_cast<int>(n * 8));
        off += n;
    }
    return static_cast<std::uint16_t>(crc ^ kDmrCcitt.remainder);
}

bool checkCrcBlock(ByteView block12, std::uint16_t mask) {
    if (block12.size() < 12) {
        return false;
    }
    const std::uint16_t want = static_cast<std::uint16_t>(crcCcitt(block12.first(10)) ^ mask);
    const std::uint16_t got = static_cast<std::uint16_t>((block12[10] << 8) | block12[11]);
    return want == got;
}

void setCrcBlock(MutableByteView block12, std::uint16_t mask) {
    const std::uint16_t c = static_cast<std::uint16_t>(crcCcitt(block12.first(10)) ^ mask);
    block12[10] = static_cast<std::uint8_t>(c >> 8);
    block12[11] = static_cast<std::uint8_t>(c);
}

// ---------------------------------------------------------------- Golay / QR
std::uint32_t golay2087Encode(std::uint8_t data) {
    return kGolayTable[data];
}
Result<FecDecoded> golay2087Decode(std::uint32_t codeword20) {
    return nearest(kGolayTable, codeword20 & 0xFFFFF, 3, "golay_uncorrectable");
}
std::uint16_t qr1676Encode(std::uint8_t data7) {
    return static_cast<std::uint16_t>(kQrTable[data7 & 0x7F]);
}
Result<FecDecoded> qr1676Decode(std::uint16_t codeword16) {
    return nearest(kQrTable, codeword16, 2, "qr_uncorrectable");
}

// ---------------------------------------------------------------- Hamming
void hamming15113Encode(std::uint8_t* d) {
    hammingEncode<11, 4>(d, kH15113);
}
int hamming15113Decode(std::uint8_t* d) {
    return hammingDecode<11, 4>(d, kH15113);
}
void hamming1393Encode(std::uint8_t* d) {
    hammingEncode<9, 4>(d, kH1393);
}
int hamming1393Decode(std::uint8_t* d) {
    return hammingDecode<9, 4>(d, kH1393);
}
void hamming16114Encode(std::uint8_t* d) {
    hammingEncode<11, 5>(d, kH16114);
}
int hamming16114Decode(std::uint8_t* d) {
    return hammingDecode<11, 5>(d, kH16114);
}

// ---------------------------------------------------------------- BPTC(196,96)
// Matrix: bit 0 = R(3); 13 rows x 15 columns from bit 1. Rows 0..8 carry data (row 0 starts
// with R(2..0)) + Hamming(15,11,3); rows 9..12 are the Hamming(13,9,3) column parity.
// Transmitted bit (i * 181) mod 196 = matrix bit i (TS 102 361-1 B.1.1).
namespace {
constexpr std::size_t interleave(std::size_t i) {
    return (i * 181) % 196;
}
void placeData(Bits196& m, ByteView info12) {
    std::size_t b = 0;
    for (std::size_t p = 4; p <= 11; ++p) {
        m[p] = getBit(info12, b++) ? 1 : 0;
    }
    for (std::size_t r = 1; r < 9; ++r) {
        for (std::size_t c = 0; c < 11; ++c) {
            m[1 + r * 15 + c] = getBit(info12, b++) ? 1 : 0;
        }
    }
}
void extractData(const Bits196& m, MutableByteView info12) {
    std::size_t b = 0;
    for (std::size_t p = 4; p <= 11; ++p) {
        setBit(info12, b++, m[p] != 0);
    }
    for (std::size_t r = 1; r < 9; ++r) {
        for (std::size_t c = 0; c < 11; ++c) {
            setBit(info12, b++, m[1 + r * 15 + c] != 0);
        }
    }
}
}  // namespace

Bits196 bptc19696Encode(ByteView info12) {
    Bits196 m{};
    placeData(m, info12);
    for (std::size_t r = 0; r < 9; ++r) {
        hamming15113Encode(&m[1 + r * 15]);
    }
    for (std::size_t c = 0; c < 15; ++c) {
        std::uint8_t col[13];
        for (std::size_t r = 0; r < 9; ++r) {
            col[r] = m[1 + r * 15 + c];
        }
        hamming1393Encode(col);
        for (std::size_t r = 9; r < 13; ++r) {
            m[1 + r * 15 + c] = col[r];
        }
    }
    Bits196 out{};
    for (std::size_t i = 0; i < 196; ++i) {
        out[interleave(i)] = m[i];
    }
    return out;
}

Result<BptcDecoded> bptc19696Decode(const Bits196& interleaved) {
    Bits196 m{};
    for (std::size_t i = 0; i < 196; ++i) {
        m[i] = interleaved[interleave(i)] & 1;
    }
    BptcDecoded out;
    bool clean = false;
    for (int pass = 0; pass < 5 && !clean; ++pass) {
        clean = true;
        for (std::size_t c = 0; c < 15; ++c) {
            std::uint8_t col[13];
            for (std::size_t r = 0; r < 13; ++r) {
                col[r] = m[1 + r * 15 + c];
            }
            const int n = hamming1393Decode(col);
            if (n != 0) {
                clean = false;
            }
            if (n > 0) {
                out.corrected += static_cast<unsigned>(n);
                for (std::size_t r = 0; r < 13; ++r) {
                    m[1 + r * 15 + c] = col[r];
                }
            }
        }
        // Rows 9..12 (column parity) are row codewords too (product code), so every row
        // is checked: two errors in one column of the parity rows are still corrected.
        for (std::size_t r = 0; r < 13; ++r) {
            const int n = hamming15113Decode(&m[1 + r * 15]);
            if (n != 0) {
                clean = false;
            }
            if (n > 0) {
                out.corrected += static_cast<unsigned>(n);
            }
        }
    }
    if (!clean) {
        // The last pass still changed something: verify every row and column once more.
        for (std::size_t c = 0; c < 15; ++c) {
            std::uint8_t col[13];
            for (std::size_t r = 0; r < 13; ++r) {
                col[r] = m[1 + r * 15 + c];
            }
            if (hammingSyndrome<9, 4>(col, kH1393) != 0) {
                return Error{"bptc_uncorrectable", static_cast<std::int64_t>(c)};
            }
        }
        for (std::size_t r = 0; r < 13; ++r) {
            if (hammingSyndrome<11, 4>(&m[1 + r * 15], kH15113) != 0) {
                return Error{"bptc_uncorrectable", static_cast<std::int64_t>(100 + r)};
            }
        }
    }
    extractData(m, out.info);
    return out;
}

// ---------------------------------------------------------------- RS(12,9)
std::array<std::uint8_t, 3> rs129Parity(ByteView data9) {
    std::array<std::uint8_t, 3> r{};
    for (std::size_t i = 0; i < 9 && i < data9.size(); ++i) {
        const std::uint8_t fb = data9[i] ^ r[0];
        r[0] = r[1] ^ kGf.mul(fb, kRsGen[1]);
        r[1] = r[2] ^ kGf.mul(fb, kRsGen[2]);
        r[2] = kGf.mul(fb, kRsGen[3]);
    }
    return r;
}

Result<unsigned> rs129Correct(MutableByteView cw) {
    if (cw.size() < 12) {
        return Error{"truncated", static_cast<std::int64_t>(cw.size())};
    }
    std::uint8_t s[4] = {0, 0, 0, 0};
    for (int j = 1; j <= 3; ++j) {
        const std::uint8_t aj = kGf.exp[static_cast<std::size_t>(j)];
        std::uint8_t v = 0;
        for (std::size_t i = 0; i < 12; ++i) {
            v = kGf.mul(v, aj) ^ cw[i];
        }
        s[j] = v;
    }
    if (s[1] == 0 && s[2] == 0 && s[3] == 0) {
        return 0u;
    }
    if (s[1] == 0 || s[2] == 0) {
        return Error{"rs_uncorrectable", 0};
    }
    const std::uint8_t x = kGf.div(s[2], s[1]);  // a^p for an error at power p
    if (kGf.mul(s[2], x) != s[3]) {
        return Error{"rs_uncorrectable", 1};
    }
    const int p = kGf.log[x];
    if (p < 0 || p > 11) {
        return Error{"rs_uncorrectable", 2};
    }
    const std::uint8_t e = kGf.div(s[1], x);
    cw[static_cast<std::size_t>(11 - p)] ^= e;
    return 1u;
}

// ---------------------------------------------------------------- embedded LC
std::uint8_t embeddedLcChecksum(ByteView lc9) {
    unsigned sum = 0;
    for (std::size_t i = 0; i < 9 && i < lc9.size(); ++i) {
        sum += lc9[i];
    }
    return static_cast<std::uint8_t>(sum % 31);
}

namespace {
// Matrix 8 rows x 16 columns; rows 0..6 Hamming(16,11,4), row 7 even column parity.
// Data: row 0 and 1 columns 0..10, rows 2..6 columns 0..9 (72 bits); the checksum in
// column 10 of rows 2..6 (MSB in row 2). Sent column by column: raw bit a = matrix
// (row a % 8, column a / 8).
constexpr std::size_t dataColumns(std::size_t row) {
    return row < 2 ? 11 : 10;
}
}  // namespace

EmbeddedFragments encodeEmbeddedLc(ByteView lc9) {
    std::uint8_t m[8][16] = {};
    std::size_t b = 0;
    for (std::size_t r = 0; r < 7; ++r) {
        for (std::size_t c = 0; c < dataColumns(r); ++c) {
            m[r][c] = getBit(lc9, b++) ? 1 : 0;
        }
    }
    const std::uint8_t cs = embeddedLcChecksum(lc9);
    for (std::size_t r = 2; r < 7; ++r) {
        m[r][10] = static_cast<std::uint8_t>((cs >> (6 - r)) & 1);
    }
    for (std::size_t r = 0; r < 7; ++r) {
        hamming16114Encode(m[r]);
    }
    for (std::size_t c = 0; c < 16; ++c) {
        std::uint8_t p = 0;
        for (std::size_t r = 0; r < 7; ++r) {
            p ^= m[r][c];
        }
        m[7][c] = p;
    }
    EmbeddedFragments out{};
    for (std::size_t a = 0; a < 128; ++a) {
        setBit(out[a / 32], a % 32, m[a % 8][a / 8] != 0);
    }
    return out;
}

Result<EmbeddedLcDecoded> decodeEmbeddedLc(const EmbeddedFragments& fragments) {
    std::uint8_t m[8][16] = {};
    for (std::size_t a = 0; a < 128; ++a) {
        m[a % 8][a / 8] = getBit(fragments[a / 32], a % 32) ? 1 : 0;
    }
    EmbeddedLcDecoded out;
    for (std::size_t r = 0; r < 7; ++r) {
        const int n = hamming16114Decode(m[r]);
        if (n < 0) {
            return Error{"emb_lc_uncorrectable", static_cast<std::int64_t>(r)};
        }
        out.corrected += static_cast<unsigned>(n);
    }
    for (std::size_t c = 0; c < 16; ++c) {
        std::uint8_t p = 0;
        for (std::size_t r = 0; r < 8; ++r) {
            p ^= m[r][c];
        }
        if (p != 0) {
            return Error{"emb_lc_parity", static_cast<std::int64_t>(c)};
        }
    }
    std::size_t b = 0;
    for (std::size_t r = 0; r < 7; ++r) {
        for (std::size_t c = 0; c < dataColumns(r); ++c) {
            setBit(out.lc, b++, m[r][c] != 0);
        }
    }
    std::uint8_t cs = 0;
    for (std::size_t r = 2; r < 7; ++r) {
        cs = static_cast<std::uint8_t>((cs << 1) | m[r][10]);
    }
    if (cs != embeddedLcChecksum(out.lc)) {
        return Error{"emb_lc_checksum", cs};
    }
    return out;
}

}  // namespace iwf::lmr::dmr
