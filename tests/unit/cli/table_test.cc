#include "cli/table.h"

#include <gtest/gtest.h>

namespace mg::cli {
namespace {

TEST(Table, AlignsColumnsOnTheWidestCellWithoutTrailingSpaces) {
  Table t({"ID", "NAME", "REGION"});
  t.AddRow({"cred_1", "prod", "us-east-1"});
  t.AddRow({"c2", "a-much-longer-name", "eu-west-1"});
  EXPECT_EQ(t.Render(),
            "ID      NAME                REGION\n"
            "cred_1  prod                us-east-1\n"
            "c2      a-much-longer-name  eu-west-1\n");
  EXPECT_EQ(t.rows(), 2u);
}

TEST(Table, HeaderOnlyWhenThereAreNoRows) {
  Table t({"ID", "NAME"});
  EXPECT_EQ(t.Render(), "ID  NAME\n");
}

TEST(Table, EmptyCellsShowADash) {
  Table t({"A", "B", "C"});
  t.AddRow({"", "x", ""});
  EXPECT_EQ(t.Render(), "A  B  C\n-  x  -\n");
}

TEST(Table, NewlinesAndEscapesInServerTextCannotBreakTheLayout) {
  Table t({"NAME", "X"});
  t.AddRow({"evil\nname\t\x1b[31mred", "1"});
  EXPECT_EQ(t.Render(), "NAME                X\nevil name ?[31mred  1\n");
}

TEST(Table, CountsUtf8CodePointsNotBytes) {
  Table t({"NAME", "X"});
  t.AddRow({"\xc3\xa9quipe", "1"});  // "équipe": 6 code points, 7 bytes
  EXPECT_EQ(t.Render(), "NAME    X\n\xc3\xa9quipe  1\n");
}

TEST(Table, LimitWidthCutsLongCellsWithAnEllipsis) {
  Table t({"ID", "MESSAGE"});
  t.LimitWidth(1, 8);
  t.AddRow({"a", "short"});
  t.AddRow({"b", "a much longer message"});
  EXPECT_EQ(t.Render(),
            "ID  MESSAGE\n"
            "a   short\n"
            "b   a much \xe2\x80\xa6\n");
}

TEST(TruncateToWidth, CutsAtCodePointBoundaries) {
  EXPECT_EQ(TruncateToWidth("abc", 3), "abc");
  EXPECT_EQ(TruncateToWidth("abcd", 3), "ab\xe2\x80\xa6");
  EXPECT_EQ(TruncateToWidth("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3), "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
}

TEST(SanitizeCell, ReplacesC0C1AndDelButKeepsOtherUtf8) {
  EXPECT_EQ(SanitizeCell("a\rb"), "a b");
  EXPECT_EQ(SanitizeCell(std::string("a\0b", 3)), "a?b");
  EXPECT_EQ(SanitizeCell("a\x7f"), "a?");
  EXPECT_EQ(SanitizeCell("x\xc2\x9b"
                         "31m"),
            "x?31m");                                                         // U+009B CSI
  EXPECT_EQ(SanitizeCell("\xc2\xa9 \xe2\x82\xac"), "\xc2\xa9 \xe2\x82\xac");  // (c) and euro
}

TEST(DisplayWidth, CountsCodePoints) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("\xe2\x82\xac\xe2\x82\xac"), 2u);
}

TEST(RenderFields, AlignsValuesAfterTheLongestKey) {
  EXPECT_EQ(RenderFields({{"id", "cred_1"}, {"auth.type", "access_keys"}, {"models", ""}}),
            "id:         cred_1\n"
            "auth.type:  access_keys\n"
            "models:     -\n");
}

TEST(RenderFields, SanitisesKeysAndValues) {
  EXPECT_EQ(RenderFields({{"a\nb", "c\x1b"}}), "a b:  c?\n");
}

TEST(TableDeathTest, RowWithTheWrongNumberOfCellsIsAProgrammerError) {
  Table t({"A", "B"});
  EXPECT_DEATH(t.AddRow({"only one"}), "different number of cells");
}

}  // namespace
}  // namespace mg::cli
