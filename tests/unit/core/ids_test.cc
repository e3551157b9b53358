#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "core/clock.h"

namespace mg {
namespace {

TEST(Ids, HavePrefixAreUniqueAndSortByTime) {
  RealClock clock;
  std::set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewId("cred", clock.Now() + std::chrono::milliseconds(i));
    EXPECT_EQ(id.rfind("cred_", 0), 0u);
    EXPECT_EQ(id.size(), 5u + 26u);
    EXPECT_TRUE(seen.insert(id).second);
    EXPECT_LT(prev.substr(0, 15), id.substr(0, 15) + "~");
    prev = id;
  }
}

TEST(Ids, UuidIsVersion4) {
  std::string u = NewUuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(NewUuid(), u);
}

}  // namespace
}  // namespace mg
