#pragma once

/// Who is waiting for which job to change (long-poll reads, SPEC §2.1 `?wait=`).
///
/// A reader subscribes before it reads the job, so no change between its read and its wait is
/// missed; every committed write to a job wakes that job's subscribers, which read again.
/// Thread-safe: writes are noticed on whatever thread committed them.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/asio.hpp"

namespace seedhook::services {

class JobWatch {
    struct Waiter;

public:
    /// One reader's interest in one job; unsubscribes when destroyed.
    class Subscription {
    public:
        Subscription(JobWatch& watch, std::string job_id, std::shared_ptr<Waiter> waiter);
        Subscription(const Subscription&) = delete;
        Subscription& operator=(const Subscription&) = delete;
        ~Subscription();

        /// Returns true when the job was written since the last wait (or since subscribing),
        /// false when `deadline` passed or the watch closed first.
        net::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline);

    private:
        JobWatch& watch_;
        std::string job_id_;
        std::shared_ptr<Waiter> waiter_;
    };

    JobWatch();
    ~JobWatch();
    JobWatch(const JobWatch&) = delete;
    JobWatch& operator=(const JobWatch&) = delete;

    /// Subscribes to writes of `job_id`; waits run on `executor`.
    std::unique_ptr<Subscription> subscribe(std::string job_id, net::any_io_executor executor);

    /// Wakes every subscriber of `job_id`.
    void notify(const std::string& job_id);

    /// Wakes every subscriber; waits from now on return at once (shutdown).
    void close();

    bool closed() const;

    /// Subscribers now (for tests and metrics).
    std::size_t waiting() const;

private:
    void unsubscribe(const std::string& job_id, const std::shared_ptr<Waiter>& waiter);

    mutable std::mutex mutex_;
    bool closed_ = false;
    std::unordered_map<std::string, std::vector<std::shared_ptr<Waiter>>> waiters_;
    std::size_t count_ = 0;
};

}  // namespace seedhook::services
