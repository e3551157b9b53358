// @file bench_util.h
// @brief Small helpers shared by the benchmark translation units.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mg::bench {

// Reads a file under tests/data (MG_BENCH_DATA_DIR); throws when it is missing so a benchmark
// never silently measures an empty buffer.
inline std::string ReadTestData(std::string_view relative) {
  const std::string path = std::string(MG_BENCH_DATA_DIR) + "/" + std::string(relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mg::bench
