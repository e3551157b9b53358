#include "cli/json_cells.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace mg::cli {
namespace {

namespace json = boost::json;

TEST(Find, FollowsDottedPathsThroughObjects) {
  json::value v = json::parse(R"({"health":{"status":"healthy"},"list":[1]})");
  ASSERT_NE(Find(v, "health.status"), nullptr);
  EXPECT_EQ(Find(v, "health.status")->as_string(), "healthy");
  EXPECT_EQ(Find(v, "health.missing"), nullptr);
  EXPECT_EQ(Find(v, "list.0"), nullptr);  // arrays are not indexed
  EXPECT_EQ(Find(v, "health.status.deeper"), nullptr);
  EXPECT_EQ(Find(v, ""), &v);
}

TEST(CellText, RendersEachKindForHumans) {
  json::value v = json::parse(
      R"({"s":"text","t":true,"f":false,"i":-3,"u":18446744073709551615,"d":1.5,"n":null,)"
      R"("strings":["TEXT","IMAGE"],"named":[{"id":"team_1","name":"research"},{"id":"team_2"}],)"
      R"("obj":{"a":1}})");
  EXPECT_EQ(Cell(v, "s"), "text");
  EXPECT_EQ(Cell(v, "t"), "yes");
  EXPECT_EQ(Cell(v, "f"), "no");
  EXPECT_EQ(Cell(v, "i"), "-3");
  EXPECT_EQ(Cell(v, "u"), "18446744073709551615");
  EXPECT_EQ(Cell(v, "d"), "1.5E0");
  EXPECT_EQ(Cell(v, "n"), "");
  EXPECT_EQ(Cell(v, "missing"), "");
  EXPECT_EQ(Cell(v, "strings"), "TEXT,IMAGE");
  EXPECT_EQ(Cell(v, "named"), "research,team_2");
  EXPECT_EQ(Cell(v, "obj"), R"({"a":1})");
  EXPECT_EQ(CellText(nullptr), "");
}

TEST(FlattenFields, NestedObjectsBecomeDottedKeysInOrder) {
  json::value v =
      json::parse(R"({"id":"cred_1","auth":{"type":"access_keys","secret_set":true},"models":[],)"
                  R"("empty":{},"checks":[{"at":"x"}]})");
  auto fields = FlattenFields(v, {"checks"});
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"id", "cred_1"}));
  EXPECT_EQ(fields[1], (std::pair<std::string, std::string>{"auth.type", "access_keys"}));
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"auth.secret_set", "yes"}));
  EXPECT_EQ(fields[3], (std::pair<std::string, std::string>{"models", ""}));
  EXPECT_EQ(fields[4], (std::pair<std::string, std::string>{"empty", "{}"}));
}

TEST(FlattenFields, NonObjectsGiveNoFields) {
  EXPECT_TRUE(FlattenFields(json::parse("[1,2]")).empty());
}

}  // namespace
}  // namespace mg::cli
