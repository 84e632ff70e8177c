#include "server/services/job_watch.hpp"

#include <algorithm>

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>

namespace seedhook::services {

/// A wake-up box of one: a send while one is pending changes nothing, so a burst of writes
/// costs the reader one read.
struct JobWatch::Waiter {
    explicit Waiter(const net::any_io_executor& executor) : box(executor, 1) {}
    net::experimental::concurrent_channel<void(boost::system::error_code)> box;
};

JobWatch::Subscription::Subscription(JobWatch& watch, std::string job_id, std::shared_ptr<Waiter> waiter)
    : watch_(watch), job_id_(std::move(job_id)), waiter_(std::move(waiter)) {}

JobWatch::Subscription::~Subscription() {
    watch_.unsubscribe(job_id_, waiter_);
}

net::awaitable<bool> JobWatch::Subscription::wait_until(std::chrono::steady_clock::time_point deadline) {
    if (watch_.closed()) {
        co_return false;
    }
    auto executor = co_await net::this_coro::executor;
    net::steady_timer timer(executor, deadline);
    // The timer ends the wait by cancelling the receive; the handler holds the waiter, so it
    // may run after this frame is gone.
    timer.async_wait([waiter = waiter_](boost::system::error_code ec) {
        if (!ec) {
            waiter->box.cancel();
        }
    });
    auto [ec] = co_await waiter_->box.async_receive(kNoThrow);
    timer.cancel();
    const bool woken = !ec && !watch_.closed();
    co_return woken;
}

JobWatch::JobWatch() = default;
JobWatch::~JobWatch() = default;

std::unique_ptr<JobWatch::Subscription> JobWatch::subscribe(std::string job_id, net::any_io_executor executor) {
    auto waiter = std::make_shared<Waiter>(executor);
    {
        const std::lock_guard lock(mutex_);
        waiters_[job_id].push_back(waiter);
        ++count_;
    }
    return std::make_unique<Subscription>(*this, std::move(job_id), std::move(waiter));
}

void JobWatch::unsubscribe(const std::string& job_id, const std::shared_ptr<Waiter>& waiter) {
    const std::lock_guard lock(mutex_);
    const auto it = waiters_.find(job_id);
    if (it == waiters_.end()) {
        return;
    }
    auto& list = it->second;
    const auto gone = std::remove(list.begin(), list.end(), waiter);
    count_ -= static_cast<std::size_t>(list.end() - gone);
    list.erase(gone, list.end());
    if (list.empty()) {
        waiters_.erase(it);
    }
}

void JobWatch::notify(const std::string& job_id) {
    const std::lock_guard lock(mutex_);
    const auto it = waiters_.find(job_id);
    if (it == waiters_.end()) {
        return;
    }
    for (const auto& waiter : it->second) {
        waiter->box.try_send(boost::system::error_code{});
    }
}

void JobWatch::close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    for (const auto& [id, list] : waiters_) {
        for (const auto& waiter : list) {
            waiter->box.try_send(boost::system::error_code{});
        }
    }
}

bool JobWatch::closed() const {
    const std::lock_guard lock(mutex_);
    return closed_;
}

std::size_t JobWatch::waiting() const {
    const std::lock_guard lock(mutex_);
    return count_;
}

}  // namespace seedhook::services
