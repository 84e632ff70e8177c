// Provider faults (issue 5, item 6): a real seedhook, in-process over real TLS, against a real
// misbehaving HTTPS peer on loopback that plays evolink. The peer hangs, resets, answers
// garbage, 5xx or too late, during submission (POST /v1/jobs) and during the confirmation
// query that follows an unsigned terminal callback. Checked as a user sees it: a bounded
// answer with the SPEC's error shape and code, a clear job state read back, exactly the
// submissions the contract allows at the peer, and no file descriptor or thread left behind.
// The peer is tests/support/faulty_provider.
#include <filesystem>
#include <future>
#include <iostream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "common/json.hpp"
#include "common/tls.hpp"
#include "server/providers/https_client.hpp"
#include "tests/support/faulty_provider.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// providers.evolink.timeout_ms in these tests, and how late the slow peer answers.
constexpr milliseconds kTimeout{400};
constexpr milliseconds kLateBy = kTimeout + milliseconds(300);
// The SPEC's submission bound: at most 10 attempts.
constexpr std::size_t kMaxAttempts = 10;

std::string str(const json::Value& doc, const char* key) {
    auto v = json::get_string(doc, key);
    return v ? std::string(*v) : std::string("<absent>");
}

bool is_null(const json::Value& doc, const char* key) {
    const auto* v = json::find(doc, key);
    return v != nullptr && v->IsNull();
}

std::size_t count_entries(const char* dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) {
        ++n;
    }
    return n;
}

/// Open file descriptors of this process (the directory listing's own one included, always).
std::size_t open_fds() { return count_entries("/proc/self/fd"); }

/// Threads of this process.
std::size_t thread_count() { return count_entries("/proc/self/task"); }

Config config_for(const TempDir& dir, const FaultyProvider& peer) {
    Config c = base_config(dir, free_port());
    c.simulator_enabled = false;
    c.polling_enabled = false;  // only submissions and confirmations reach the peer
    c.evolink.base_url = peer.base_url();
    c.evolink.ca_file = ca_file();
    c.evolink.api_key = "key-for-a-faulty-provider";
    c.evolink.timeout_ms = kTimeout.count();
    c.submission_retry_base_ms = 1;  // ten attempts' waits add up to at most ~0.5 s
    return c;
}

std::string completed_callback(const std::string& task_id) { return evolink_task_json(task_id, "completed"); }

struct Timed {
    Response response;
    milliseconds took{0};
};

Timed timed(const std::function<Response()>& call) {
    const auto started = Clock::now();
    Response r = call();
    return {std::move(r), std::chrono::duration_cast<milliseconds>(Clock::now() - started)};
}

// -------------------------------------------------------------------------------------------
// Submission

struct SubmitCase {
    Fault fault;
    bool pooled;         ///< the faulty request goes over a pooled keep-alive connection
    int status;          ///< the POST's answer
    const char* code;    ///< error.code of the answer and of the stored job
    std::size_t seen;    ///< create requests the peer reads for this one POST
    bool may_have_task;  ///< the provider may have the task: its callback must be adopted
};

/// How gtest (and so ctest) names a case: "hang pooled" rather than its bytes.
void PrintTo(const SubmitCase& c, std::ostream* os) { *os << fault_name(c.fault) << (c.pooled ? " pooled" : " fresh"); }

class Submission : public ::testing::TestWithParam<SubmitCase> {
protected:
    FaultyProvider peer{kLateBy};
    TempDir dir;
    RunningApp app{config_for(dir, peer)};
};

