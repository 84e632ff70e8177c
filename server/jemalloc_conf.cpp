// jemalloc's built-in options, read at its first allocation (MALLOC_CONF still overrides them),
// and OpenSSL's free() routed around jemalloc for null pointers.
//
// percpu_arena: one arena per CPU rather than jemalloc's default of four per CPU, handed out to
// threads in turn. seedhook's seven threads each had an arena of their own, each holding its own
// cached pages: 14.3 MiB resident idle instead of 14.7, and 38-42 MiB rather than 40-43 under
// load, for no CPU per request that bench/run.sh could tell apart (bench/README.md).
#include <openssl/crypto.h>

#include <cstdlib>

extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "percpu_arena:percpu";
}

namespace {

// Asio calls ERR_clear_error() before every SSL_read and SSL_write (about three per GET, six
// per callback), and OpenSSL 3 clears each of its 16 error slots with two CRYPTO_free calls,
// nearly all of them on null pointers. glibc's free() returns from those at once; jemalloc's
// looks the pointer up first, ~46 instructions each: 7% of a GET's instructions under
// callgrind (bench/README.md). Only free is replaced: OpenSSL still allocates with its own
// CRYPTO_malloc and CRYPTO_realloc, which call malloc() and realloc().
void free_unless_null(void* ptr, const char* /*file*/, int /*line*/) {
    if (ptr != nullptr) {
        std::free(ptr);  // NOLINT(cppcoreguidelines-no-malloc): OpenSSL's memory is malloc()'s
    }
}

// Before any static initializer of ours: OpenSSL refuses the change after its first allocation
// (and then simply keeps its own free, which is correct, only slower).
__attribute__((constructor(101))) void route_openssl_free() {
    CRYPTO_set_mem_functions(nullptr, nullptr, free_unless_null);
}

}  // namespace
