#include "cli/exit_codes.h"

#include <gtest/gtest.h>

#include <string>

namespace mg::cli {
namespace {

TEST(ExitCodeForStatus, SuccessIsZero) {
  EXPECT_EQ(ExitCodeForStatus(200), kExitOk);
  EXPECT_EQ(ExitCodeForStatus(201), kExitOk);
  EXPECT_EQ(ExitCodeForStatus(204), kExitOk);
}

TEST(ExitCodeForStatus, AuthNotFoundAndConflictHaveTheirOwnCodes) {
  EXPECT_EQ(ExitCodeForStatus(401), kExitAuth);
  EXPECT_EQ(ExitCodeForStatus(403), kExitAuth);
  EXPECT_EQ(ExitCodeForStatus(404), kExitNotFound);
  EXPECT_EQ(ExitCodeForStatus(409), kExitConflict);
}

TEST(ExitCodeForStatus, EveryOtherErrorIsOne) {
  for (int status : {400, 405, 413, 422, 429, 500, 502, 503, 504}) {
    EXPECT_EQ(ExitCodeForStatus(status), kExitApiError) << status;
  }
}

TEST(ExitCodes, AreDistinctAndDocumentedInTheHelpText) {
  const int codes[] = {kExitOk,   kExitApiError, kExitUsage,    kExitUnreachable,
                       kExitAuth, kExitNotFound, kExitConflict, kExitCheckFailed};
  for (size_t i = 0; i < std::size(codes); ++i) {
    EXPECT_EQ(codes[i], static_cast<int>(i));
    EXPECT_NE(kExitCodesHelp.find("  " + std::to_string(codes[i]) + "  "), std::string::npos)
        << codes[i];
  }
}

}  // namespace
}  // namespace mg::cli