TEST_P(Submission, AnswersInBoundedTimeWithAClearJobAndNoDuplicate) {
    const SubmitCase& c = GetParam();
    peer.keep_alive(c.pooled);
    auto warm = app.client().post("/v1/jobs", job_body("a healthy job first"));
    ASSERT_EQ(warm.status, 201) << warm.body;
    ASSERT_EQ(peer.counts().submissions, 1U);

    peer.fail_submissions(c.fault);
    const auto [r, took] = timed([&] { return app.client().post("/v1/jobs", job_body("a cat on a faulty day")); });
    std::cout << "[ measured ] " << fault_name(c.fault) << (c.pooled ? " (pooled)" : " (fresh)") << ": POST answered "
              << r.status << " in " << took.count() << " ms\n";
    const std::int64_t retry_slack_ms = c.seen > 1 ? 800 : 0;  // ten attempts' waits and handshakes
    EXPECT_LT(took.count(), (kTimeout + milliseconds(1200 + retry_slack_ms)).count()) << "POST took too long";
    if (c.fault == Fault::kHang || c.fault == Fault::kSlow) {
        EXPECT_GE(took.count(), kTimeout.count()) << "answered before the client's timeout: the fault did not bite";
    }
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_FALSE(r.headers.get("X-Request-Id").empty());
    auto body = r.json();
    const auto* error = json::find(body, "error");
    ASSERT_NE(error, nullptr) << r.body;
    EXPECT_EQ(str(*error, "code"), c.code) << r.body;
    EXPECT_FALSE(str(*error, "message").empty());
    const std::string job_id = str(*error, "job_id");
    ASSERT_TRUE(job_id.starts_with("job_")) << r.body;
    if (c.fault == Fault::kStatus500 || c.fault == Fault::kStatus503) {
        EXPECT_EQ(json::get_int(*error, "provider_status"), c.fault == Fault::kStatus500 ? 500 : 503) << r.body;
    }

    // At the peer: exactly the create requests the contract allows for this POST, and every
    // connection let go (a pooled one was taken by the faulty request).
    ASSERT_TRUE(peer.wait_for([](const PeerCounts& p) { return p.open == 0; }, std::chrono::seconds(5)))
        << "the peer still holds " << peer.counts().open << " connections";
    PeerCounts seen = peer.counts();
    EXPECT_EQ(seen.submissions, 1U + c.seen);
    EXPECT_EQ(seen.submissions_by_job[job_id], c.seen);
    if (c.fault == Fault::kResetOnAccept) {
        EXPECT_GE(seen.accepted, 1U + 2U) << "a connection failure is retried";
        EXPECT_LE(seen.accepted, 1U + kMaxAttempts);
    }

    // The job as read back: a clear terminal state with the same code, no task id.
    auto read = app.client().get("/v1/jobs/" + job_id);
    ASSERT_EQ(read.status, 200);
    auto job = read.json();
    EXPECT_EQ(str(job, "status"), "submit_failed") << read.body;
    EXPECT_EQ(str(*json::find(job, "error"), "code"), c.code) << read.body;
    EXPECT_FALSE(str(*json::find(job, "error"), "message").empty()) << read.body;
    EXPECT_TRUE(is_null(job, "provider_task_id")) << read.body;
    EXPECT_FALSE(is_null(job, "completed_at")) << read.body;
    if (!c.may_have_task) {
        return;
    }

    // The provider did create it after all: its callback, at the URL it was given, is
    // adopted, and (evolink signing nothing) confirmed by asking the provider.
    peer.fail_submissions(Fault::kNone);
    const std::string callback = seen.callback_paths[job_id];
    ASSERT_FALSE(callback.empty());
    const std::string task_id = "task-adopted-" + job_id.substr(4, 8);
    auto delivered = app.client().request("POST", callback, completed_callback(task_id), {{"Content-Type", "application/json"}});
    ASSERT_EQ(delivered.status, 200) << delivered.body;
    auto adopted = app.client().get("/v1/jobs/" + job_id).json();
    EXPECT_EQ(str(adopted, "status"), "succeeded");
    EXPECT_EQ(str(adopted, "provider_task_id"), task_id);
    EXPECT_TRUE(is_null(adopted, "error"));
    EXPECT_EQ(str(adopted, "video_url"), "https://cdn.example.com/" + task_id + ".mp4");
    Response confirmed;
    EXPECT_TRUE(eventually([&] {
        confirmed = app.client().get("/v1/jobs/" + job_id);
        return json::get_bool(confirmed.json(), "confirmed") == true;
    }, std::chrono::seconds(3))) << confirmed.body;
    EXPECT_EQ(peer.counts().queries_by_task[task_id], 1U);
    EXPECT_EQ(peer.counts().submissions_by_job[job_id], c.seen);
}

