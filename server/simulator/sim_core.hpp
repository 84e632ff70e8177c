#pragma once

#include <array>

/// The simulator's shared core: the task table, every task's life (queued, running at half of
/// complete_after, then succeeded or failed) and callback delivery with retries after 1, 2
/// and 4 retry units. The per-provider files only speak their protocols over it.

#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "server/providers/https_client.hpp"
#include "server/simulator/simulator.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace seedhook::simulator {

/// Where a simulated task is in its life (each protocol has its own words for these).
enum class SimPhase { kQueued, kRunning, kSucceeded, kFailed };

/// One simulated task. Plain data: the core hands out copies.
struct SimTask {
    std::string provider;  ///< "evolink", "toapis" or "acedata"
    std::string id;        ///< the id the provider's API knows the task by
    std::string inner_id;  ///< acedata: the Ark task id (cgt-…)
    std::string model;
    std::string prompt;
    std::string client_business_id;  ///< toapis
    std::string request_json;        ///< acedata: the create request, echoed when queried
    std::string trace_id;            ///< acedata
    std::string event_id;            ///< toapis: the callback's event id, stable across retries
    std::string callback_url;        ///< empty: no callback
    SimPhase phase = SimPhase::kQueued;
    std::int64_t progress = 0;
    std::int64_t created = 0;   ///< unix s
    std::int64_t started = 0;   ///< unix s, 0 until running
    std::int64_t finished = 0;  ///< unix s, 0 until done
    std::string video_url;
    std::string last_frame_url;
    std::string error_code;
    std::string error_message;
    bool fail = false;         ///< "[sim:fail]"
    bool no_callback = false;  ///< "[sim:no-callback]"
    bool ark_shape = false;    ///< "[sim:ark]" (acedata)
    bool last_frame = false;   ///< the task returns a last frame
};

/// Builds one callback attempt (URL, headers, body) for a finished task; called once per
/// attempt, so that signatures carry a fresh timestamp.
using CallbackBuilder = std::function<providers::ClientRequest(const SimTask&)>;

/// The task table and lifecycle. Thread-safe: the table is guarded by a mutex held only for
/// short, non-suspending stretches. Must be owned by a shared_ptr (tasks keep it alive).
class SimCore : public std::enable_shared_from_this<SimCore> {
public:
    /// `ioc` must outlive the core and run while tasks live.
    SimCore(
        net::io_context& ioc,
        SimulatorOptions options,
        std::shared_ptr<providers::HttpsClient> client
    );

    const SimulatorOptions& options() const { return options_; }

    /// Records `task` (counted in tasks_created) and runs its life on the io_context; when it
    /// is done and has a callback_url (and not no_callback), delivers `callback` with retries.
    void start_task(SimTask task, CallbackBuilder callback);

    /// A copy of task `id` of `provider`.
    std::optional<SimTask> find(std::string_view provider, std::string_view id) const;

    /// A copy of the toapis-style task whose client_business_id is `business_id`.
    std::optional<SimTask> find_by_business_id(
        std::string_view provider, std::string_view business_id
    ) const;

    /// Waits until task `id` is done or `limit` passes; returns its last state.
    net::awaitable<std::optional<SimTask>> wait_done(
        std::string provider, std::string id, std::chrono::milliseconds limit
    );

    std::uint64_t tasks_created() const { return tasks_created_.load(); }

    std::uint64_t callback_attempts() const { return callback_attempts_.load(); }

    /// No new callback attempts from now on.
    void stop() { stopped_.store(true); }

private:
    static net::awaitable<void> run_task(
        std::shared_ptr<SimCore> self, std::string key, CallbackBuilder callback
    );
    net::awaitable<bool> deliver(providers::ClientRequest request, std::string id);
    net::awaitable<void> sleep_for(std::chrono::milliseconds d);
    SimTask update(const std::string& key, const std::function<void(SimTask&)>& change);

    net::io_context& ioc_;
    SimulatorOptions options_;
    std::shared_ptr<providers::HttpsClient> client_;
    mutable std::mutex mutex_;  // guards tasks_
    std::map<std::string, SimTask> tasks_;
    std::atomic<bool> stopped_{false};
    std::atomic<std::uint64_t> callback_attempts_{0};
    std::atomic<std::uint64_t> tasks_created_{0};
};

/// `n` random characters from [a-z0-9].
std::string random_alnum(std::size_t n);

/// A random UUID-shaped id (8-4-4-4-12 hex).
std::string random_uuid();

/// A JSON answer with `status`.
HttpResponse json_answer(int status, std::string body);

/// A provider's status words for the four phases, in SimPhase order.
using StatusWords = std::array<std::string_view, 4>;

/// The word `words` gives `phase`.
std::string_view status_word(SimPhase phase, const StatusWords& words);

/// `{"error": {"code", "message", "type": "invalid_request_error"}}` (evolink's and toapis'
/// error shape) with HTTP status `status`.
HttpResponse typed_error(int status, std::string_view code, std::string_view message);

/// True when the request carries some `Authorization: Bearer <key>`.
bool has_bearer(const HttpRequest& request);

/// True when `prompt` contains the hook `tag` (e.g. "[sim:fail]").
bool has_hook(std::string_view prompt, std::string_view tag);

}  // namespace seedhook::simulator
