// Certificate reload in the running binary: SIGHUP and changed files give new connections the
// new certificate while open connections carry on; a pair that does not load is refused and
// the current certificate kept.
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/raw_tls.hpp"

namespace seedhook::test {
namespace {

namespace fs = std::filesystem;

constexpr auto kReloadWait = std::chrono::seconds(10);  // polling every 2 s, plus the settle

// A leaf for 127.0.0.1 and localhost signed by the test CA, with its own key, serial and
// subject: `dir`/`name`.crt and `dir`/`name`.key.
void make_leaf(const fs::path& dir, const std::string& name, int serial) {
    const fs::path base = dir / name;
    const std::string ca = certs_dir();
    const std::string command =
        "set -e; cd '" + dir.string() + "'; " +
        "openssl ecparam -name prime256v1 -genkey -noout -out '" + name + ".key' 2>/dev/null; " +
        "openssl req -new -key '" + name + ".key' -subj '/CN=localhost/OU=reload " + name + "' -out '" + name + ".csr' 2>/dev/null; " +
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > '" + name + ".ext'; " +
        "openssl x509 -req -in '" + name + ".csr' -CA '" + ca + "/ca.crt' -CAkey '" + ca + "/ca.key' -set_serial " +
        std::to_string(serial) + " -days 30 -sha256 -extfile '" + name + ".ext' -out '" + name + ".crt' 2>/dev/null; " +
        "rm -f '" + name + ".csr' '" + name + ".ext'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;  // NOLINT(cert-env33-c): test fixture
    ASSERT_FALSE(certificate_file_sha256(base.string() + ".crt").empty());
}

// Replaces `to` with a copy of `from` the way editors and certbot do: write aside, rename over.
void replace_file(const fs::path& from, const fs::path& to) {
    const fs::path aside = to.string() + ".new";
    fs::copy_file(from, aside, fs::copy_options::overwrite_existing);
    fs::rename(aside, to);
}

std::size_t count_lines_with(const std::string& log, const std::vector<std::string>& parts) {
    std::istringstream lines(log);
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);) {
        bool all = true;
        for (const auto& part : parts) {
            all = all && line.find(part) != std::string::npos;
        }
        n += all ? 1 : 0;
    }
    return n;
}

// The fingerprint of the certificate a new connection is shown (empty if it cannot connect).
std::string served_sha256(std::uint16_t port) {
    RawTls conn(port);
    if (conn.handshake()) {
        return {};
    }
    return conn.peer_sha256();
}

class TlsReload : public ::testing::Test {
protected:
    // Starts the binary on `cert`/`key` (paths, maybe symlinks) with SIGHUP handling, as run.
    void start(const fs::path& cert, const fs::path& key) {
        port = free_port();
        const std::string config = write_config(dir, valid_config(dir, port));
        process = spawn_seedhook(dir, {"--config", config}, {
            std::string("SEEDHOOK_AUTH_API_TOKENS=") + kToken,
            "SEEDHOOK_TLS_CERT_FILE=" + cert.string(),
            "SEEDHOOK_TLS_KEY_FILE=" + key.string(),
        });
        ASSERT_TRUE(eventually([&] { return out().find("seedhook ready") != std::string::npos; }, std::chrono::seconds(10)))
            << slurp(process.err);
    }

    std::string out() const { return slurp(process.out); }

    ~TlsReload() override {
        if (process.pid > 0) {
            kill(process.pid, SIGTERM);
            EXPECT_EQ(wait_exit(process, std::chrono::seconds(15)), 0) << slurp(process.err);
            EXPECT_EQ(out().find("PRIVATE KEY"), std::string::npos) << "key material in the log";
        }
    }

    TempDir dir;
    std::uint16_t port = 0;
    Process process;
};

TEST_F(TlsReload, SighupSwapsTheCertificateForNewConnectionsOpenOnesCarryOnAndABadKeyIsRefused) {
    for (const auto& [name, serial] : {std::pair{"a", 0xA001}, std::pair{"b", 0xB002}, std::pair{"c", 0xC003}}) {
        make_leaf(dir.path(), name, serial);
    }
    const fs::path cert = dir.path() / "tls.crt";
    const fs::path key = dir.path() / "tls.key";
    fs::copy_file(dir.path() / "a.crt", cert);
    fs::copy_file(dir.path() / "a.key", key);
    const std::string a = certificate_file_sha256((dir.path() / "a.crt").string());
    const std::string b = certificate_file_sha256((dir.path() / "b.crt").string());
    ASSERT_NE(a, b);
    start(cert, key);

    RawTls open(port);
    ASSERT_FALSE(open.handshake());
    EXPECT_EQ(open.peer_sha256(), a);
    ASSERT_TRUE(open.healthz());

    replace_file(dir.path() / "b.crt", cert);
    replace_file(dir.path() / "b.key", key);
    kill(process.pid, SIGHUP);
    ASSERT_TRUE(eventually([&] {
        return count_lines_with(out(), {"\"certificate reloaded\"", "\"reason\":\"SIGHUP\"", "\"serial\":\"B002\""}) == 1;
    }, kReloadWait)) << out();
    EXPECT_TRUE(open.healthz()) << "the connection opened before the reload was dropped";
    EXPECT_EQ(served_sha256(port), b);

    // A key that is not the certificate's: refused, with one error line; B stays.
    replace_file(dir.path() / "c.key", key);
    kill(process.pid, SIGHUP);
    ASSERT_TRUE(eventually([&] {
        return count_lines_with(out(), {"\"level\":\"error\"", "certificate reload refused", "\"reason\":\"SIGHUP\"", "does not match"}) == 1;
    }, kReloadWait)) << out();
    EXPECT_EQ(served_sha256(port), b);
    EXPECT_TRUE(open.healthz());

    // An unreadable key file: refused as well.
    fs::remove(key);
    kill(process.pid, SIGHUP);
    ASSERT_TRUE(eventually([&] {
        return count_lines_with(out(), {"certificate reload refused", "cannot read " + key.string()}) >= 1;
    }, kReloadWait)) << out();
    RawTls after(port);
    ASSERT_FALSE(after.handshake());
    EXPECT_EQ(after.peer_sha256(), b);
    EXPECT_TRUE(after.healthz());
    EXPECT_TRUE(open.healthz());
}