INSTANTIATE_TEST_SUITE_P(
    ProviderFaults,
    Submission,
    ::testing::Values(
        // Provably never reached the provider: retried, then a plain 503.
        SubmitCase{Fault::kResetOnAccept, false, 503, "provider_unavailable", 0, false},
        // Sent whole, then no usable answer: the provider may have the task.
        SubmitCase{Fault::kHang, true, 504, "provider_in_doubt", 1, true},
        SubmitCase{Fault::kResetAfterRequest, true, 504, "provider_in_doubt", 1, true},
        SubmitCase{Fault::kResetAfterRequest, false, 504, "provider_in_doubt", 1, true},
        SubmitCase{Fault::kNotHttp, true, 504, "provider_in_doubt", 1, true},
        SubmitCase{Fault::kSlow, true, 504, "provider_in_doubt", 1, true},
        // A 2xx the service cannot read: the provider said yes, to something.
        SubmitCase{Fault::kGarbage200, true, 502, "provider_bad_answer", 1, true},
        // 5xx: retried with backoff as the SPEC says, at most 10 attempts, then a 503.
        SubmitCase{Fault::kStatus500, true, 503, "provider_unavailable", kMaxAttempts, false},
        SubmitCase{Fault::kStatus502, true, 503, "provider_unavailable", kMaxAttempts, false},
        SubmitCase{Fault::kStatus503, true, 503, "provider_unavailable", kMaxAttempts, false}
    ),
    [](const ::testing::TestParamInfo<SubmitCase>& param_info) {
        return fault_name(param_info.param.fault) + (param_info.param.pooled ? "_pooled" : "_fresh");
    }
);

TEST(ProviderFaultsSubmission, ACallbackWhileTheCreateCallHangsSettlesTheJob) {
    FaultyProvider peer{kLateBy};
    TempDir dir;
    RunningApp app{config_for(dir, peer)};
    peer.fail_submissions(Fault::kHang);
    Response r;
    std::thread poster([&] { r = app.client().post("/v1/jobs", job_body("a cat, called back early")); });
    // The provider took the job and calls back before it answers the create call (if ever).
    const bool seen = peer.wait_for([](const PeerCounts& p) { return p.submissions == 1; }, std::chrono::seconds(5));
    std::string job_id;
    std::string callback;
    if (seen) {
        const PeerCounts counts = peer.counts();
        job_id = counts.callback_paths.begin()->first;
        callback = counts.callback_paths.begin()->second;
        Client provider_side(app.port());
        auto delivered = provider_side.request("POST", callback, evolink_task_json("task-early-1", "processing"), {{"Content-Type", "application/json"}});
        EXPECT_EQ(delivered.status, 200) << delivered.body;
    }
    poster.join();
    ASSERT_TRUE(seen);
    // The create call still hangs past the timeout, but the job is known: 201, as the callback says.
    ASSERT_EQ(r.status, 201) << r.body;
    auto job = r.json();
    EXPECT_EQ(str(job, "id"), job_id);
    EXPECT_EQ(str(job, "status"), "running");
    EXPECT_EQ(str(job, "provider_task_id"), "task-early-1");
    EXPECT_TRUE(is_null(job, "error"));
    EXPECT_EQ(peer.counts().submissions, 1U);
}

// -------------------------------------------------------------------------------------------
// Confirmation

class ProviderFaultsConfirmation : public ::testing::Test {
protected:
    struct Confirmable {
        std::string job_id;
        std::string task_id;
        std::string callback;
    };

    ProviderFaultsConfirmation() { peer.keep_alive(false); }  // one query per connection, per attempt

    Confirmable create() {
        auto created = app.client().post("/v1/jobs", job_body("a cat to confirm"));
        EXPECT_EQ(created.status, 201) << created.body;
        auto job = created.json();
        Confirmable out{str(job, "id"), str(job, "provider_task_id"), {}};
        out.callback = peer.counts().callback_paths[out.job_id];
        return out;
    }

