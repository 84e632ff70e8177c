// The callbacks' storage path alone, without HTTP, TLS or JSON: K concurrent writers record
// deliveries through JobStore::record_delivery, the server's own group commit, job cache and
// SQL, on a new database with synchronous FULL. What a callback costs the server beyond
// answering it; bench/README.md puts it beside the full callback load.
//
// Usage: seedhook_storage_load [--json] DIR [SECONDS] [JOBS] [K...]
//   --json   one JSON object per line instead of text (bench/bench.py reads these)
//   DIR      a directory on the disk to measure (a new database is made in it and removed)
//   SECONDS  counted seconds per K, after one second of warm-up (default 5)
//   JOBS     jobs the deliveries go round (default 2000, as bench/run.sh)
//   K...     concurrent writers, one run each (default 1 8 64)
// Prints one line per K: deliveries/s; CPU per delivery of the process and of the writer
// thread alone (user + system); writes per commit; writer-thread time inside COMMIT per
// delivery; each delivery's latency (p50, p99).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/time.hpp"
#include "server/storage/database.hpp"
#include "server/storage/job_store.hpp"

namespace {

using namespace seedhook;
using Clock = std::chrono::steady_clock;

// A delivery like the bench's evolink callback: ~1 KB of body, status `processing`.
std::string body_of(std::size_t bytes) {
    std::string body = R"({"id":"task-unified-0","object":"video.generation.task","status":"processing","progress":50,"detail":")";
    body.resize(bytes - 2, 'x');
    body += "\"}";
    return body;
}

storage::JobRecord job_of(std::size_t i, std::int64_t now) {
    storage::JobRecord j;
    char id[40];
    std::snprintf(id, sizeof id, "job_%032zx", i * 2654435761U);
    j.id = id;
    j.provider = "evolink";
    j.model = "seedance-1.5-pro";
    j.provider_task_id = "task-unified-1796541254-" + std::to_string(i);
    j.status = "running";
    j.provider_status = "processing";
    j.request_json =
        R"({"model":"seedance-1.5-pro","prompt":"bench [sim:no-callback]","duration":5,"quality":"720p","aspect_ratio":"16:9","image_urls":[],"generate_audio":true,"options":{}})";
    j.metadata_json = "null";
    j.confirmed = true;
    j.created_at = j.updated_at = now;
    j.next_poll_at = now + 86400000;
    j.poll_interval_ms = 10000;
    return j;
}

// user + system CPU seconds: of the process, or of its thread named `name` (/proc).
double process_cpu() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

double thread_cpu(const std::string& name) {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string c;
        std::getline(comm, c);
        if (c != name) {
            continue;
        }
        std::ifstream stat(task.path() / "stat");
        std::string line;
        std::getline(stat, line);
        std::istringstream fields(line.substr(line.rfind(')') + 2));
        std::string skip;
        for (int i = 0; i < 11; ++i) {
            fields >> skip;  // state … cmajflt: fields 3 to 13
        }
        double utime = 0;
        double stime = 0;
        fields >> utime >> stime;
        return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    return 0;
}

// A sample of `name`'s value in the metrics' text.
double metric(const Metrics& m, const std::string& name) {
    std::istringstream text(m.render({}));
    std::string line;
    while (std::getline(text, line)) {
        if (line.starts_with(name + " ")) {
            return std::stod(line.substr(name.size() + 1));
        }
    }
    return 0;
}

struct Run {
    Clock::time_point counting_from;
    Clock::time_point until;
    std::size_t next = 0;              // the writers run on one thread
    std::vector<double> latencies_us;  // of the deliveries started after the warm-up
};

net::awaitable<void> writer(storage::JobStore& store, const std::vector<std::string>& ids, const std::string& body, Run& run) {
    while (Clock::now() < run.until) {
        const std::string& id = ids[run.next++ % ids.size()];
        const auto started = Clock::now();
        auto decide = [&body](storage::JobRecord& job, bool) {
            const std::int64_t now = now_ms();
            job.status = "running";
            job.provider_status = "processing";
            job.progress = job.progress % 99 + 1;
            job.updated_at = now;
            ++job.callbacks_received;
            storage::CallbackRecord d;
            d.received_at = now;
            d.source = "callback";
            d.outcome = "applied";
            d.provider_status = "processing";
            d.body = body;
            return d;
        };
        auto result = co_await store.record_delivery(id, std::nullopt, decide);
        if (!result) {
            std::fprintf(stderr, "job %s vanished\n", id.c_str());
            std::exit(1);
        }
        if (started >= run.counting_from) {
            run.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started).count());
        }
    }
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

// A failed write ends the run (out of ioc.run()) rather than quietly leaving fewer writers.
void rethrow(const std::exception_ptr& e) {
    if (e) {
        std::rethrow_exception(e);
    }
}

