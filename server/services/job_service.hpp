#pragma once

/// Jobs: creation and submission to the provider, reads, and callback deliveries.
///
/// Runs on any I/O executor; storage work hops to the database thread and comes back.
/// Throws ServiceError for every refusal a client should see.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "server/providers/provider.hpp"
#include "server/services/job_state.hpp"
#include "server/services/request_validator.hpp"
#include "server/storage/job_store.hpp"

namespace seedhook::services {

struct JobServiceOptions {
    std::string public_base_url;  ///< no trailing slash
    std::string callback_secret;
    std::size_t max_metadata_bytes = 4096;
    std::function<std::int64_t()> clock;  ///< unix ms; default: the system clock
};

/// A callback as it arrived.
struct CallbackInput {
    std::string provider;
    std::string job_id;
    std::string token;
    std::string body;
};

/// What a committed delivery did.
struct CallbackAck {
    Outcome outcome = Outcome::kRejected;
    storage::JobRecord job;
};

class JobService {
public:
    /// `store` must outlive the service.
    JobService(
        storage::JobStore& store,
        std::vector<std::shared_ptr<providers::Provider>> providers,
        JobServiceOptions options
    );

    /// Validates, commits the job, submits it and stores the provider's answer.
    net::awaitable<storage::JobRecord> create(JobInput input);

    net::awaitable<storage::JobRecord> get(std::string id);

    /// Every delivery recorded for job `id` (404 when the job is unknown).
    net::awaitable<std::vector<storage::CallbackRecord>> deliveries(std::string id);

    /// Verifies the token, reads the payload and commits the delivery before returning.
    net::awaitable<CallbackAck> receive_callback(CallbackInput input);

    /// The capability token of a job's callback URL (SPEC §2.2).
    std::string callback_token(std::string_view provider, std::string_view job_id) const;

    /// The callback URL handed to the provider for a job.
    std::string callback_url(std::string_view provider, std::string_view job_id) const;

    /// True when storage accepts writes.
    net::awaitable<bool> ready();

private:
    struct Resolved {
        std::shared_ptr<providers::Provider> provider;
        const providers::ModelSpec* model;
    };

    Resolved resolve(const JobInput& input) const;
    std::shared_ptr<providers::Provider> provider_named(std::string_view name) const;
    net::awaitable<storage::JobRecord> submit(
        storage::JobRecord job,
        providers::Provider& provider,
        providers::VideoRequest request
    );

    storage::JobStore& store_;
    std::vector<std::shared_ptr<providers::Provider>> providers_;
    JobServiceOptions options_;
};

/// True when `id` has the form of a job id ("job_" and 32 lowercase hex digits).
bool is_job_id(std::string_view id);

}  // namespace seedhook::services
