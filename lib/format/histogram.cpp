// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A chain's latency histograms (LatencyHistogram): quantile estimates for
// tables, and runqlat's ASCII layout for the text report.
#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "format/format.hpp"

namespace waketrace {
namespace {

constexpr size_t kBarWidth = 40;  // runqlat's

// Whole microseconds a bucket holds, both ends included: "4 -> 7".
std::string bucket_range(size_t bucket) {
    const uint64_t low = LatencyHistogram::low_us(bucket);
    if (bucket + 1 == LatencyHistogram::kBuckets)
        return fmt::format("{:>10} -> {:<10}", low, "...");
    return fmt::format("{:>10} -> {:<10}", low, std::max(low, LatencyHistogram::high_us(bucket) - 1));
}

// The bar of a count against the largest: at least one star for any count.
std::string bar(uint64_t count, uint64_t largest) {
    size_t stars = largest ? size_t(count * kBarWidth / largest) : 0;
    if (count && !stars)
        stars = 1;
    return std::string(stars, '*') + std::string(kBarWidth - stars, ' ');
}

}  // namespace

std::optional<double> histogram_quantile_us(const LatencyHistogram::Buckets& buckets, double fraction,
                                            std::optional<double> max_us) {
    uint64_t total = 0;
    for (uint64_t count : buckets)
        total += count;
    if (total == 0)
        return std::nullopt;
    fraction = std::clamp(fraction, 0.0, 1.0);
    // The rank of the period sought, 1-based: at least the first one.
    const double rank = std::max(1.0, fraction * double(total));
    uint64_t before = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
        if (buckets[i] == 0 || double(before + buckets[i]) < rank) {
            before += buckets[i];
            continue;
        }
        const double low = double(LatencyHistogram::low_us(i));
        // The last bucket has no bound of its own: the longest period seen
        // is one, else twice its start.
        const double high = i + 1 == buckets.size() ? std::max(low, max_us.value_or(2 * low))
                                                    : double(LatencyHistogram::high_us(i));
        // Spread evenly through the bucket: the rank-th of its periods.
        const double estimate = low + (high - low) * (rank - double(before)) / double(buckets[i]);
        return max_us ? std::min(estimate, *max_us) : estimate;
    }
    return std::nullopt;  // not reached: rank <= total
}

std::optional<double> chain_quantile_us(const WakeChain& chain, double fraction, bool runqueue) {
    // A runqueue wait is part of its period, so the longest period bounds both.
    return histogram_quantile_us(runqueue ? chain.histogram.runqueue : chain.histogram.off_cpu, fraction,
                                 double(chain.max_ns) / 1000.0);
}

std::string format_histogram(const LatencyHistogram::Buckets& buckets, std::string_view unit_label,
                             std::string_view indent) {
    const auto used = [](uint64_t count) { return count != 0; };
    const auto first = std::find_if(buckets.begin(), buckets.end(), used);
    if (first == buckets.end())
        return {};
    const auto last = std::find_if(buckets.rbegin(), buckets.rend(), used).base();
    const uint64_t largest = *std::max_element(first, last);
    std::string out;
    fmt::format_to(std::back_inserter(out), "{}{:>24} : count    distribution\n", indent, unit_label);
    for (auto it = first; it != last; ++it)
        fmt::format_to(std::back_inserter(out), "{}{} : {:<8} |{}|\n", indent,
                       bucket_range(size_t(it - buckets.begin())), *it, bar(*it, largest));
    return out;
}

std::string format_chain_histograms(const WakeChain& chain, std::string_view indent) {
    if (chain.histogram.count() == 0)
        return {};
    return format_histogram(chain.histogram.off_cpu, "off-CPU usecs", indent) +
           format_histogram(chain.histogram.runqueue, "runqueue usecs", indent);
}

}  // namespace waketrace
