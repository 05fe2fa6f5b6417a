/* Loads libparley.so.0 at run time, as a plugin host or an FFI would, and resolves
 * parley_version. Takes the library path as its only argument. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef const char *(*version_fn)(void);

int main(int argc, char **argv) {
  void *library;
  version_fn version;
  const char *text;
  if (argc != 2) {
    fprintf(stderr, "usage: %s /path/to/libparley.so.0\n", argv[0]);
    return 2;
  }
  library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "dlopen failed: %s\n", dlerror());
    return 1;
  }
  *(void **)(&version) = dlsym(library, "parley_version");
  if (version == NULL) {
    fprintf(stderr, "dlsym(parley_version) failed: %s\n", dlerror());
    return 1;
  }
  text = version();
  printf("dlopen: parley_version() = %s\n", text);
  if (text == NULL || strchr(text, '.') == NULL) return 1;
  /* An internal symbol must not be reachable. */
  if (dlsym(library, "_ZN6parley12status_nameENS_6StatusE") != NULL) {
    fprintf(stderr, "internal C++ symbol is exported\n");
    return 1;
  }
  dlclose(library);
  return 0;
}
