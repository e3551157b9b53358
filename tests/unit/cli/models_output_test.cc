#include "cli/models_output.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace mg::cli {
namespace {

namespace json = boost::json;

const char* kModels = R"({"models":[
  {"id":"team/nova:pro","provider_model_id":"amazon.nova-pro-v1:0","region":"us-east-1",
   "credential":{"id":"cred_1","name":"prod"},"team_access":{"all_teams":true,"teams":[]},
   "health":{"status":"healthy","in_pool":true,"cause":null,"message":null,
             "last_checked_at":"2026-12-03T10:05:00Z","next_check_at":"2026-12-03T10:10:00Z"}},
  {"id":"llama","provider_model_id":"meta.llama3-8b-instruct-v1:0","region":"us-west-2",
   "credential":{"inline":true,"auth_type":"role_arn"},
   "team_access":{"all_teams":false,"teams":[{"id":"team_1","name":"research"},
                                             {"id":"team_2","name":"sales"}]},
   "health":{"status":"unhealthy","in_pool":false,"cause":"permission_denied",
             "message":"AccessDenied: check the IAM policy"}}]})";

TEST(RenderModelTable, ShowsCredentialNameOrInlineAndTeamsOrAll) {
  EXPECT_EQ(RenderModelTable(json::parse(kModels)),
            "ID             PROVIDER MODEL                REGION     CREDENTIAL  TEAMS           "
            "HEALTH     IN POOL\n"
            "team/nova:pro  amazon.nova-pro-v1:0          us-east-1  prod        all             "
            "healthy    yes\n"
            "llama          meta.llama3-8b-instruct-v1:0  us-west-2  inline      research,sales  "
            "unhealthy  no\n");
}

TEST(RenderHealthTable, OneRowPerModelWithCauseAndMessage) {
  std::string out = RenderHealthTable(json::parse(kModels));
  EXPECT_NE(out.find("ID             STATUS     IN POOL  CAUSE              LAST CHECKED"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("llama          unhealthy  no       permission_denied  -"), std::string::npos)
      << out;
  EXPECT_NE(out.find("AccessDenied: check the IAM policy\n"), std::string::npos) << out;
}

TEST(RenderCatalogTable, ListsModalitiesAndAdded) {
  std::string out = RenderCatalogTable(json::parse(
      R"({"region":"us-east-1","models":[{"provider_model_id":"anthropic.claude-3-haiku-20240307-v1:0",)"
      R"("name":"Claude 3 Haiku","vendor":"Anthropic","input_modalities":["TEXT","IMAGE"],)"
      R"("output_modalities":["TEXT"],"streaming":true,"lifecycle":"ACTIVE","added":false}]})"));
  EXPECT_EQ(out,
            "PROVIDER MODEL                          NAME            VENDOR     LIFECYCLE  "
            "STREAMING  INPUT       OUTPUT  ADDED\n"
            "anthropic.claude-3-haiku-20240307-v1:0  Claude 3 Haiku  Anthropic  ACTIVE     "
            "yes        TEXT,IMAGE  TEXT    no\n");
}

TEST(RenderHealthReport, ModelAndHealthFieldsThenRecentChecks) {
  // The GET .../health shape: the health object nested and spread at the top level.
  std::string out = RenderHealthReport(json::parse(
      R"({"id":"m","name":"M","provider":"bedrock","provider_model_id":"amazon.nova-lite-v1:0",)"
      R"("region":"us-east-1","lifecycle":"LEGACY","credential":{"id":"cred_1","name":"prod"},)"
      R"("team_access":{"all_teams":true,"teams":[]},"status":"unhealthy","in_pool":true,)"
      R"("health":{"status":"unhealthy","in_pool":true,"cause":"throttled","message":"slow down",)"
      R"("last_checked_at":"2026-12-03T10:05:00Z","next_check_at":null,"cooldown_until":null},)"
      R"("checks":[{"at":"2026-12-03T10:05:00.123Z","status":"unhealthy","latency_ms":12,)"
      R"("cause":"throttled","message":"slow down"}]})"));
  EXPECT_EQ(out,
            "id:              m\n"
            "name:            M\n"
            "provider model:  amazon.nova-lite-v1:0\n"
            "region:          us-east-1\n"
            "credential:      prod\n"
            "teams:           all\n"
            "lifecycle:       LEGACY\n"
            "status:          unhealthy\n"
            "in pool:         yes\n"
            "cause:           throttled\n"
            "message:         slow down\n"
            "last checked:    2026-12-03T10:05:00Z\n"
            "next check:      -\n"
            "cooldown until:  -\n"
            "\nrecent checks:\n"
            "AT                        STATUS     LATENCY MS  CAUSE      MESSAGE\n"
            "2026-12-03T10:05:00.123Z  unhealthy  12          throttled  slow down\n");
}

TEST(RenderHealthReport, AFlatHealthObjectWithoutChecks) {
  std::string out = RenderHealthReport(json::parse(R"({"status":"healthy","in_pool":true})"));
  EXPECT_NE(out.find("status:          healthy\n"), std::string::npos) << out;
  EXPECT_NE(out.find("in pool:         yes\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("recent checks"), std::string::npos) << out;
}

TEST(HealthStatusOf, ReadsNestedFlatOrCheckShapes) {
  EXPECT_EQ(HealthStatusOf(json::parse(R"({"health":{"status":"healthy"}})")), "healthy");
  EXPECT_EQ(HealthStatusOf(json::parse(R"({"status":"unhealthy"})")), "unhealthy");
  EXPECT_EQ(HealthStatusOf(json::parse(R"({"check":{"status":"unhealthy"}})")), "unhealthy");
  EXPECT_EQ(HealthStatusOf(json::parse(R"({"id":"m"})")), "");
}

}  // namespace
}  // namespace mg::cli
