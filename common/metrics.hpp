#pragma once

/// Prometheus metrics: counters and latency histograms keyed by a small, fixed set of labels,
/// rendered in the text exposition format (version 0.0.4). Thread-safe; each update takes a
/// short lock that never spans a suspension.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seedhook {

class Metrics {
public:
    /// One served request: the route pattern (never the raw path), method and status.
    void observe_request(std::string_view route, std::string_view method, int status, double seconds);
    /// One callback delivery and what it did.
    void count_callback(std::string_view provider, std::string_view outcome);
    /// One call to a provider's API (`operation`: submit, query) and how it ended.
    void observe_provider_call(std::string_view provider, std::string_view operation, std::string_view result, double seconds);
    /// One TLS handshake with a provider (pooled connections make these rare).
    void count_provider_handshake(std::string_view provider);
    /// One committed write transaction and how many deliveries or jobs it carried.
    void observe_commit(double seconds, std::size_t writes);

    /// A gauge value to render with the metrics (set at scrape time).
    struct Gauge {
        std::string name;
        std::string help;
        std::vector<std::pair<std::string, double>> samples;  ///< label text ("" or `k="v"`) and value
    };

    /// The text exposition of everything recorded, followed by `gauges`.
    std::string render(const std::vector<Gauge>& gauges) const;

    /// `key="value"` with the value escaped as the format requires.
    static std::string label(std::string_view key, std::string_view value);
    /// The same, appended to `out`.
    static void append_label(std::string& out, std::string_view key, std::string_view value);

private:
    using Buckets = std::array<double, 12>;
    static constexpr Buckets kSeconds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
    static constexpr Buckets kSizes = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

    struct Histogram {
        const Buckets* bounds = &kSeconds;
        std::array<std::uint64_t, Buckets{}.size()> counts{};  ///< not cumulative
        std::uint64_t count = 0;
        double sum = 0;

        void observe(double seconds);
    };

    struct Family {
        std::string help;
        std::map<std::string, std::uint64_t, std::less<>> counters;  ///< by label text
        std::map<std::string, Histogram, std::less<>> histograms;    ///< by label text
    };

    void add(std::string_view name, std::string_view help, std::string_view labels);
    void observe(std::string_view name, std::string_view help, std::string_view labels, double value, const Buckets& bounds = kSeconds);
    Family& family_locked(std::string_view name, std::string_view help);
    void add_locked(std::string_view name, std::string_view help, std::string_view labels);
    void observe_locked(std::string_view name, std::string_view help, std::string_view labels, double value, const Buckets& bounds);

    mutable std::mutex mutex_;
    std::map<std::string, Family, std::less<>> families_;
};

}  // namespace seedhook
