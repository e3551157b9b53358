#include "cli/exit_codes.h"

namespace mg::cli {

int ExitCodeForStatus(int http_status) {
  if (http_status < 400) return kExitOk;
  switch (http_status) {
    case 401:
    case 403:
      return kExitAuth;
    case 404:
      return kExitNotFound;
    case 409:
      return kExitConflict;
    default:
      return kExitApiError;
  }
}

}  // namespace mg::cli
