#include "core/hmac.h"

#include <gtest/gtest.h>

#include <string>

#include "core/encoding.h"

namespace interlock {
namespace {

struct HmacVector {
  const char* name;
  std::string key;
  std::string data;
  const char* mac;
};

TEST(HmacSha256Test, MatchesRfc4231) {
  const HmacVector vectors[] = {
      {"1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", HexDecode("0102030405060708090a0b0c0d0e0f10111213141516171819").value(),
       std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"6", std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7", std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. "
       "The key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const HmacVector& v : vectors) {
    EXPECT_EQ(HexEncode(HmacSha256(AsBytes(v.key), v.data)), v.mac) << "test case " << v.name;
  }
}

TEST(HmacSha256Test, EmptyKeyAndMessageWork) {
  // Computed independently: python3 -c "import hmac; print(hmac.new(b'', b'',
  // 'sha256').hexdigest())".
  EXPECT_EQ(HexEncode(HmacSha256({}, "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Test, OneKeyServesManyMessages) {
  std::string key(131, '\xaa');
  Hmac mac(AsBytes(key));
  for (std::string message : {std::string(), std::string("a"), std::string(64, 'b'),
                              std::string(1000, 'c'), std::string("a")}) {
    EXPECT_EQ(HexEncode(mac.Mac(message)), HexEncode(HmacSha256(AsBytes(key), message)))
        << message.size() << " bytes";
  }
}

TEST(ConstantTimeEqualTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEqual("", "a"));
  EXPECT_TRUE(ConstantTimeEqual(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEqual(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace interlock
