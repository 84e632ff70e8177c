// jemalloc's built-in options, read at its first allocation (MALLOC_CONF still overrides them).
//
// percpu_arena: one arena per CPU rather than jemalloc's default of four per CPU, handed out to
// threads in turn. seedhook's seven threads each had an arena of their own, each holding its own
// cached pages: 14.3 MiB resident idle instead of 14.7, and 38-42 MiB rather than 40-43 under
// load, for no CPU per request that bench/run.sh could tell apart (bench/README.md).
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "percpu_arena:percpu";
}
