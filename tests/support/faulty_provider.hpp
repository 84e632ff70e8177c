#pragma once

/// A misbehaving provider for the fault tests: a TLS server on 127.0.0.1 (test certificate)
/// that speaks evolink's create-task and query-task calls and, as the test says, hangs,
/// resets, answers garbage, 5xx or too late. It counts what it sees; every change can be
/// awaited. Runs an I/O thread of its own, stopped and joined on destruction.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace seedhook::test {

enum class Fault {
    kNone,
    kResetOnAccept,      ///< accept the TCP connection, then reset it: no TLS, no request read
    kHang,               ///< read the request, never answer (until the client goes away)
    kResetAfterRequest,  ///< read the request, then reset the connection
    kGarbage200,         ///< 200 with an HTML body
    kNotHttp,            ///< bytes that are not an HTTP answer at all
    kStatus500,
    kStatus502,
    kStatus503,
    kSlow,  ///< a valid answer, but only `late_by` after the request
};

/// "hang", "status_503", ...: names for test output and for "[fault:NAME]" in prompts.
std::string fault_name(Fault f);

/// The fault a prompt asks for with "[fault:NAME]", if any.
std::optional<Fault> fault_in(std::string_view prompt);

/// An evolink task object as its create, query and callback bodies carry it; a "completed"
/// one has progress 100 and the video https://cdn.example.com/ID.mp4.
std::string evolink_task_json(const std::string& id, const char* status);

/// What the peer has seen so far.
struct PeerCounts {
    std::size_t accepted = 0;     ///< TCP connections accepted
    std::size_t open = 0;         ///< connections the peer still holds
    std::size_t submissions = 0;  ///< create-task requests read whole
    std::size_t queries = 0;      ///< query-task requests read whole
    std::size_t faults = 0;       ///< fault actions carried out to their end
    std::map<std::string, std::size_t> faults_by_task;   ///< of queries, by the task asked for
    std::map<std::string, std::size_t> queries_by_task;
    std::map<std::string, std::size_t> submissions_by_job;
    std::map<std::string, std::string> callback_paths;  ///< job id -> path and query of its callback URL
};

class FaultyProvider {
public:
    /// `late_by`: how long after the request a kSlow answer comes.
    explicit FaultyProvider(std::chrono::milliseconds late_by);
    FaultyProvider(const FaultyProvider&) = delete;
    FaultyProvider& operator=(const FaultyProvider&) = delete;
    ~FaultyProvider();

    /// https://127.0.0.1:PORT
    std::string base_url() const;

    /// The fault for create requests from now on, unless a prompt asks for another
    /// (kResetOnAccept: for every new connection, before TLS).
    void fail_submissions(Fault f);

    /// The fault for query requests from now on (kResetOnAccept: for every new connection).
    void fail_queries(Fault f);

    /// The fault for queries of task `task_id`, over fail_queries (kNone: answer them well).
    void fail_queries_of(const std::string& task_id, Fault f);

    /// Whether healthy answers keep the connection open for the client's pool (the default).
    /// Fault answers always close it.
    void keep_alive(bool on);

    PeerCounts counts() const;

    /// Waits for `done(counts)` to hold, woken by every change; false after `timeout`.
    bool wait_for(const std::function<bool(const PeerCounts&)>& done, std::chrono::milliseconds timeout) const;

    struct Impl;  ///< opaque

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace seedhook::test
