#include "common/metrics.hpp"

#include <cstdio>

namespace seedhook {

namespace {

std::string number(double v) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
    return {buf, static_cast<std::size_t>(n)};
}

std::string with_label(const std::string& labels, const std::string& extra) {
    if (labels.empty()) {
        return "{" + extra + "}";
    }
    return "{" + labels + "," + extra + "}";
}

std::string braces(const std::string& labels) { return labels.empty() ? std::string() : "{" + labels + "}"; }

}  // namespace

std::string Metrics::label(std::string_view key, std::string_view value) {
    std::string out(key);
    out += "=\"";
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

void Metrics::Histogram::observe(double seconds) {
    for (std::size_t i = 0; i < bounds->size(); ++i) {
        if (seconds <= (*bounds)[i]) {
            ++counts[i];
            break;
        }
    }
    ++count;
    sum += seconds;
}

void Metrics::add(std::string_view name, std::string_view help, const std::string& labels) {
    const std::lock_guard lock(mutex_);
    auto [it, inserted] = families_.try_emplace(std::string(name));
    if (inserted) {
        it->second.help = help;
    }
    ++it->second.counters[labels];
}

void Metrics::observe(std::string_view name, std::string_view help, const std::string& labels, double value, const Buckets& bounds) {
    const std::lock_guard lock(mutex_);
    auto [it, inserted] = families_.try_emplace(std::string(name));
    if (inserted) {
        it->second.help = help;
    }
    auto& h = it->second.histograms[labels];
    h.bounds = &bounds;
    h.observe(value);
}

void Metrics::observe_request(std::string_view route, std::string_view method, int status, double seconds) {
    const std::string labels = label("route", route) + "," + label("method", method) + "," + label("status", std::to_string(status));
    add("seedhook_http_requests_total", "HTTP requests served, by route pattern, method and status.", labels);
    observe("seedhook_http_request_duration_seconds", "Time to answer an HTTP request.", label("route", route), seconds);
}

void Metrics::count_callback(std::string_view provider, std::string_view outcome) {
    add("seedhook_callbacks_total", "Callback deliveries received, by provider and outcome.", label("provider", provider) + "," + label("outcome", outcome));
}

void Metrics::observe_provider_call(std::string_view provider, std::string_view operation, std::string_view result, double seconds) {
    const std::string who = label("provider", provider) + "," + label("operation", operation);
    add("seedhook_provider_calls_total", "Calls to provider APIs, by provider, operation and result.", who + "," + label("result", result));
    observe("seedhook_provider_call_duration_seconds", "Time a provider API call took.", who, seconds);
}

void Metrics::count_provider_handshake(std::string_view provider) {
    add("seedhook_provider_tls_handshakes_total", "TLS handshakes with provider APIs (new connections), by provider.", label("provider", provider));
}

void Metrics::observe_commit(double seconds, std::size_t writes) {
    observe("seedhook_storage_commit_duration_seconds", "Time to commit a write transaction (synchronous as configured).", "", seconds);
    observe("seedhook_storage_commit_writes", "Writes (deliveries, jobs, query answers) carried by one group commit.", "", static_cast<double>(writes), kSizes);
}

std::string Metrics::render(const std::vector<Gauge>& gauges) const {
    std::string out;
    const std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
        const bool histogram = !family.histograms.empty();
        out += "# HELP " + name + " " + family.help + "\n";
        out += "# TYPE " + name + (histogram ? " histogram\n" : " counter\n");
        for (const auto& [labels, value] : family.counters) {
            out += name + braces(labels) + " " + std::to_string(value) + "\n";
        }
        for (const auto& [labels, h] : family.histograms) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < h.bounds->size(); ++i) {
                cumulative += h.counts[i];
                out += name + "_bucket" + with_label(labels, label("le", number((*h.bounds)[i]))) + " " + std::to_string(cumulative) + "\n";
            }
            out += name + "_bucket" + with_label(labels, "le=\"+Inf\"") + " " + std::to_string(h.count) + "\n";
            out += name + "_sum" + braces(labels) + " " + number(h.sum) + "\n";
            out += name + "_count" + braces(labels) + " " + std::to_string(h.count) + "\n";
        }
    }
    for (const auto& g : gauges) {
        out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
        for (const auto& [labels, value] : g.samples) {
            out += g.name + braces(labels) + " " + number(value) + "\n";
        }
    }
    return out;
}

}  // namespace seedhook
