#include "server/providers/provider_http.hpp"

#include <charconv>

#include "common/log.hpp"
#include "server/providers/provider.hpp"

namespace seedhook::providers {

namespace {

constexpr std::size_t kMaxMessage = 300;

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
    std::int64_t seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds(std::min<std::int64_t>(seconds, 3600));
}

}  // namespace

CallbackParse read_callback(
    std::string_view body,
    const std::function<std::optional<TaskUpdate>(const json::Value&)>& read_task
) {
    CallbackParse out;
    auto doc = json::parse(body);
    if (!doc) {
        return out;
    }
    auto task = read_task(*doc);
    if (!task) {
        out.kind = CallbackParse::Kind::kNotTaskPayload;
        return out;
    }
    out.kind = CallbackParse::Kind::kUpdate;
    out.update = std::move(*task);
    return out;
}

std::string provider_message(std::string_view body) {
    std::string message;
    if (auto doc = json::parse(body)) {
        if (const auto* error = json::find(*doc, "error")) {
            if (auto m = json::get_string(*error, "message")) {
                message = *m;
            } else if (error->IsString()) {
                message.assign(error->GetString(), error->GetStringLength());
            }
        }
        if (message.empty()) {
            if (auto m = json::get_string(*doc, "message")) {
                message = *m;
            }
        }
    }
    if (message.empty()) {
        message = body.substr(0, kMaxMessage);
    }
    if (message.size() > kMaxMessage) {
        message.resize(kMaxMessage);
        // Cut on a character boundary: drop a trailing partial UTF-8 sequence.
        while (!message.empty() && (static_cast<unsigned char>(message.back()) & 0xC0U) == 0x80) {
            message.pop_back();
        }
        if (!message.empty() && (static_cast<unsigned char>(message.back()) & 0x80U) != 0) {
            message.pop_back();
        }
    }
    return log::redact(std::move(message));
}

namespace {

std::string_view result_word(ProviderError::Kind kind) {
    switch (kind) {
        case ProviderError::Kind::kRejected:
            return "rejected";
        case ProviderError::Kind::kUnavailable:
            return "unavailable";
        case ProviderError::Kind::kTimeout:
            return "timeout";
        case ProviderError::Kind::kBadAnswer:
            return "bad_answer";
        case ProviderError::Kind::kInDoubt:
            return "in_doubt";
    }
    return "unavailable";
}

net::awaitable<json::Document> exchange_json(
    const ProviderOptions& options,
    std::string method,
    std::string path,
    std::string body
);

}  // namespace

net::awaitable<json::Document> call_json(
    const ProviderOptions& options,
    std::string_view operation,
    std::string method,
    std::string path,
    std::string body
) {
    const auto started = std::chrono::steady_clock::now();
    std::string_view result = "ok";
    std::optional<ProviderError> failure;
    json::Document doc;
    try {
        doc = co_await exchange_json(options, std::move(method), std::move(path), std::move(body));
    } catch (const ProviderError& e) {
        failure = e;
        result = result_word(e.kind());
    }
    if (options.metrics != nullptr) {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        options.metrics->observe_provider_call(options.name, operation, result, took.count());
    }
    if (failure) {
        throw *failure;
    }
    co_return doc;
}

namespace {

net::awaitable<json::Document> exchange_json(
    const ProviderOptions& options,
    std::string method,
    std::string path,
    std::string body
) {
    ClientRequest req;
    req.method = std::move(method);
    req.url = options.base_url + path;
    req.timeout = options.timeout;
    req.headers.emplace_back("Authorization", "Bearer " + options.api_key);
    req.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
    }
    req.body = std::move(body);
    ClientResponse res;
    try {
        res = co_await options.client->request(std::move(req));
    } catch (const TransportError& e) {
        using K = ProviderError::Kind;
        throw ProviderError(e.request_sent() ? K::kInDoubt : e.timed_out() ? K::kTimeout : K::kUnavailable, e.what());
    }
    if (res.status >= 200 && res.status < 300) {
        auto doc = json::parse(res.body);
        if (!doc || !doc->IsObject()) {
            throw ProviderError(ProviderError::Kind::kBadAnswer, "the answer is not a JSON object", res.status);
        }
        co_return std::move(*doc);
    }
    const bool transient = res.status == 408 || res.status == 429 || res.status >= 500;
    ProviderError error(
        transient ? ProviderError::Kind::kUnavailable : ProviderError::Kind::kRejected,
        provider_message(res.body),
        res.status
    );
    error.retry_after = parse_retry_after(res.headers.get("Retry-After"));
    throw error;
}

}  // namespace

}  // namespace seedhook::providers
