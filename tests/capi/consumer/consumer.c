/* A host program in plain C, built against the *installed* parley.h and libparley. It
 * checks the contract a C host relies on: version, error reporting, runtime lifecycle,
 * event ownership, and the log callback. Exits 0 only if every check passes. */
#include <parley/parley.h>

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

static void on_log(int level, const char *message, void *user_data) {
  int *count = (int *)user_data;
  (void)level;
  if (strstr(message, "hello from C") != NULL) ++*count;
}

int main(void) {
  parley_runtime *runtime = NULL;
  parley_event *event = NULL;
  const parley_error *error;
  int log_count = 0;

  CHECK(strcmp(parley_version(), PARLEY_VERSION_STRING) == 0);
  printf("libparley %s (header %s)\n", parley_version(), PARLEY_VERSION_STRING);

  CHECK(parley_runtime_create(&runtime, "{\"io_threds\": 2}") == PARLEY_ECONFIG);
  CHECK(runtime == NULL);
  error = parley_error_last();
  CHECK(error != NULL && error->code == PARLEY_ECONFIG);
  CHECK(error != NULL && strstr(error->message, "$.io_threds: unknown key") != NULL);
  if (error != NULL) printf("bad config rejected: %s\n", error->message);

  CHECK(parley_runtime_create(&runtime, "{\"log\": {\"sink\": \"none\"}}") == PARLEY_OK);
  CHECK(runtime != NULL);
  CHECK(parley_error_last() == NULL);

  CHECK(parley_runtime_poll_event(&event, runtime, 0) == PARLEY_ETIMEOUT);
  CHECK(parley_runtime_post_event(runtime, "{\"from\":\"c\"}") == PARLEY_OK);
  CHECK(parley_runtime_poll_event(&event, runtime, 1000) == PARLEY_OK);
  CHECK(parley_event_type_of(event) == PARLEY_EVENT_USER);
  CHECK(strcmp(parley_event_payload(event), "{\"from\":\"c\"}") == 0);
  parley_event_release(event);

  CHECK(parley_runtime_set_log_callback(runtime, PARLEY_LOG_INFO, on_log, &log_count) == PARLEY_OK);
  CHECK(parley_runtime_log(runtime, PARLEY_LOG_INFO, "hello from C") == PARLEY_OK);
  /* Removing the callback delivers what is queued first. */
  CHECK(parley_runtime_set_log_callback(runtime, PARLEY_LOG_INFO, NULL, NULL) == PARLEY_OK);
  CHECK(log_count == 1);

  CHECK(parley_runtime_poll_event(NULL, runtime, 0) == PARLEY_EINVAL);
  parley_runtime_destroy(runtime);
  parley_runtime_destroy(NULL);

  if (failures == 0) printf("consumer: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
