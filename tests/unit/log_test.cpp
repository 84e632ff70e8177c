// The JSON-lines log: redaction as secrets are added, and lines from many threads reaching
// stdout whole and in each thread's order, warnings (written at once) among them.
#include "common/log.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/json.hpp"

namespace {

namespace log = seedhook::log;

std::mutex g_lines_mutex;
std::vector<std::string> g_lines;

void capture(std::string_view line) {
    const std::lock_guard lock(g_lines_mutex);
    g_lines.emplace_back(line);
}

class LogSink : public ::testing::Test {
protected:
    void SetUp() override {
        g_lines.clear();
        log::set_level(log::Level::kInfo);
        log::set_sink(&capture);
    }
    void TearDown() override { log::set_sink(nullptr); }
};

TEST_F(LogSink, ASecretAddedAfterAThreadHasLoggedIsRedactedInThatThreadsNextLine) {
    const std::string secret = "sk-added-late-0b9f3c1e77d24a58";
    std::promise<void> added;
    std::promise<void> first_written;
    std::thread writer([&] {
        log::write(log::Level::kInfo, "test", "before", {{"value", secret}});
        first_written.set_value();
        added.get_future().wait();
        log::write(log::Level::kInfo, "test", "after", {{"value", secret}});
    });
    first_written.get_future().wait();
    log::add_secret(secret);
    added.set_value();
    writer.join();
    ASSERT_EQ(g_lines.size(), 2U);
    EXPECT_NE(g_lines[0].find(secret), std::string::npos);  // not yet a secret when written
    EXPECT_EQ(g_lines[1].find(secret), std::string::npos) << g_lines[1];
    EXPECT_NE(g_lines[1].find("[redacted]"), std::string::npos) << g_lines[1];
    EXPECT_EQ(log::redact("key " + secret), "key [redacted]");
}

// Points stdout at a file for the scope's duration.
class StdoutToFile {
public:
    StdoutToFile() : path_(::testing::TempDir() + "log_test_stdout.txt") {
        std::fflush(stdout);
        saved_ = ::dup(STDOUT_FILENO);
        std::FILE* f = std::fopen(path_.c_str(), "w");
        ::dup2(::fileno(f), STDOUT_FILENO);
        std::fclose(f);
    }
    StdoutToFile(const StdoutToFile&) = delete;
    StdoutToFile& operator=(const StdoutToFile&) = delete;
    ~StdoutToFile() { restore(); }

    std::string restore_and_read() {
        restore();
        std::ifstream in(path_);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

private:
    void restore() {
        if (saved_ >= 0) {
            std::fflush(stdout);
            ::dup2(saved_, STDOUT_FILENO);
            ::close(saved_);
            saved_ = -1;
        }
    }

    std::string path_;
    int saved_ = -1;
};

TEST(LogStdout, LinesFromManyThreadsArriveWholeAndInEachThreadsOrderWarningsAmongThem) {
    constexpr int kThreads = 4;
    constexpr int kLines = 3000;
    log::set_sink(nullptr);
    log::set_level(log::Level::kInfo);
    StdoutToFile redirect;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t] {
            for (int i = 0; i < kLines; ++i) {
                // every 100th line a warning, which is written at once with what came before
                const auto level = i % 100 == 99 ? log::Level::kWarn : log::Level::kInfo;
                log::write(level, "test", "line", {{"thread", static_cast<std::int64_t>(t)}, {"seq", static_cast<std::int64_t>(i)}, {"pad", std::string_view("x-x-x-x-x-x-x-x-x-x-x-x")}});
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    log::flush();
    const std::string text = redirect.restore_and_read();

    std::map<std::int64_t, std::int64_t> next;  // per thread, the seq expected next
    std::istringstream lines(text);
    std::string line;
    int seen = 0;
    while (std::getline(lines, line)) {
        auto doc = seedhook::json::parse(line);
        ASSERT_TRUE(doc && doc->IsObject()) << "not a whole JSON line: " << line.substr(0, 200);
        if (!doc->HasMember("seq")) {
            continue;  // a line from something else
        }
        const std::int64_t t = (*doc)["thread"].GetInt64();
        const std::int64_t seq = (*doc)["seq"].GetInt64();
        EXPECT_EQ(seq, next[t]) << "thread " << t << " out of order";
        next[t] = seq + 1;
        ++seen;
    }
    EXPECT_EQ(seen, kThreads * kLines);
}

}  // namespace