    /// Delivers the provider's terminal callback; the answer must not wait on the provider.
    void deliver(const Confirmable& job, Fault fault) {
        const auto [delivered, took] = timed([&] {
            return app.client().request("POST", job.callback, completed_callback(job.task_id), {{"Content-Type", "application/json"}});
        });
        std::cout << "[ measured ] " << fault_name(fault) << ": callback answered " << delivered.status << " in "
                  << took.count() << " ms\n";
        EXPECT_EQ(delivered.status, 200) << delivered.body;
        EXPECT_LT(took.count(), kTimeout.count()) << fault_name(fault) << ": the callback waited on the provider";
    }

    /// The job keeps the callback's word while the provider cannot confirm it.
    void expect_unconfirmed(const Confirmable& c, Fault fault) {
        auto read = app.client().get("/v1/jobs/" + c.job_id);
        auto job = read.json();
        EXPECT_EQ(str(job, "status"), "succeeded") << fault_name(fault) << ": " << read.body;
        EXPECT_EQ(json::get_bool(job, "confirmed"), false) << fault_name(fault) << ": " << read.body;
        EXPECT_TRUE(is_null(job, "error")) << fault_name(fault) << ": " << read.body;
        EXPECT_EQ(str(job, "video_url"), "https://cdn.example.com/" + c.task_id + ".mp4") << fault_name(fault);
    }

    /// The next attempt, a second after the failed one, confirms the job; one callback applied.
    void expect_confirmed(const Confirmable& c, Fault fault) {
        Response read;
        EXPECT_TRUE(eventually([&] {
            read = app.client().get("/v1/jobs/" + c.job_id);
            return json::get_bool(read.json(), "confirmed") == true;
        }, std::chrono::seconds(4))) << fault_name(fault) << ": " << read.body;
        EXPECT_EQ(str(read.json(), "status"), "succeeded") << fault_name(fault);
        auto deliveries = app.client().get("/v1/jobs/" + c.job_id + "/callbacks").json();
        const auto& list = *json::find(deliveries, "callbacks");
        ASSERT_EQ(list.Size(), 1U) << fault_name(fault);
        EXPECT_EQ(str(list[0], "outcome"), "applied") << fault_name(fault);
    }

    FaultyProvider peer{kLateBy};
    TempDir dir;
    RunningApp app{config_for(dir, peer)};
};

TEST_F(ProviderFaultsConfirmation, AFaultyQueryLeavesTheCallbacksStateAndIsAskedAgain) {
    const std::vector<Fault> faults = {Fault::kHang, Fault::kResetAfterRequest, Fault::kGarbage200, Fault::kNotHttp, Fault::kStatus500, Fault::kStatus502, Fault::kStatus503, Fault::kSlow};
    std::vector<Confirmable> jobs;
    for (const Fault f : faults) {
        jobs.push_back(create());
        peer.fail_queries_of(jobs.back().task_id, f);
    }
    ASSERT_TRUE(peer.wait_for([](const PeerCounts& p) { return p.open == 0; }, std::chrono::seconds(5)));
    // One fault at a time: deliver, see the query meet the fault, check the job, heal that
    // task at the peer (well within the second before the next attempt).
    for (std::size_t i = 0; i < faults.size(); ++i) {
        const Fault f = faults[i];
        const Confirmable& c = jobs[i];
        deliver(c, f);
        ASSERT_TRUE(peer.wait_for([&](const PeerCounts& p) {
            return p.faults_by_task.count(c.task_id) != 0 && p.open == 0;
        }, std::chrono::seconds(5))) << fault_name(f) << ": the query never met its fault";
        EXPECT_EQ(peer.counts().queries_by_task[c.task_id], 1U) << fault_name(f);
        expect_unconfirmed(c, f);
        peer.fail_queries_of(c.task_id, Fault::kNone);
    }
    for (std::size_t i = 0; i < faults.size(); ++i) {
        expect_confirmed(jobs[i], faults[i]);
        EXPECT_EQ(peer.counts().queries_by_task[jobs[i].task_id], 2U) << fault_name(faults[i]);
    }
    EXPECT_EQ(peer.counts().submissions, faults.size());
}

