#include "server/services/job_service.hpp"

#include <algorithm>
#include <limits>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/time.hpp"

#include <boost/asio/this_coro.hpp>

namespace seedhook::services {

using providers::JobStatus;
using providers::ProviderError;
using Kind = ServiceError::Kind;

namespace {

constexpr std::string_view kJobPrefix = "job_";
constexpr std::size_t kJobIdHexDigits = 32;

std::string new_job_id() {
    return std::string(kJobPrefix) + crypto::hex(crypto::random_bytes(kJobIdHexDigits / 2));
}

ServiceError submit_error(const ProviderError& e, std::string_view provider) {
    const std::string who(provider);
    switch (e.kind()) {
        case ProviderError::Kind::kRejected: {
            ServiceError err(Kind::kProviderRejected, "provider_rejected", who + " refused the job");
            err.provider_status = e.http_status();
            err.provider_message = e.what();
            return err;
        }
        case ProviderError::Kind::kTimeout:
            return {Kind::kProviderTimeout, "provider_timeout", who + " could not be reached in time; the job was not sent"};
        case ProviderError::Kind::kBadAnswer:
            return {Kind::kProviderRejected, std::string(kProviderBadAnswer), who + " answered with something that is not a task; it may have created the task, and the job will follow its callback if one comes"};
        case ProviderError::Kind::kInDoubt:
            return {Kind::kProviderTimeout, std::string(kProviderInDoubt), who + " received the job but gave no usable answer; it may have created the task: read the job again later rather than resubmitting, it follows the provider's callback if one comes"};
        case ProviderError::Kind::kUnavailable:
            break;
    }
    ServiceError err(Kind::kProviderUnavailable, "provider_unavailable", who + " is unavailable");
    if (e.http_status() != 0) {
        err.provider_status = e.http_status();
        err.provider_message = e.what();
    }
    return err;
}

// The code a failed submission stores on the job: the one its answer carries.
std::string submit_error_code(const ProviderError& e) { return submit_error(e, "").code(); }

// What the stored job says about a failed submission: the provider's own words, and whether
// it may have the task anyway.
std::string stored_reason(const ProviderError& e) {
    if (e.kind() == ProviderError::Kind::kInDoubt || e.kind() == ProviderError::Kind::kBadAnswer) {
        return std::string("the provider may have created the task; its callback is still accepted (") + e.what() + ")";
    }
    return e.what();
}

void check_idempotency_key(const std::string& key) {
    constexpr std::size_t kMaxKey = 255;
    const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 127; });
    if (key.empty() || key.size() > kMaxKey || !printable) {
        throw ServiceError(Kind::kMalformed, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
}

}  // namespace

bool is_job_id(std::string_view id) {
    return id.size() == kJobPrefix.size() + kJobIdHexDigits && id.starts_with(kJobPrefix) &&
           std::all_of(id.begin() + kJobPrefix.size(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

JobService::JobService(
    storage::JobStore& store,
    std::vector<std::shared_ptr<providers::Provider>> providers,
    JobServiceOptions options
)
    : store_(store), providers_(std::move(providers)), options_(std::move(options)), token_key_(options_.callback_secret) {
    if (!options_.clock) {
        options_.clock = now_ms;
    }
    started_at_ = options_.clock();
    store_.on_job_written([this](const std::string& job_id) { watch_.notify(job_id); });
}

std::int64_t JobService::next_created_at() {
    const std::int64_t now = options_.clock();
    std::int64_t last = last_created_at_.load();
    std::int64_t next = std::max(now, last + 1);
    while (!last_created_at_.compare_exchange_weak(last, next)) {
        next = std::max(now, last + 1);
    }
    return next;
}

std::string JobService::callback_token(std::string_view provider, std::string_view job_id) const {
    std::string message(provider);
    message += ":";
    message += job_id;
    return crypto::base64url(crypto::as_view(token_key_.digest(message)));
}

std::string JobService::callback_url(std::string_view provider, std::string_view job_id) const {
    return options_.public_base_url + "/v1/callbacks/" + std::string(provider) + "/" +
           std::string(job_id) + "?token=" + callback_token(provider, job_id);
}

std::shared_ptr<providers::Provider> JobService::provider_named(std::string_view name) const {
    for (const auto& p : providers_) {
        if (p->name() == name) {
            return p;
        }
    }
    return nullptr;
}

JobService::Resolved JobService::resolve(const JobInput& input) const {
    if (!input.model || input.model->empty()) {
        throw ServiceError(Kind::kInvalid, "invalid_field", "model is required", "model");
    }
    for (const auto& p : providers_) {
        for (const auto& m : p->models()) {
            if (m.name != *input.model) {
                continue;
            }
            if (input.provider && *input.provider != p->name()) {
                throw ServiceError(
                    Kind::kInvalid,
                    "invalid_field",
                    "model " + m.name + " is served by " + std::string(p->name()) + ", not " + *input.provider,
                    "provider"
                );
            }
            return {p, &m};
        }
    }
    throw ServiceError(Kind::kInvalid, "unknown_model", "model " + *input.model + " is not offered", "model");
}

net::awaitable<CreatedJob> JobService::create(JobInput input) {
    const Resolved target = resolve(input);
    auto checked = validate_request(input, *target.model, *target.provider);
    if (auto* bad = std::get_if<FieldError>(&checked)) {
        throw ServiceError(Kind::kInvalid, "invalid_field", bad->field + " " + bad->message, bad->field);
    }
    if (input.metadata_json.size() > options_.max_metadata_bytes) {
        throw ServiceError(Kind::kInvalid, "invalid_field", "metadata must be at most 4 KiB of JSON", "metadata");
    }
    auto request = std::get<providers::VideoRequest>(std::move(checked));

    storage::JobRecord job;
    job.id = new_job_id();
    job.provider = std::string(target.provider->name());
    job.model = target.model->name;
    job.status = std::string(providers::to_string(JobStatus::kSubmitting));
    job.request_json = providers::to_json(request);
    job.metadata_json = input.metadata_json;
    job.created_at = next_created_at();
    job.updated_at = job.created_at;
    if (input.idempotency_key) {
        check_idempotency_key(*input.idempotency_key);
        job.idempotency_key = input.idempotency_key;
        job.request_hash = crypto::hex(crypto::as_view(crypto::sha256(job.model + "\n" + job.request_json + "\n" + job.metadata_json)));
    }
    std::optional<storage::JobRecord> earlier;
    try {
        earlier = co_await store_.insert(job);  // committed before the provider hears of it
    } catch (const StorageError& e) {
        log::error("jobs", "cannot store a new job", {{"error", e.what()}});
        throw ServiceError(Kind::kUnavailable, "storage_unavailable", "the job could not be stored; nothing was sent");
    }
    if (earlier) {
        if (earlier->request_hash != job.request_hash) {
            ServiceError conflict(Kind::kConflict, "idempotency_key_reused", "this Idempotency-Key was used for a different request");
            conflict.job_id = earlier->id;
            throw conflict;
        }
        co_return CreatedJob{std::move(*earlier), true};
    }
    auto submitted = co_await submit(std::move(job), *target.provider, std::move(request));
    co_return CreatedJob{std::move(submitted), false};
}

net::awaitable<storage::JobRecord> JobService::submit(
    storage::JobRecord job,
    providers::Provider& provider,
    providers::VideoRequest request
) {
    providers::SubmitRequest submit{job.id, std::move(request), callback_url(provider.name(), job.id)};
    std::optional<providers::TaskUpdate> task;
    std::optional<ProviderError> refused;
    try {
        task = co_await submit_with_retries(provider, std::move(submit), options_.submit_retry);
        log::info("jobs", "job submitted", {{"job_id", job.id}, {"provider", job.provider}, {"task_id", task->task_id}});
    } catch (const ProviderError& e) {
        log::warn("jobs", "submission failed", {{"job_id", job.id}, {"provider", job.provider}, {"error", e.what()}, {"provider_status", static_cast<std::int64_t>(e.http_status())}});
        refused = e;
    }
    const std::int64_t now = options_.clock();
    const bool expects_callback = provider.sends_callbacks();
    // Merged into the stored row, not written over it: a callback may have come first.
    storage::QueryDecider decide = [&task, &refused, now, expects_callback, polling = options_.polling](storage::JobRecord& current) {
        if (current.status != providers::to_string(JobStatus::kSubmitting)) {
            if (task && !current.provider_task_id) {
                current.provider_task_id = task->task_id;
            }
            return storage::Confirmation{};
        }
        current.updated_at = now;
        if (refused) {
            current.status = std::string(providers::to_string(JobStatus::kSubmitFailed));
            current.error_code = submit_error_code(*refused);
            current.error_message = stored_reason(*refused);
            current.completed_at = now;
            return storage::Confirmation{};
        }
        current.provider_task_id = task->task_id;
        current.provider_status = task->provider_status;
        current.status = std::string(providers::to_string(JobStatus::kQueued));
        if (task->status == JobStatus::kRunning) {
            current.status = std::string(providers::to_string(JobStatus::kRunning));
        }
        current.progress = std::max<std::int64_t>(0, task->progress.value_or(0));
        schedule_poll(current, now, polling, false, expects_callback);
        return storage::Confirmation{};
    };
    std::optional<storage::JobRecord> stored;
    try {
        stored = co_await store_.record_query(job.id, 0, std::move(decide));
    } catch (const StorageError& e) {
        // The task exists at the provider; its callback carries the task id and heals the row.
        log::error("jobs", "cannot store the submission result", {{"job_id", job.id}, {"error", e.what()}});
        if (!refused) {
            ServiceError err(Kind::kUnavailable, "storage_unavailable", "the job was submitted but its state could not be stored; read it again shortly");
            err.job_id = job.id;
            throw err;
        }
    }
    if (refused && stored && stored->provider_task_id) {
        // The provider's callback came while the create call was failing: it has the task,
        // and the job already follows it. That is the answer, not the failed call.
        log::info("jobs", "a callback settled the submission", {{"job_id", job.id}, {"provider", job.provider}, {"status", stored->status}});
        co_return std::move(*stored);
    }
    if (refused) {
        ServiceError failure = submit_error(*refused, provider.name());
        failure.job_id = job.id;
        throw failure;
    }
    co_return stored.value_or(job);
}

net::awaitable<std::shared_ptr<const storage::JobRecord>> JobService::get(std::string id) {
    std::shared_ptr<const storage::JobRecord> job;
    if (is_job_id(id)) {
        job = co_await store_.find(std::move(id));
    }
    if (!job) {
        throw ServiceError(Kind::kNotFound, "not_found", "no such job");
    }
    co_return job;
}

net::awaitable<std::vector<storage::CallbackRecord>> JobService::deliveries(std::string id) {
    co_await get(id);
    auto list = co_await store_.deliveries(std::move(id));
    co_return list;
}

net::awaitable<CallbackAck> JobService::receive_callback(CallbackInput in) {
    auto provider = provider_named(in.provider);
    if (!provider || !is_job_id(in.job_id)) {
        throw ServiceError(Kind::kNotFound, "not_found", "no such callback URL");
    }
    if (!crypto::constant_time_equal(in.token, callback_token(in.provider, in.job_id))) {
        throw ServiceError(Kind::kUnauthorized, "invalid_token", "the callback token is missing or wrong");
    }
    const std::int64_t now = options_.clock();
    if (auto refused = provider->authenticate_callback(in.headers, in.body, now)) {
        throw ServiceError(Kind::kUnauthorized, "invalid_signature", *refused);
    }
    auto parsed = provider->parse_callback(in.body);
    if (parsed.kind == providers::CallbackParse::Kind::kIgnore) {
        CallbackAck ignored;
        ignored.ignored = true;
        co_return ignored;
    }
    if (parsed.kind == providers::CallbackParse::Kind::kMalformed) {
        throw ServiceError(Kind::kMalformed, "malformed_json", "the body is not valid JSON");
    }
    if (parsed.kind == providers::CallbackParse::Kind::kNotTaskPayload) {
        throw ServiceError(Kind::kInvalid, "not_a_task_payload", "the body is not a " + in.provider + " task payload");
    }
    const providers::TaskUpdate update = std::move(parsed.update);
    bool wrong_task = false;
    Outcome outcome = Outcome::kRejected;
    // The references are to this frame's locals, which outlive the awaited store call.
    storage::DeliveryDecider decide = [&update, &wrong_task, &outcome, now, polling = options_.polling, body = std::move(in.body)](storage::JobRecord& job, bool event_seen) mutable {
        storage::CallbackRecord d;
        d.received_at = now;
        d.source = "callback";
        d.provider_status = update.provider_status;
        d.event_id = update.event_id;
        d.body = std::move(body);  // the store decides once per delivery
        ++job.callbacks_received;
        job.updated_at = now;
        if (!job.provider_task_id && (awaits_adoption(job) || job.status == providers::to_string(JobStatus::kSubmitting))) {
            // The callback beat the create answer, or the create answer never came (the
            // process stopped, the provider hung up or said something unreadable): the
            // provider has the task after all.
            job.provider_task_id = update.task_id;
            job.status = std::string(providers::to_string(JobStatus::kQueued));
            job.error_code.reset();
            job.error_message.reset();
            job.completed_at.reset();
        }
        if (job.provider_task_id != update.task_id) {
            wrong_task = true;
            d.outcome = std::string(to_string(Outcome::kRejected));
            return d;
        }
        // A provider event already recorded (toapis retries with a stable id) changes nothing.
        outcome = event_seen ? Outcome::kDuplicate : apply_update(job, update, now);
        d.outcome = std::string(to_string(outcome));
        schedule_poll(job, now, polling, false);
        return d;
    };
    std::optional<storage::DeliveryResult> result;
    try {
        result = co_await store_.record_delivery(in.job_id, update.event_id, std::move(decide));
    } catch (const StorageError& e) {
        log::error("callbacks", "cannot commit a delivery", {{"job_id", in.job_id}, {"provider", in.provider}, {"error", e.what()}});
        throw ServiceError(Kind::kUnavailable, "storage_unavailable", "the delivery could not be stored; retry later");
    }
    if (!result) {
        throw ServiceError(Kind::kNotFound, "not_found", "no such job");
    }
    // The request's own log line carries the job, provider and outcome (see the handler).
    log::debug("callbacks", "delivery recorded", {{"job_id", in.job_id}, {"provider", in.provider}, {"outcome", result->delivery.outcome}, {"status", result->job->status}});
    if (options_.metrics != nullptr) {
        options_.metrics->count_callback(in.provider, result->delivery.outcome);
    }
    if (wrong_task) {
        throw ServiceError(Kind::kInvalid, "task_mismatch", "the task id is not this job's", "id");
    }
    if (outcome == Outcome::kApplied && !provider->signs_callbacks()) {
        auto executor = co_await net::this_coro::executor;
        start_confirmation(provider, *result, executor);
    }
    co_return CallbackAck{outcome, false, std::move(result->job)};
}

net::awaitable<storage::JobStats> JobService::stats() {
    auto counts = co_await store_.stats(options_.clock());
    co_return counts;
}

net::awaitable<bool> JobService::ready() {
    const bool writable = co_await store_.writable();
    co_return writable;
}

}  // namespace seedhook::services
