#include "core/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace interlock {
namespace {

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xfb\xff\xbf"), "+/+/");
}

TEST(Base64Test, DecodesWhatItEncodes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (size_t length = 0; length <= all.size(); length += 1 + length / 8) {
    std::string bytes = all.substr(all.size() - length);
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << length;
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(Base64Decode("Zm9vYmE=").value_or("?"), "fooba");
  EXPECT_EQ(Base64Decode("").value_or("?"), "");
}

TEST(Base64Test, RejectsMalformedInputWithClearErrors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"Zg=", "invalid base64: length 3 is not a multiple of 4"},
      {"Zm9vY", "invalid base64: length 5 is not a multiple of 4"},
      {"Zm9v\nYmFy", "invalid base64: length 9 is not a multiple of 4"},
      {"Zm9*", "invalid base64: unexpected character at offset 3"},
      {"Zm 9", "invalid base64: unexpected character at offset 2"},
      {"Zm-_", "invalid base64: unexpected character at offset 2"},
      {"Zg==Zg==", "invalid base64: misplaced padding at offset 2"},
      {"====", "invalid base64: misplaced padding at offset 0"},
      {"Z===", "invalid base64: misplaced padding at offset 1"},
      {"Zm=v", "invalid base64: misplaced padding at offset 2"},
      {"Zh==", "invalid base64: non-zero bits after the last byte"},
      {"Zm9=", "invalid base64: non-zero bits after the last byte"},
  };
  for (const auto& [input, message] : cases) {
    auto decoded = Base64Decode(input);
    ASSERT_FALSE(decoded.has_value()) << input;
    EXPECT_EQ(decoded.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(decoded.error().message(), message) << input;
  }
}

TEST(HexTest, EncodesLowercaseAndDecodesEitherCase) {
  const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes), "0001abff");
  EXPECT_EQ(HexEncode(std::string_view("")), "");
  EXPECT_EQ(HexDecode("0001abff").value_or("?"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(HexDecode("0001ABFF").value_or("?"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(HexDecode("").value_or("?"), "");
}

TEST(HexTest, RejectsMalformedInputWithClearErrors) {
  auto odd = HexDecode("abc");
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().message(), "invalid hex: odd length 3");
  auto bad_high = HexDecode("00g0");
  ASSERT_FALSE(bad_high.has_value());
  EXPECT_EQ(bad_high.error().message(), "invalid hex: unexpected character at offset 2");
  auto bad_low = HexDecode("000 ");
  ASSERT_FALSE(bad_low.has_value());
  EXPECT_EQ(bad_low.error().message(), "invalid hex: unexpected character at offset 3");
}

}  // namespace
}  // namespace interlock
