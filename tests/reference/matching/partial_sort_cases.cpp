// Reference for evaluation.matching.nearest.heap_select: which positions libstdc++'s
// std::partial_sort(first, first + k, last) puts first, on index vectors compared by a key
// with many ties (as MatchIt's find_control_vec does). Prints JSON lines: {"keys": [...], "k": k, "first": [...]}.
// Build and run: g++ -O2 -std=c++11 partial_sort_cases.cpp -o /tmp/ps && /tmp/ps > partial_sort_cases.jsonl
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

int main() {
  std::mt19937 gen(20261123);
  for (int rep = 0; rep < 300; ++rep) {
    int n = 2 + gen() % 9;
    int k = 1 + gen() % (n - 1);
    std::vector<double> keys(n);
    for (int i = 0; i < n; ++i) keys[i] = static_cast<double>(gen() % 4);  // heavy ties
    std::vector<int> ind(n);
    std::iota(ind.begin(), ind.end(), 0);
    std::partial_sort(ind.begin(), ind.begin() + k, ind.end(),
                      [&keys](int a, int b) { return keys[a] < keys[b]; });
    std::printf("{\"keys\": [");
    for (int i = 0; i < n; ++i) std::printf(i ? ", %g" : "%g", keys[i]);
    std::printf("], \"k\": %d, \"first\": [", k);
    for (int i = 0; i < k; ++i) std::printf(i ? ", %d" : "%d", ind[i]);
    std::printf("]}\n");
  }
  return 0;
}
