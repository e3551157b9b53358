#include "core/result.h"

#include <stdexcept>

namespace mg {

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error("Result::value() on error: " + e.reason + ": " + e.message);
}

}  // namespace mg
