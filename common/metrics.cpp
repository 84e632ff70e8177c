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

void Metrics::append_label(std::string& out, std::string_view key, std::string_view value) {
    out += key;
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
}

std::string Metrics::label(std::string_view key, std::string_view value) {
    std::string out;
    append_label(out, key, value);
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

// Lookups by name and label text allocate only for a series seen for the first time.
Metrics::Family& Metrics::family_locked(std::string_view name, std::string_view help) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{}).first;
        it->second.help = help;
    }
    return it->second;
}

void Metrics::add_locked(std::string_view name, std::string_view help, std::string_view labels) {
    auto& counters = family_locked(name, help).counters;
    auto it = counters.find(labels);
    if (it == counters.end()) {
        it = counters.emplace(std::string(labels), 0).first;
    }
    ++it->second;
}

void Metrics::observe_locked(std::string_view name, std::string_view help, std::string_view labels, double value, const Buckets& bounds) {
    auto& histograms = family_locked(name, help).histograms;
    auto it = histograms.find(labels);
    if (it == histograms.end()) {
        it = histograms.emplace(std::string(labels), Histogram{}).first;
    }
    it->second.bounds = &bounds;
    it->second.observe(value);
}

void Metrics::add(std::string_view name, std::string_view help, std::string_view labels) {
    const std::lock_guard lock(mutex_);
    add_locked(name, help, labels);
}

void Metrics::observe(std::string_view name, std::string_view help, std::string_view labels, double value, const Buckets& bounds) {
    const std::lock_guard lock(mutex_);
    observe_locked(name, help, labels, value, bounds);
}

void Metrics::observe_request(std::string_view route, std::string_view method, int status, double seconds) {
    // Every request comes here: the label text is built in this thread's own buffer, and both
    // series are updated under one lock.
    thread_local std::string labels;
    labels.clear();
    append_label(labels, "route", route);
    const std::size_t route_only = labels.size();
    labels.push_back(',');
    append_label(labels, "method", method);
    labels.push_back(',');
    append_label(labels, "status", std::to_string(status));  // three digits: no allocation
    const std::lock_guard lock(mutex_);
    add_locked("seedhook_http_requests_total", "HTTP requests served, by route pattern, method and status.", labels);
    observe_locked("seedhook_http_request_duration_seconds", "Time to answer an HTTP request.", std::string_view(labels).substr(0, route_only), seconds, kSeconds);
}

void Metrics::count_callback(std::string_view provider, std::string_view outcome) {
    thread_local std::string labels;  // every callback comes here: see observe_request
    labels.clear();
    append_label(labels, "provider", provider);
    labels.push_back(',');
    append_label(labels, "outcome", outcome);
    add("seedhook_callbacks_total", "Callback deliveries received, by provider and outcome.", labels);
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
