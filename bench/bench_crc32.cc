// CRC-32/IEEE (slicing-by-8) throughput over buffers from one event-stream prelude to 1 MiB.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "providers/aws/crc32.h"

namespace mg::aws {
namespace {

void BM_Crc32(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), '\0');
  uint32_t x = 1;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  for (auto _ : state) {
    uint32_t crc = Crc32(data);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32)->Arg(8)->Arg(64)->Arg(1024)->Arg(64 * 1024)->Arg(1024 * 1024);

}  // namespace
}  // namespace mg::aws