TEST_F(ProviderFaultsConfirmation, AQueryRefusedAtTheConnectionIsAskedAgain) {
    const Confirmable c = create();
    ASSERT_TRUE(peer.wait_for([](const PeerCounts& p) { return p.open == 0; }, std::chrono::seconds(5)));
    const std::size_t accepted = peer.counts().accepted;
    peer.fail_queries(Fault::kResetOnAccept);
    deliver(c, Fault::kResetOnAccept);
    ASSERT_TRUE(peer.wait_for([](const PeerCounts& p) { return p.faults >= 1 && p.open == 0; }, std::chrono::seconds(5)));
    EXPECT_EQ(peer.counts().accepted, accepted + 1);
    EXPECT_EQ(peer.counts().queries, 0U);
    expect_unconfirmed(c, Fault::kResetOnAccept);
    peer.fail_queries(Fault::kNone);
    expect_confirmed(c, Fault::kResetOnAccept);
    EXPECT_EQ(peer.counts().queries, 1U);
}

// -------------------------------------------------------------------------------------------
// Leaks

/// Many POST /v1/jobs at once, from a thread of its own.
class BurstClient {
public:
    explicit BurstClient(std::uint16_t port) : port_(port) {
        auto ctx = std::make_shared<net::ssl::context>(tls::make_client_context({ca_file(), {}}));
        http_ = std::make_shared<providers::HttpsClient>(ctx);
        thread_ = std::thread([this] { ioc_.run(); });
    }

    BurstClient(const BurstClient&) = delete;
    BurstClient& operator=(const BurstClient&) = delete;

    ~BurstClient() {
        work_.reset();
        http_->close_idle();
        ioc_.stop();
        thread_.join();
    }

    /// Posts one job per prompt, all at once; the answers in the same order.
    std::vector<Timed> post_all(const std::vector<std::string>& prompts) {
        std::vector<std::future<providers::ClientResponse>> pending;
        std::vector<Clock::time_point> started;
        for (const auto& prompt : prompts) {
            providers::ClientRequest req;
            req.method = "POST";
            req.url = "https://127.0.0.1:" + std::to_string(port_) + "/v1/jobs";
            req.headers = {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", "application/json"}};
            req.body = job_body(prompt);
            req.timeout = std::chrono::seconds(10);
            started.push_back(Clock::now());
            pending.push_back(net::co_spawn(ioc_, http_->request(std::move(req)), net::use_future));
        }
        std::vector<Timed> out;
        for (std::size_t i = 0; i < pending.size(); ++i) {
            auto res = pending[i].get();
            const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started[i]);
            out.push_back({{res.status, std::move(res.headers), std::move(res.body)}, took});
        }
        return out;
    }

    void close_idle() { http_->close_idle(); }

private:
    std::uint16_t port_;
    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> work_{ioc_.get_executor()};
    std::shared_ptr<providers::HttpsClient> http_;
    std::thread thread_;
};

double open_connections(Client& client) {
    const auto metrics = client.request("GET", "/metrics").body;
    const std::string name = "\nseedhook_open_connections ";
    const auto at = metrics.find(name);
    return at == std::string::npos ? -1 : std::stod(metrics.substr(at + name.size()));
}

class ProviderFaultsLeaks : public ::testing::Test {
protected:
    FaultyProvider peer{kLateBy};
    TempDir dir;
    RunningApp app{config_for(dir, peer)};
    BurstClient burst{app.port()};

    /// Waits until the only connections left are the test client's to the service and the
    /// service's pooled connections to the peer: one at most per I/O loop that submitted.
    /// Returns the descriptors open then that are not pooled connections (each of those is two
    /// here, the service's end and the in-process peer's).
    std::size_t settle() {
        burst.close_idle();
        EXPECT_TRUE(eventually([&] { return open_connections(app.client()) == 1; }, std::chrono::seconds(5)))
            << "the service still has " << open_connections(app.client()) << " connections open";
        EXPECT_TRUE(peer.wait_for([](const PeerCounts& p) { return p.open >= 1 && p.open <= kIoLoops; }, std::chrono::seconds(5)))
            << "the peer still has " << peer.counts().open << " connections open";
        return open_fds() - 2 * peer.counts().open;
    }

    static constexpr std::size_t kIoLoops = 2;  // base_config's server_threads
};

