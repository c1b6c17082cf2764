// SPDX-License-Identifier: LGPL-2.1-or-later
// Latency histograms (LatencyHistogram): buckets, quantile estimates and
// runqlat's ASCII layout.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <regex>
#include <sstream>
#include <vector>

#include "format/format.hpp"

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

constexpr size_t kLast = LatencyHistogram::kBuckets - 1;

LatencyHistogram::Buckets counted(const std::vector<uint64_t>& periods_ns) {
    LatencyHistogram::Buckets buckets{};
    for (uint64_t ns : periods_ns)
        ++buckets[LatencyHistogram::bucket_of(ns)];
    return buckets;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("histogram: each bucket holds the durations between its bounds") {
    CHECK(LatencyHistogram::bucket_of(0) == 0);
    CHECK(LatencyHistogram::bucket_of(999) == 0);
    for (size_t i = 1; i < kLast; ++i) {
        INFO("bucket " << i);
        CHECK(LatencyHistogram::high_us(i) == 2 * LatencyHistogram::low_us(i));
        CHECK(LatencyHistogram::bucket_of(LatencyHistogram::low_us(i) * 1000) == i);
        CHECK(LatencyHistogram::bucket_of(LatencyHistogram::high_us(i) * 1000 - 1) == i);
        CHECK(LatencyHistogram::low_us(i + 1) == LatencyHistogram::high_us(i));
    }
    CHECK(LatencyHistogram::low_us(kLast) == uint64_t(1) << 26);
    CHECK(LatencyHistogram::high_us(kLast) == UINT64_MAX);
    CHECK(LatencyHistogram::bucket_of(UINT64_MAX) == kLast);
}

TEST_CASE("histogram: a quantile estimate lies in the bucket of the true quantile") {
    std::mt19937_64 random(11);
    // Log-uniform from 100 ns to 10 s: every bucket in use.
    std::uniform_real_distribution<double> exponent(2, 10);
    std::vector<uint64_t> periods(5000);
    for (uint64_t& ns : periods)
        ns = uint64_t(std::pow(10.0, exponent(random)));
    const LatencyHistogram::Buckets buckets = counted(periods);
    std::sort(periods.begin(), periods.end());
    const double max_us = double(periods.back()) / 1000.0;
    for (double fraction : {0.01, 0.25, 0.5, 0.9, 0.99, 0.999}) {
        INFO("fraction " << fraction);
        // The rank-th period, as the estimate counts them (1-based, rounded up).
        const uint64_t truth = periods[size_t(std::ceil(fraction * double(periods.size()))) - 1];
        const size_t bucket = LatencyHistogram::bucket_of(truth);
        const std::optional<double> estimate = histogram_quantile_us(buckets, fraction, max_us);
        REQUIRE(estimate);
        CHECK(*estimate >= double(LatencyHistogram::low_us(bucket)));
        CHECK(*estimate <= std::min(double(LatencyHistogram::high_us(bucket)), max_us));
    }
    // The longest period bounds the estimate, and closes the last bucket.
    CHECK(histogram_quantile_us(buckets, 1.0, max_us) == max_us);
}

TEST_CASE("histogram: within a bucket the periods are taken as spread evenly") {
    // Ten periods of 1.5 ms: all in the bucket 1024-2047 us.
    const LatencyHistogram::Buckets buckets = counted(std::vector<uint64_t>(10, 1'500'000));
    const size_t bucket = LatencyHistogram::bucket_of(1'500'000);
    const double low = double(LatencyHistogram::low_us(bucket));
    const double width = double(LatencyHistogram::high_us(bucket)) - low;
    CHECK(histogram_quantile_us(buckets, 0.5) == Approx(low + width * 5 / 10));
    CHECK(histogram_quantile_us(buckets, 0.05) == Approx(low + width * 1 / 10));  // the first period
    CHECK(histogram_quantile_us(buckets, 1.0) == Approx(low + width));
    // Bounded by the longest period when it is known.
    CHECK(histogram_quantile_us(buckets, 1.0, 1500.0) == Approx(1500.0));
    CHECK_FALSE(histogram_quantile_us(LatencyHistogram::Buckets{}, 0.5));
}

TEST_CASE("histogram: a chain's quantiles are of its periods or of its runqueue waits") {
    WakeChain chain = futex_chain();
    chain.max_ns = 24'100'000;
    for (int i = 0; i < 20; ++i) {
        ++chain.histogram.off_cpu[LatencyHistogram::bucket_of(i % 2 ? 24'000'000 : 1'500'000)];
        ++chain.histogram.runqueue[LatencyHistogram::bucket_of(40'000)];
    }
    const auto in_bucket = [](std::optional<double> us, uint64_t ns) {
        const size_t bucket = LatencyHistogram::bucket_of(ns);
        return us && *us >= double(LatencyHistogram::low_us(bucket)) &&
               *us <= double(LatencyHistogram::high_us(bucket));
    };
    CHECK(in_bucket(chain_quantile_us(chain, 0.5), 1'500'000));
    CHECK(in_bucket(chain_quantile_us(chain, 0.9), 24'000'000));
    CHECK(chain_quantile_us(chain, 1.0) <= 24'100.0);
    CHECK(in_bucket(chain_quantile_us(chain, 0.99, true), 40'000));
    CHECK_FALSE(chain_quantile_us(futex_chain(), 0.5));
}

TEST_CASE("histogram: runqlat's layout, from the first bucket in use to the last") {
    LatencyHistogram::Buckets buckets{};
    buckets[3] = 7;   // 4-7 us
    buckets[5] = 40;  // 16-31 us
    buckets[6] = 1;   // 32-63 us
    buckets[kLast] = 2;
    const std::vector<std::string> lines = lines_of(format_histogram(buckets, "runqueue usecs", "  "));
    REQUIRE(lines.size() == 1 + (kLast - 3 + 1));
    CHECK(std::regex_match(lines[0], std::regex(R"(  \s*runqueue usecs : count\s+distribution)")));
    const std::regex row(R"(  \s*(\d+) -> (\S+)\s+: (\d+)\s+\|(\**)( *)\|)");
    for (size_t i = 1; i < lines.size(); ++i) {
        const size_t bucket = 3 + i - 1;
        INFO(lines[i]);
        std::smatch match;
        REQUIRE(std::regex_match(lines[i], match, row));
        CHECK(std::stoull(match[1]) == LatencyHistogram::low_us(bucket));
        if (bucket == kLast)
            CHECK(match[2] == "...");
        else
            CHECK(std::stoull(match[2]) == LatencyHistogram::high_us(bucket) - 1);
        CHECK(std::stoull(match[3]) == buckets[bucket]);
        // Bars 40 wide, scaled to the largest count; any count shows.
        const size_t stars = match[4].length();
        CHECK(stars + match[5].length() == 40);
        CHECK(stars == std::max<size_t>(buckets[bucket] ? 1 : 0, buckets[bucket] * 40 / 40));
    }
    CHECK(format_histogram(LatencyHistogram::Buckets{}, "runqueue usecs", "  ").empty());
}

TEST_CASE("histogram: the text layout shows a chain's histograms under its total when asked") {
    WakeChain chain = futex_chain();
    ++chain.histogram.off_cpu[11];
    ++chain.histogram.runqueue[2];
    FormatOptions options;
    const std::string plain = format_text(profile_of({chain}), options);
    options.histograms = true;
    const std::string shown = format_text(profile_of({chain}), options);
    CHECK(plain.find("usecs") == std::string::npos);
    const std::string histograms = format_chain_histograms(chain, "        ");
    // The block as before, with the histograms between the total and the empty line.
    CHECK(shown == plain.substr(0, plain.size() - 1) + histograms + "\n");
    CHECK(histograms.find("off-CPU usecs") < histograms.find("runqueue usecs"));
    // A chain without histograms prints as before.
    CHECK(format_text(profile_of({futex_chain()}), options) == format_text(profile_of({futex_chain()}), {}));
}
