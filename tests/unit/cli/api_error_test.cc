#include "cli/api_error.h"

#include <gtest/gtest.h>

namespace mg::cli {
namespace {

TEST(ParseApiError, ReadsTheContractShape) {
  ApiError e = ParseApiError(
      409, R"({"error":{"type":"conflict_error","code":"credential_in_use","message":"In use.",)"
           R"("param":"id"},"message":"In use.","tpe":"Conflict","errors":[]})");
  EXPECT_EQ(e.status, 409);
  EXPECT_EQ(e.type, "conflict_error");
  EXPECT_EQ(e.code, "credential_in_use");
  EXPECT_EQ(e.message, "In use.");
  EXPECT_EQ(e.param, "id");
}

TEST(ParseApiError, NullParamIsEmpty) {
  ApiError e = ParseApiError(
      404, R"({"error":{"type":"not_found_error","code":"model_not_found","message":"No model.",)"
           R"("param":null}})");
  EXPECT_EQ(e.param, "");
  EXPECT_EQ(FormatApiError(e), "No model. (code: model_not_found, HTTP 404)");
}

TEST(ParseApiError, ABodyThatIsNotTheShapeIsNeverEchoed) {
  for (const char* body : {"", "<html>502 Bad Gateway secret-ish</html>", "[]", "{\"error\":1}",
                           "{\"error\":{\"message\":42}}"}) {
    ApiError e = ParseApiError(502, body);
    EXPECT_EQ(e.message, "the server answered HTTP 502 without an error message") << body;
    EXPECT_EQ(e.code, "");
    EXPECT_EQ(FormatApiError(e).find("secret"), std::string::npos);
  }
}

TEST(FormatApiError, ListsParamCodeAndStatus) {
  ApiError e;
  e.status = 400;
  e.message = "Unknown team 'x'.";
  e.code = "team_not_found";
  e.param = "team_access.teams[0]";
  EXPECT_EQ(FormatApiError(e),
            "Unknown team 'x'. (param: team_access.teams[0], code: team_not_found, HTTP 400)");
}

TEST(FormatApiError, SanitisesServerText) {
  ApiError e;
  e.status = 400;
  e.message = "bad\n\x1b[2Jname";
  EXPECT_EQ(FormatApiError(e), "bad ?[2Jname (HTTP 400)");
}

}  // namespace
}  // namespace mg::cli
