/*
 * A small Parley voice agent in C.
 *
 * Starts a runtime and one Twilio Media Streams listener (by default the appointment
 * agent: pocketsphinx STT with a JSGF grammar, the scripted LLM flow, espeak-ng TTS), then
 * prints what happens on each call:
 *
 *     listening on ws://127.0.0.1:PORT/twilio
 *     call started: <session id>
 *     caller: i would like to book an appointment       (final transcripts only)
 *     agent: Sure, I can help with that.
 *     turn 1 ended
 *     tool call: book_appointment({"day":"monday",...}) -> {"ok":true}
 *     call ended: <session id> (caller hung up)
 *
 * and exits after N calls (--calls N) or on SIGINT/SIGTERM.
 *
 *     agent [--calls N] [LISTENER_CONFIG.json]
 *
 * The listener config is a JSON file passed to parley_listener_start() as it is (default:
 * examples/c/agent-listener.json, whose file paths are relative to the repository root, so
 * run it from there). examples/c/echo-listener.json plays the caller's audio back instead.
 *
 * The same file is built two ways (see README.md): linked against libparley (this file
 * alone), and with agent_dlopen.c, which loads libparley.so.0 at run time instead.
 */
#include <parley/parley.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONFIG "examples/c/agent-listener.json"

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int signal_number) {
  (void)signal_number;
  stop_requested = 1;
}

/* ---- a little JSON: the top-level fields of an event payload ------------------------ */

static const char *skip_space(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
  return p;
}

/* p is at a string's opening quote; returns the character after its closing quote. */
static const char *skip_string(const char *p) {
  for (++p; *p != '"'; ++p) {
    if (*p == '\0') return NULL;
    if (*p == '\\' && *++p == '\0') return NULL;
  }
  return p + 1;
}

/* Skips one value; returns the ',' or '}' after it (or NULL on malformed JSON). */
static const char *skip_value(const char *p) {
  int depth = 0;
  for (;;) {
    switch (*p) {
      case '\0': return NULL;
      case '"':
        p = skip_string(p);
        if (p == NULL) return NULL;
        continue;
      case '{': case '[': ++depth; break;
      case '}': case ']':
        if (depth == 0) return p;
        --depth;
        break;
      case ',':
        if (depth == 0) return p;
        break;
      default: break;
    }
    ++p;
  }
}

static unsigned hex4(const char *p) {
  unsigned value = 0;
  int i;
  for (i = 0; i < 4; ++i) {
    const char c = p[i];
    value <<= 4;
    if (c >= '0' && c <= '9') value |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') value |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') value |= (unsigned)(c - 'A' + 10);
    else return 0xFFFFFFFFu;
  }
  return value;
}