TEST_F(ProviderFaultsLeaks, AFaultyBurstLeavesNoDescriptorOrThreadBehind) {
    peer.keep_alive(true);
    // Warm up every lazily made part (resolver threads, pools) before counting.
    ASSERT_EQ(burst.post_all({"warm up"}).at(0).response.status, 201);
    ASSERT_EQ(app.client().post("/v1/jobs", job_body("warm up")).status, 201);
    const std::size_t fds_before = settle();
    const std::size_t threads_before = thread_count();

    // Faults chosen per request by the prompt, all at once; then connections refused outright.
    const std::vector<Fault> faults = {Fault::kHang, Fault::kResetAfterRequest, Fault::kGarbage200, Fault::kNotHttp, Fault::kStatus503, Fault::kSlow};
    std::vector<std::string> prompts;
    for (int round = 0; round < 4; ++round) {
        for (const Fault f : faults) {
            prompts.push_back("[fault:" + fault_name(f) + "] burst " + std::to_string(round));
        }
    }
    const std::size_t seen_before = peer.counts().submissions;
    const auto started = Clock::now();
    std::vector<Timed> answers;
    std::thread poster([&] { answers = burst.post_all(prompts); });
    // While the hanging and slow requests are held, the count does see their connections.
    const bool held = peer.wait_for([](const PeerCounts& p) { return p.open >= 8; }, std::chrono::seconds(5));
    const std::size_t fds_during = open_fds();
    poster.join();
    const auto burst_took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    EXPECT_TRUE(held) << "the peer never held the hanging and slow requests at once";
    EXPECT_GE(fds_during, fds_before + 16) << "each held request is a socket at the peer and one in the service";
    // Each POST's create calls, counted at the peer by the job in its callback URL: one for
    // every fault but 503, which is retried up to ten times. On a loaded machine one of a
    // 503's attempts may outlast the client's timeout: in the handshake (retried, but never
    // seen by the peer) or after it was sent (the POST is then in doubt, 504, and not sent
    // again). So a 503 may be seen fewer than ten times, but never more.
    std::size_t seen_by_jobs = 0;
    for (std::size_t i = 0; i < answers.size(); ++i) {
        const Fault f = faults[i % faults.size()];
        const Response& r = answers[i].response;
        EXPECT_TRUE(r.status == 502 || r.status == 503 || r.status == 504) << fault_name(f) << ": " << r.body;
        EXPECT_LT(answers[i].took.count(), (kTimeout + milliseconds(2000)).count()) << fault_name(f);
        auto body = r.json();
        const auto* error = json::find(body, "error");
        ASSERT_NE(error, nullptr) << fault_name(f) << ": " << r.body;
        const std::size_t seen = peer.counts().submissions_by_job[str(*error, "job_id")];
        seen_by_jobs += seen;
        if (f != Fault::kStatus503) {
            EXPECT_EQ(seen, 1U) << fault_name(f) << ": " << r.body;
        } else {
            EXPECT_TRUE(seen >= 1 && seen <= kMaxAttempts) << "seen " << seen << " times: " << r.body;
        }
    }
    peer.fail_submissions(Fault::kResetOnAccept);
    const auto refused = burst.post_all(std::vector<std::string>(8, "refused"));
    for (const auto& a : refused) {
        EXPECT_EQ(a.response.status, 503) << a.response.body;
    }
    peer.fail_submissions(Fault::kNone);
    ASSERT_EQ(app.client().post("/v1/jobs", job_body("healthy again")).status, 201);
    const std::size_t fds_after = settle();
    EXPECT_EQ(peer.counts().submissions, seen_before + seen_by_jobs + 1) << "a create call the POSTs do not account for";

    const std::size_t threads_after = thread_count();
    std::cout << "[ measured ] burst of " << answers.size() << " faulty + " << refused.size() << " refused POSTs in "
              << burst_took.count() << " ms; fds " << fds_before << " -> " << fds_during << " (held) -> " << fds_after << ", threads "
              << threads_before << " -> " << threads_after << "\n";
    EXPECT_EQ(fds_after, fds_before);
    EXPECT_EQ(threads_after, threads_before);
}

}  // namespace
}  // namespace seedhook::test
