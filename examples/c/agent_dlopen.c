/*
 * The agent of agent.c, without linking libparley: this file defines each parley_*
 * function agent.c calls as a forwarder to the real one, found with dlsym() in
 * libparley.so.0 loaded at run time. The program links only libc (and libdl).
 *
 *     cc -std=c11 -I<prefix>/include agent.c agent_dlopen.c -ldl -o agent_dlopen
 *     PARLEY_LIBRARY=/path/to/libparley.so.0 ./agent_dlopen [--calls N] [CONFIG.json]
 *
 * PARLEY_LIBRARY names the library (default "libparley.so.0": the dynamic loader's search
 * path). parley.h is still needed at compile time, for the types, and it makes the compiler
 * check every forwarder's parameters against the real declaration.
 *
 * Forwarding functions keep agent.c identical in both builds. A plugin host would rather
 * keep the pointers in a struct of its own; either way, compare parley_version() with
 * PARLEY_VERSION_STRING before relying on functions newer than the library.
 */
#include <parley/parley.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static void *library;

/* The address of `name` in libparley, loading the library on first use; exits on failure
 * (the agent cannot do anything without it). */
static void *parley_symbol(const char *name) {
  void *symbol;
  if (library == NULL) {
    const char *path = getenv("PARLEY_LIBRARY");
    if (path == NULL || path[0] == '\0') path = "libparley.so.0";
    library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
      fprintf(stderr, "agent: cannot load %s: %s (set PARLEY_LIBRARY to its path)\n", path, dlerror());
      exit(1);
    }
  }
  symbol = dlsym(library, name);
  if (symbol == NULL) {
    fprintf(stderr, "agent: libparley has no %s: %s\n", name, dlerror());
    exit(1);
  }
  return symbol;
}

/* Defines `name` with the parameters `params`; the first call resolves the real function.
 * (Only the event loop's thread calls these, so the lazy lookup needs no lock.) */
#define FORWARD(ret, name, params, args)                 \
  ret name params {                                      \
    static ret(*real) params;                            \
    if (real == NULL) *(void **)&real = parley_symbol(#name); \
    return real args;                                    \
  }
#define FORWARD_VOID(name, params, args)                 \
  void name params {                                     \
    static void(*real) params;                           \
    if (real == NULL) *(void **)&real = parley_symbol(#name); \
    real args;                                           \
  }

FORWARD(const char *, parley_version, (void), ())
FORWARD(const parley_error *, parley_error_last, (void), ())
FORWARD(const char *, parley_status_name, (int status), (status))
FORWARD(int, parley_runtime_create, (parley_runtime **out, const char *config_json), (out, config_json))
FORWARD_VOID(parley_runtime_destroy, (parley_runtime *runtime), (runtime))
FORWARD(int, parley_runtime_poll_event, (parley_event **out, parley_runtime *runtime, int timeout_ms),
        (out, runtime, timeout_ms))
FORWARD(int, parley_event_type_of, (const parley_event *event), (event))
FORWARD(const char *, parley_event_session_id, (const parley_event *event), (event))
FORWARD(const char *, parley_event_payload, (const parley_event *event), (event))
FORWARD_VOID(parley_event_release, (parley_event *event), (event))
FORWARD(int, parley_listener_start, (parley_listener **out, parley_runtime *runtime, const char *config_json),
        (out, runtime, config_json))
FORWARD(int, parley_listener_port, (const parley_listener *listener), (listener))
FORWARD(int, parley_listener_stop, (size_t *out_hung_up, parley_listener *listener, int drain_timeout_ms),
        (out_hung_up, listener, drain_timeout_ms))
FORWARD_VOID(parley_listener_destroy, (parley_listener *listener), (listener))
FORWARD(int, parley_session_open, (parley_session **out, parley_runtime *runtime, const char *session_id),
        (out, runtime, session_id))
FORWARD(int, parley_session_tool_result,
        (parley_session *session, const char *tool_call_id, const char *result_json),
        (session, tool_call_id, result_json))
FORWARD_VOID(parley_session_destroy, (parley_session *session), (session))
