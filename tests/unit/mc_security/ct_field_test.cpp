// The constant-time field of mc_adapters/security/ct_field.hpp against OpenSSL's bignum
// arithmetic (BN_mod_add, BN_mod_sub, BN_mod_mul, BN_mod_inverse, BN_nnmod: an implementation
// nobody here wrote) for SAKKE's 1024-bit p and q and P-256's order: random operands, the
// edges 0, 1, m - 1, and values >= m refused by load().
#include "mc_adapters/security/ct_field.hpp"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include "tests/unit/mc_security/vectors.hpp"

namespace iwf::mc::security {
namespace {

struct CtFieldCase {
    const char* name;
    const char* file;
    const char* vector;
};

BnPtr modulusOf(const CtFieldCase& c) {
    if (c.file == nullptr) {  // P-256's group order q (FIPS 186-4 D.1.2.3)
        return bnFromHex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    }
    const test::Vectors v(c.file);
    return bnFromBytes(v[c.vector]);
}

class CtFieldTest : public ::testing::TestWithParam<CtFieldCase> {
  protected:
    void SetUp() override {
        m_ = modulusOf(GetParam());
        ASSERT_TRUE(m_);
        field_ = std::make_unique<CtField>(m_.get());
        ASSERT_TRUE(field_->valid());
        len_ = static_cast<std::size_t>(BN_num_bytes(m_.get()));
    }
    // A value below m: random, or one of the edges.
    BnPtr operand(int i) {
        BnPtr v = newBn();
        if (i == 0) {
            BN_zero(v.get());
        } else if (i == 1) {
            BN_one(v.get());
        } else if (i == 2) {
            BN_copy(v.get(), m_.get());
            BN_sub_word(v.get(), 1);
        } else {
            BN_rand_range(v.get(), m_.get());
        }
        return v;
    }
    Bytes bytesOf(const BIGNUM* v, std::size_t width) { return bnToBytes(v, width).value(); }
    CtFe load(const BIGNUM* v) {
        CtFe out;
        EXPECT_EQ(field_->load(out, bytesOf(v, len_)), ~CtLimb{0});
        return out;
    }
    Bytes store(const CtFe& a) {
        Bytes out(len_);
        field_->store(out, a);
        return out;
    }

    BnPtr m_;
    std::unique_ptr<CtField> field_;
    std::size_t len_ = 0;
};

TEST_P(CtFieldTest, AddSubMulInvAgreeWithOpenSsl) {
    BnCtxPtr ctx = newCtx();
    BnPtr want = newBn();
    for (int i = 0; i < 40; ++i) {
        BnPtr a = operand(i);       // the edges first,
        BnPtr b = operand(39 - i);  // here last
        CtFe x = load(a.get()), y = load(b.get()), r;
        SCOPED_TRACE(i);
        field_->add(r, x, y);
        BN_mod_add(want.get(), a.get(), b.get(), m_.get(), ctx.get());
        EXPECT_EQ(store(r), bytesOf(want.get(), len_));
        field_->sub(r, x, y);
        BN_mod_sub(want.get(), a.get(), b.get(), m_.get(), ctx.get());
        EXPECT_EQ(store(r), bytesOf(want.get(), len_));
        field_->mul(r, x, y);
        BN_mod_mul(want.get(), a.get(), b.get(), m_.get(), ctx.get());
        EXPECT_EQ(store(r), bytesOf(want.get(), len_));
        if (!BN_is_zero(a.get())) {
            field_->inv(r, x);
            ASSERT_NE(BN_mod_inverse(want.get(), a.get(), m_.get(), ctx.get()), nullptr);
            EXPECT_EQ(store(r), bytesOf(want.get(), len_));
        }
        EXPECT_EQ(field_->isZero(x), BN_is_zero(a.get()) ? ~CtLimb{0} : 0);
        EXPECT_EQ(field_->equal(x, y), BN_cmp(a.get(), b.get()) == 0 ? ~CtLimb{0} : 0);
    }
}

TEST_P(CtFieldTest, ReduceTakesUpToTwiceTheWidthLikeBnNnmod) {
    BnCtxPtr ctx = newCtx();
    BnPtr want = newBn();
    for (std::size_t n : {std::size_t{1}, len_ / 2, len_, len_ + 1, len_ + 16, 2 * len_}) {
        Bytes in(n);
        ASSERT_EQ(RAND_bytes(in.data(), static_cast<int>(n)), 1);
        in[0] |= 0x80;
        CtFe r;
        field_->reduce(r, in);
        BnPtr v = bnFromBytes(in);
        BN_nnmod(want.get(), v.get(), m_.get(), ctx.get());
        EXPECT_EQ(store(r), bytesOf(want.get(), len_)) << n << " octets";
    }
}

TEST_P(CtFieldTest, LoadRefusesValuesNotBelowTheModulusAndStorePadsOnTheLeft) {
    CtFe r;
    EXPECT_EQ(field_->load(r, bytesOf(m_.get(), len_)), 0u);
    Bytes all_ones(len_, 0xFF);
    EXPECT_EQ(field_->load(r, all_ones), 0u);
    BnPtr five = newBn();
    BN_set_word(five.get(), 5);
    CtFe x = load(five.get());
    Bytes wide(len_ + 3);
    field_->store(wide, x);
    EXPECT_EQ(wide, bytesOf(five.get(), len_ + 3));
    CtFe one, y;
    field_->one(one);
    field_->select(y, ~CtLimb{0}, x, one);
    EXPECT_EQ(field_->equal(y, x), ~CtLimb{0});
    field_->select(y, 0, x, one);
    EXPECT_EQ(field_->equal(y, one), ~CtLimb{0});
    field_->cswap(~CtLimb{0}, x, y);
    EXPECT_EQ(field_->equal(x, one), ~CtLimb{0});
}

INSTANTIATE_TEST_SUITE_P(Moduli, CtFieldTest,
                         ::testing::Values(CtFieldCase{"SakkeP", "rfc6509_appendix_a.vec", "p"},
                                           CtFieldCase{"SakkeQ", "rfc6509_appendix_a.vec", "q"},
                                           CtFieldCase{"P256Order", nullptr, nullptr}),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace iwf::mc::security
