#include "core/secret.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mg {
namespace {

TEST(Secret, PrintsRedacted) {
  Secret s("wJalrXUtnFEMI/K7MDENG");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "[redacted]");
  EXPECT_EQ(s.Reveal(), "wJalrXUtnFEMI/K7MDENG");
}

TEST(Secret, MovedFromIsEmpty) {
  Secret a("abc");
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the wipe
  EXPECT_EQ(b.Reveal(), "abc");
}

TEST(Secret, ComparesByValue) {
  EXPECT_EQ(Secret("x"), Secret("x"));
  EXPECT_FALSE(Secret("x") == Secret("y"));
  EXPECT_FALSE(Secret("x") == Secret("xx"));
}

}  // namespace
}  // namespace mg