void measure(const std::filesystem::path& dir, const std::string& path, int seconds, std::size_t jobs, const std::vector<std::size_t>& ks, bool json) {
    Metrics metrics;
    storage::DatabaseOptions options;
    options.path = path;
    options.metrics = &metrics;
    storage::Database db(options);
    storage::JobStore store(db);
    net::io_context ioc;
    std::vector<std::string> ids;
    const std::int64_t now = now_ms();
    for (std::size_t i = 0; i < jobs; ++i) {
        ids.push_back(job_of(i, now).id);
    }
    // The jobs, 64 writers at a time.
    std::size_t next = 0;
    for (int w = 0; w < 64; ++w) {
        net::co_spawn(ioc, [&]() -> net::awaitable<void> {
            for (std::size_t i = next++; i < jobs; i = next++) {
                co_await store.insert(job_of(i, now));
            }
        }, rethrow);
    }
    ioc.run();
    const std::string body = body_of(1024);
    if (!json) {
        std::printf("storage only: %zu jobs, %zu-byte bodies, synchronous FULL, %d s per run, in %s\n", jobs, body.size(), seconds, dir.c_str());
    }
    struct Counters {
        double cpu = 0;
        double writer = 0;
        double commits = 0;
        double commit_s = 0;
    };
    const auto read = [&metrics] {
        return Counters{
            process_cpu(),
            thread_cpu("seedhook-write"),
            metric(metrics, "seedhook_storage_commit_duration_seconds_count"),
            metric(metrics, "seedhook_storage_commit_duration_seconds_sum"),
        };
    };
    for (const std::size_t k : ks) {
        Run run;
        run.counting_from = Clock::now() + std::chrono::seconds(1);
        run.until = run.counting_from + std::chrono::seconds(seconds);
        Counters c0;
        Counters c1;
        // The counters are read when the warm-up second is over and at the end, on this loop.
        net::co_spawn(ioc, [&]() -> net::awaitable<void> {
            boost::asio::steady_timer t(ioc, run.counting_from);
            co_await t.async_wait(net::use_awaitable);
            c0 = read();
            t.expires_at(run.until);
            co_await t.async_wait(net::use_awaitable);
            c1 = read();
        }, rethrow);
        for (std::size_t w = 0; w < k; ++w) {
            net::co_spawn(ioc, writer(store, ids, body, run), rethrow);
        }
        ioc.restart();
        ioc.run();
        const auto n = static_cast<double>(run.latencies_us.size());
        std::printf(
            json ? R"({"writers": %zu, "rate": %.1f, "cpu_us": %.2f, "writer_cpu_us": %.2f, "writes_per_commit": %.2f, "commit_us": %.2f, "p50_ms": %.3f, "p99_ms": %.3f})"
                   "\n"
                 : "  K=%-3zu %8.0f deliveries/s  cpu %5.1f us (writer thread %5.1f us)  %5.1f writes/commit  "
                   "in COMMIT %5.1f us  latency p50 %6.2f ms  p99 %6.2f ms\n",
            k, n / seconds, (c1.cpu - c0.cpu) * 1e6 / n, (c1.writer - c0.writer) * 1e6 / n,
            n / std::max(1.0, c1.commits - c0.commits), (c1.commit_s - c0.commit_s) * 1e6 / n,
            percentile(run.latencies_us, 0.5) / 1e3, percentile(run.latencies_us, 0.99) / 1e3
        );
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const bool json = argc > 1 && std::string_view(argv[1]) == "--json";
    if (json) {
        --argc;
        ++argv;
    }
    if (argc < 2) {
        std::fprintf(stderr, "usage: seedhook_storage_load [--json] DIR [SECONDS] [JOBS] [K...]\n");
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
    const std::size_t jobs = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 2000;
    std::vector<std::size_t> ks;
    for (int i = 4; i < argc; ++i) {
        ks.push_back(std::strtoul(argv[i], nullptr, 10));
    }
    if (ks.empty()) {
        ks = {1, 8, 64};
    }
    if (seconds <= 0 || jobs == 0 || std::ranges::find(ks, std::size_t{0}) != ks.end()) {
        std::fprintf(stderr, "SECONDS, JOBS and each K must be positive\n");
        return 2;
    }
    log::set_level(log::Level::kWarn);  // stdout carries the figures
    const std::string path = (dir / ("storage-load-" + std::to_string(getpid()) + ".db")).string();
    int rc = 0;
    try {
        measure(dir, path, seconds, jobs, ks, json);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "seedhook_storage_load: %s\n", e.what());
        rc = 1;
    }
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::error_code ignored;
        std::filesystem::remove(path + suffix, ignored);
    }
    return rc;
}