/* Appends a code point as UTF-8 if it fits (with room for the NUL). */
static void put_utf8(char *out, size_t size, size_t *length, unsigned cp) {
  char bytes[4];
  size_t n, i;
  if (cp < 0x80) { bytes[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { bytes[0] = (char)(0xC0 | (cp >> 6)); bytes[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    bytes[0] = (char)(0xE0 | (cp >> 12)); bytes[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    bytes[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    bytes[0] = (char)(0xF0 | (cp >> 18)); bytes[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    bytes[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); bytes[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  if (*length + n >= size) return;
  for (i = 0; i < n; ++i) out[(*length)++] = bytes[i];
}

/* p is at a string's opening quote: decodes it into out (truncated to fit). */
static void decode_string(char *out, size_t size, const char *p) {
  size_t length = 0;
  for (++p; *p != '"' && *p != '\0'; ++p) {
    unsigned cp = (unsigned char)*p;
    if (*p == '\\') {
      ++p;
      switch (*p) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
          cp = hex4(p + 1);
          if (cp == 0xFFFFFFFFu) goto done;
          p += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {  /* a surrogate pair */
            const unsigned low = hex4(p + 3);
            if (low >= 0xDC00 && low < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              p += 6;
            }
          }
          break;
        case '\0': goto done;
        default: cp = (unsigned char)*p; break; /* \" \\ \/ */
      }
      put_utf8(out, size, &length, cp);
    } else if (length + 1 < size) {
      out[length++] = *p; /* UTF-8 bytes are copied as they are */
    }
  }
done:
  out[length] = '\0';
}

/*
 * Finds the top-level field `key` of the JSON object `json`. A string value is decoded
 * into out; any other value (number, true, an object...) is copied as its JSON text.
 * Returns 1 if found, 0 if not (out is then "").
 */
static int json_field(char *out, size_t size, const char *json, const char *key) {
  const size_t key_length = strlen(key);
  const char *p = skip_space(json);
  out[0] = '\0';
  if (*p++ != '{') return 0;
  for (;;) {
    const char *name, *name_end, *value, *end;
    p = skip_space(p);
    if (*p != '"') return 0;
    name = p + 1;
    name_end = skip_string(p); /* just after the closing quote */
    if (name_end == NULL) return 0;
    p = skip_space(name_end);
    if (*p++ != ':') return 0;
    value = skip_space(p);
    end = skip_value(value);
    if (end == NULL) return 0;
    /* Parley's keys are plain ASCII, so the raw bytes can be compared. */
    if ((size_t)(name_end - 1 - name) == key_length && strncmp(name, key, key_length) == 0) {
      if (*value == '"') {
        decode_string(out, size, value);
      } else {
        size_t length = (size_t)(end - value);
        while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\n')) --length;
        if (length >= size) length = size - 1;
        memcpy(out, value, length);
        out[length] = '\0';
      }
      return 1;
    }
    if (*end != ',') return 0;
    p = end + 1;
  }
}

/* ---- the agent --------------------------------------------------------------------- */

static char *read_file(const char *path) {
  FILE *file = fopen(path, "rb");
  char *text = NULL;
  long length;
  if (file == NULL) return NULL;
  if (fseek(file, 0, SEEK_END) == 0 && (length = ftell(file)) >= 0 && fseek(file, 0, SEEK_SET) == 0) {
    text = malloc((size_t)length + 1);
    if (text != NULL && fread(text, 1, (size_t)length, file) == (size_t)length) {
      text[length] = '\0';
    } else {
      free(text);
      text = NULL;
    }
  }
  fclose(file);
  return text;
}

static void print_error(const char *what, int status) {
  const parley_error *error = parley_error_last();
  fprintf(stderr, "agent: %s failed: %s: %s\n", what, parley_status_name(status),
          error != NULL ? error->message : "(no message)");
}

/* Answers a tool call. A real agent would look at the name and arguments and do the work. */
static void answer_tool_call(parley_runtime *runtime, const parley_event *event) {
  const char *payload = parley_event_payload(event);
  const char *result = "{\"ok\":true}";
  char id[256], name[256], arguments[1024];
  parley_session *session = NULL;
  int status;
  json_field(id, sizeof id, payload, "id");
  json_field(name, sizeof name, payload, "name");
  json_field(arguments, sizeof arguments, payload, "arguments");
  status = parley_session_open(&session, runtime, parley_event_session_id(event));
  if (status == PARLEY_OK) {
    status = parley_session_tool_result(session, id, result);
    parley_session_destroy(session);
  }
  if (status == PARLEY_OK) {
    printf("tool call: %s(%s) -> %s\n", name, arguments, result);
  } else {
    print_error("answering a tool call", status); /* the call may have ended meanwhile */
  }
}

/* Prints one event; returns 1 when it ended a call. */
static int handle_event(parley_runtime *runtime, const parley_event *event) {
  const char *session_id = parley_event_session_id(event);
  const char *payload = parley_event_payload(event);
  char text[4096], field[256];
  switch (parley_event_type_of(event)) {
    case PARLEY_EVENT_SESSION_STARTED:
      printf("call started: %s\n", session_id);
      return 0;
    case PARLEY_EVENT_SESSION_STOPPED:
      json_field(field, sizeof field, payload, "reason");
      printf("call ended: %s (%s)\n", session_id, field);
      return 1;
    case PARLEY_EVENT_SESSION_REJECTED:
      printf("call rejected: %s\n", payload);
      return 0;
    case PARLEY_EVENT_SESSION_ERROR:
      json_field(text, sizeof text, payload, "message");
      printf("call error: %s: %s\n", session_id, text);
      return 0;
    case PARLEY_EVENT_TRANSCRIPT:
      json_field(field, sizeof field, payload, "final");
      if (strcmp(field, "true") != 0) return 0; /* partials: the caller is still speaking */
      json_field(text, sizeof text, payload, "text");
      json_field(field, sizeof field, payload, "role");
      printf("%s: %s\n", strcmp(field, "user") == 0 ? "caller" : "agent", text);
      return 0;
    case PARLEY_EVENT_TURN:
      json_field(field, sizeof field, payload, "turn");
      json_field(text, sizeof text, payload, "interrupted");
      printf("turn %s ended%s\n", field, strcmp(text, "true") == 0 ? " (interrupted)" : "");
      return 0;
    case PARLEY_EVENT_TOOL_CALL:
      answer_tool_call(runtime, event);
      return 0;
    case PARLEY_EVENT_RUNTIME_ERROR:
      fprintf(stderr, "agent: runtime error: %s\n", payload);
      return 0;
    default:
      return 0; /* audio, marks, DTMF, agent state...: not needed here */
  }
}

int main(int argc, char **argv) {
  const char *config_path = DEFAULT_CONFIG;
  long calls = 0; /* 0: until SIGINT */
  char *listener_config;
  char address[256], path[256];
  parley_runtime *runtime = NULL;
  parley_listener *listener = NULL;
  size_t hung_up = 0;
  long ended = 0;
  int i, status;

  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc) {
      char *end;
      calls = strtol(argv[++i], &end, 10);
      if (*end != '\0' || calls < 0) {
        fprintf(stderr, "agent: --calls takes a number\n");
        return 2;
      }
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [--calls N] [LISTENER_CONFIG.json]\n", argv[0]);
      return 2;
    } else {
      config_path = argv[i];
    }
  }
  /* Line-buffered even into a pipe or a file, so each line shows as it happens. */
  setvbuf(stdout, NULL, _IOLBF, 0);

  listener_config = read_file(config_path);
  if (listener_config == NULL) {
    fprintf(stderr, "agent: cannot read the listener config %s (paths in the default one are relative "
                    "to the repository root: run from there, or pass a config file)\n", config_path);
    return 1;
  }
  printf("libparley %s\n", parley_version());

  status = parley_runtime_create(&runtime, "{\"log\": {\"level\": \"warn\"}}");
  if (status != PARLEY_OK) {
    print_error("parley_runtime_create", status);
    free(listener_config);
    return 1;
  }
  status = parley_listener_start(&listener, runtime, listener_config);
  if (status != PARLEY_OK) {
    print_error("parley_listener_start", status);
    parley_runtime_destroy(runtime);
    free(listener_config);
    return 1;
  }
  if (!json_field(address, sizeof address, listener_config, "address")) strcpy(address, "127.0.0.1");
  if (!json_field(path, sizeof path, listener_config, "path")) strcpy(path, "/twilio");
  free(listener_config);
  printf("listening on ws://%s:%d%s\n", address, parley_listener_port(listener), path);

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!stop_requested && (calls == 0 || ended < calls)) {
    parley_event *event = NULL;
    status = parley_runtime_poll_event(&event, runtime, 200); /* wakes up to look at the flag */
    if (status == PARLEY_ETIMEOUT) continue;
    if (status != PARLEY_OK) {
      print_error("parley_runtime_poll_event", status);
      break;
    }
    ended += handle_event(runtime, event);
    parley_event_release(event);
  }

  /* Calls still live get two seconds to finish, then are hung up. */
  parley_listener_stop(&hung_up, listener, 2000);
  parley_listener_destroy(listener);
  parley_runtime_destroy(runtime);
  printf("done: %ld call(s) ended%s\n", ended, hung_up > 0 ? ", the rest hung up" : "");
  return status == PARLEY_OK || status == PARLEY_ETIMEOUT ? 0 : 1;
}