// Kubernetes mounts a secret as NAME -> ..data/NAME with ..data -> a timestamped folder, and
// updates it by pointing ..data at a new folder in one rename.
TEST_F(TlsReload, ChangedFilesAreReloadedWithoutASignalThroughSymlinkSwapsAndInPlaceWrites) {
    for (const auto& [name, serial] : {std::pair{"a", 0xA101}, std::pair{"b", 0xB102}, std::pair{"c", 0xC103}}) {
        make_leaf(dir.path(), name, serial);
    }
    const fs::path mount = dir.path() / "secret";
    for (const char* version : {"v1", "v2"}) {
        fs::create_directories(mount / version);
    }
    fs::copy_file(dir.path() / "a.crt", mount / "v1" / "tls.crt");
    fs::copy_file(dir.path() / "a.key", mount / "v1" / "tls.key");
    fs::copy_file(dir.path() / "b.crt", mount / "v2" / "tls.crt");
    fs::copy_file(dir.path() / "b.key", mount / "v2" / "tls.key");
    fs::create_directory_symlink("v1", mount / "..data");
    fs::create_symlink("..data/tls.crt", mount / "tls.crt");
    fs::create_symlink("..data/tls.key", mount / "tls.key");
    start(mount / "tls.crt", mount / "tls.key");
    const std::string a = certificate_file_sha256((dir.path() / "a.crt").string());
    const std::string b = certificate_file_sha256((dir.path() / "b.crt").string());
    const std::string c = certificate_file_sha256((dir.path() / "c.crt").string());
    EXPECT_EQ(served_sha256(port), a);
    RawTls open(port);
    ASSERT_FALSE(open.handshake());
    ASSERT_TRUE(open.healthz());

    fs::create_directory_symlink("v2", mount / "..data_tmp");
    fs::rename(mount / "..data_tmp", mount / "..data");
    EXPECT_TRUE(eventually([&] { return served_sha256(port) == b; }, kReloadWait)) << out();
    // The line is logged as the new pair goes live, and info lines reach stdout within the log
    // writer's few milliseconds of batching: so it is awaited, not expected at once.
    EXPECT_TRUE(eventually([&] {
        return count_lines_with(out(), {"\"certificate reloaded\"", "\"reason\":\"file change\"", "\"serial\":\"B102\""}) == 1;
    }, std::chrono::seconds(2))) << out();
    EXPECT_TRUE(open.healthz());

    // Written in place (same inode), the key first, then the certificate: one reload to C, and
    // no error if the writer is quicker than the settle time.
    fs::copy_file(dir.path() / "c.key", mount / "v2" / "tls.key", fs::copy_options::overwrite_existing);
    fs::copy_file(dir.path() / "c.crt", mount / "v2" / "tls.crt", fs::copy_options::overwrite_existing);
    EXPECT_TRUE(eventually([&] { return served_sha256(port) == c; }, kReloadWait)) << out();
    EXPECT_EQ(count_lines_with(out(), {"certificate reload refused"}), 0U) << out();
    EXPECT_TRUE(open.healthz());
}

TEST_F(TlsReload, SighupIsIgnoredWithASelfSignedCertificate) {
    port = free_port();
    std::string text = valid_config(dir, port);
    const auto from = text.find("\"tls\":{");
    const auto to = text.find('}', from);
    text.replace(from, to - from + 1, "\"tls\":{\"self_signed\":true}");
    const std::string config = write_config(dir, text);
    process = spawn_seedhook(dir, {"--config", config}, {std::string("SEEDHOOK_AUTH_API_TOKENS=") + kToken});
    ASSERT_TRUE(eventually([&] { return out().find("seedhook ready") != std::string::npos; }, std::chrono::seconds(10)))
        << slurp(process.err);
    kill(process.pid, SIGHUP);
    ASSERT_TRUE(eventually([&] { return out().find("SIGHUP ignored") != std::string::npos; }, kReloadWait)) << out();
    int status = 0;
    EXPECT_EQ(waitpid(process.pid, &status, WNOHANG), 0) << "SIGHUP ended the process";
    // The fixture's SIGTERM then expects a clean exit 0.
}

}  // namespace
}  // namespace seedhook::test
