#pragma once

/// Names the calling thread for `top -H`, `ps -L`, perf and gdb ("seedhook" otherwise for
/// all of them). Linux keeps 15 characters.

#include <pthread.h>

#include <string>

namespace seedhook {

inline void name_this_thread(const std::string& name) {
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

/// Names the calling thread once, on its first call: for pool threads, which start unnamed.
inline void name_this_thread_once(const std::string& name) {
    thread_local bool named = false;
    if (!named) {
        named = true;
        name_this_thread(name);
    }
}

}  // namespace seedhook
