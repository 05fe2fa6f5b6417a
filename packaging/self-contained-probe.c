/* Run by check-self-contained.sh inside a root file system that holds only the base set:
 * loads a packaged libparley.so.0 with every symbol bound at once (RTLD_NOW), so that any
 * library missing from the package fails here, then creates a runtime (threads, the HTTP
 * client, the event queue) and passes one event through it. Links libc only. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef struct parley_runtime parley_runtime;
typedef struct parley_event parley_event;

int main(int argc, char **argv) {
  const char *(*version)(void);
  int (*runtime_create)(parley_runtime **, const char *);
  void (*runtime_destroy)(parley_runtime *);
  int (*post_event)(parley_runtime *, const char *);
  int (*poll_event)(parley_event **, parley_runtime *, int);
  const char *(*payload)(const parley_event *);
  void (*release)(parley_event *);
  parley_runtime *runtime = NULL;
  parley_event *event = NULL;
  void *library;
  int ok;

  if (argc != 2) {
    fprintf(stderr, "usage: %s /path/to/libparley.so.0\n", argv[0]);
    return 2;
  }
  library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "probe: dlopen failed: %s\n", dlerror());
    return 1;
  }
  *(void **)&version = dlsym(library, "parley_version");
  *(void **)&runtime_create = dlsym(library, "parley_runtime_create");
  *(void **)&runtime_destroy = dlsym(library, "parley_runtime_destroy");
  *(void **)&post_event = dlsym(library, "parley_runtime_post_event");
  *(void **)&poll_event = dlsym(library, "parley_runtime_poll_event");
  *(void **)&payload = dlsym(library, "parley_event_payload");
  *(void **)&release = dlsym(library, "parley_event_release");
  if (!version || !runtime_create || !runtime_destroy || !post_event || !poll_event || !payload || !release) {
    fprintf(stderr, "probe: a parley_* symbol is missing\n");
    return 1;
  }
  if (runtime_create(&runtime, "{\"log\": {\"sink\": \"none\"}}") != 0) {
    fprintf(stderr, "probe: parley_runtime_create failed\n");
    return 1;
  }
  ok = post_event(runtime, "{\"probe\":true}") == 0 && poll_event(&event, runtime, 2000) == 0 &&
       strcmp(payload(event), "{\"probe\":true}") == 0;
  release(event);
  runtime_destroy(runtime);
  if (!ok) {
    fprintf(stderr, "probe: the event did not come back\n");
    return 1;
  }
  printf("probe: libparley %s loaded and ran a runtime with only the base set installed\n", version());
  return 0;
}
