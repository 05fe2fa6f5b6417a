/*
 * parley_java.i — Java typemaps for parley.i (included by it under SWIGJAVA).
 *
 * The generated classes (ParleyNative, ParleyNativeJNI, ParleyNativeConstants) are
 * package-private in dev.parley; the public API is the hand-written layer in
 * bindings/java/src/main/java/dev/parley/. Generate with:
 *
 *     swig -java -package dev.parley -module ParleyNative -outdir <dir> -o parley_jni.c \
 *          -I<prefix>/include bindings/swig/parley.i
 *
 *  - Handles (parley_runtime *, ...) are Java `long`s; the layer guards them (NativeHandle).
 *  - Strings cross as NUL-terminated UTF-8 byte arrays (JNI's "modified UTF-8" would mangle
 *    characters outside the BMP); the layer encodes and decodes with StandardCharsets.UTF_8.
 *  - PCM16 audio is short[], G.711 is byte[]; both are copied by the call.
 *  - A failed call throws dev.parley.ParleyException(status, engine message) from the C
 *    wrapper itself, in the same native call as the failure.
 */

%include <enumsimple.swg>
%javaconst(1);

%pragma(java) moduleclassmodifiers="final class"
%pragma(java) jniclassclassmodifiers="final class"
%pragma(java) jniclasscode=%{
  static {
    NativeLoader.load();
  }
%}

%{
#include <stdint.h>

static jclass parley_java_exception_class;
static jmethodID parley_java_exception_factory;

/* Cached while a Java frame of this library's class loader is on the stack. */
JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
  JNIEnv *env = NULL;
  jclass local;
  (void)reserved;
  if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  local = (*env)->FindClass(env, "dev/parley/ParleyException");
  if (local == NULL) return JNI_ERR;
  parley_java_exception_class = (jclass)(*env)->NewGlobalRef(env, local);
  (*env)->DeleteLocalRef(env, local);
  parley_java_exception_factory = (*env)->GetStaticMethodID(
      env, parley_java_exception_class, "fromNative", "(I[B)Ldev/parley/ParleyException;");
  if (parley_java_exception_factory == NULL) return JNI_ERR;
  return JNI_VERSION_1_8;
}

/* Makes a ParleyException pending. The wrapper carries on (it only releases its arguments)
 * and Java sees the exception when the native method returns. */
static void parley_java_throw(JNIEnv *jenv, int status, const char *message) {
  jsize length;
  jbyteArray bytes;
  jobject exception;
  if ((*jenv)->ExceptionCheck(jenv)) return;
  length = (jsize)strlen(message);
  bytes = (*jenv)->NewByteArray(jenv, length);
  if (bytes == NULL) return;
  (*jenv)->SetByteArrayRegion(jenv, bytes, 0, length, (const jbyte *)message);
  exception = (*jenv)->CallStaticObjectMethod(jenv, parley_java_exception_class,
                                              parley_java_exception_factory, (jint)status, bytes);
  (*jenv)->DeleteLocalRef(jenv, bytes);
  if (exception != NULL && !(*jenv)->ExceptionCheck(jenv)) (*jenv)->Throw(jenv, (jthrowable)exception);
}

static jbyteArray parley_java_bytes(JNIEnv *jenv, const char *text) {
  jsize length;
  jbyteArray bytes;
  if (text == NULL || (*jenv)->ExceptionCheck(jenv)) return NULL;
  length = (jsize)strlen(text);
  bytes = (*jenv)->NewByteArray(jenv, length);
  if (bytes != NULL) (*jenv)->SetByteArrayRegion(jenv, bytes, 0, length, (const jbyte *)text);
  return bytes;
}
%}

%define PARLEY_SWIG_FAIL(STATUS, MESSAGE)
  parley_java_throw(jenv, STATUS, MESSAGE);
%enddef

/* ---- Handles: Java long ------------------------------------------------------------- */

%define PARLEY_JAVA_HANDLE(TYPE)
%typemap(jni) TYPE *, const TYPE * "jlong"
%typemap(jtype) TYPE *, const TYPE * "long"
%typemap(jstype) TYPE *, const TYPE * "long"
%typemap(javain) TYPE *, const TYPE * "$javainput"
%typemap(javaout) TYPE *, const TYPE * { return $jnicall; }
%typemap(in) TYPE *, const TYPE * %{ $1 = ($1_ltype)(intptr_t)$input; %}
%typemap(out) TYPE *, const TYPE * %{ $result = (jlong)(intptr_t)$1; %}
%enddef

PARLEY_JAVA_HANDLE(parley_runtime)
PARLEY_JAVA_HANDLE(parley_event)
PARLEY_JAVA_HANDLE(parley_listener)
PARLEY_JAVA_HANDLE(parley_session)
PARLEY_JAVA_HANDLE(parley_budget)

/* ---- Strings: UTF-8 byte[] ------------------------------------------------------------ */

%typemap(jni) const char *, char * "jbyteArray"
%typemap(jtype) const char *, char * "byte[]"
%typemap(jstype) const char *, char * "String"
%typemap(javain) const char *, char * "NativeStrings.encode($javainput)"
%typemap(javaout) const char *, char * { return NativeStrings.decode($jnicall); }
/* The layer passes NUL-terminated arrays (or null for NULL). */
%typemap(in) const char *, char * {
  $1 = NULL;
  if ($input != NULL) {
    $1 = ($1_ltype)(*jenv)->GetByteArrayElements(jenv, $input, NULL);
    if ($1 == NULL) return $null;
  }
}
%typemap(freearg) const char *, char * {
  if ($1 != NULL) (*jenv)->ReleaseByteArrayElements(jenv, $input, (jbyte *)$1, JNI_ABORT);
}
%typemap(out) const char *, char * %{ $result = parley_java_bytes(jenv, $1); %}

/* ---- Audio: short[] and byte[] ----------------------------------------------------------- */

%typemap(jni) (const int16_t *samples, size_t count) "jshortArray"
%typemap(jtype) (const int16_t *samples, size_t count) "short[]"
%typemap(jstype) (const int16_t *samples, size_t count) "short[]"
%typemap(javain) (const int16_t *samples, size_t count) "$javainput"
/* A 20 ms frame fits the stack buffer: one GetShortArrayRegion, no pinning, no malloc. */
%typemap(in) (const int16_t *samples, size_t count) (jshort stack_samples[2048], jshort *heap_samples = NULL) {
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    jsize length = (*jenv)->GetArrayLength(jenv, $input);
    jshort *buffer = stack_samples;
    if (length > 2048) {
      heap_samples = (jshort *)malloc((size_t)length * sizeof(jshort));
      if (heap_samples == NULL) {
        parley_java_throw(jenv, PARLEY_ENOMEM, "out of memory copying audio");
        return $null;
      }
      buffer = heap_samples;
    }
    (*jenv)->GetShortArrayRegion(jenv, $input, 0, length, buffer);
    $1 = ($1_ltype)buffer;
    $2 = (size_t)length;
  }
}
%typemap(freearg) (const int16_t *samples, size_t count) %{ free(heap_samples$argnum); %}

%typemap(jni) (const uint8_t *bytes, size_t count) "jbyteArray"
%typemap(jtype) (const uint8_t *bytes, size_t count) "byte[]"
%typemap(jstype) (const uint8_t *bytes, size_t count) "byte[]"
%typemap(javain) (const uint8_t *bytes, size_t count) "$javainput"
%typemap(in) (const uint8_t *bytes, size_t count) {
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    $1 = ($1_ltype)(*jenv)->GetByteArrayElements(jenv, $input, NULL);
    if ($1 == NULL) return $null;
    $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
  }
}
%typemap(freearg) (const uint8_t *bytes, size_t count) {
  if ($1 != NULL) (*jenv)->ReleaseByteArrayElements(jenv, $input, (jbyte *)$1, JNI_ABORT);
}

/* Event audio into a caller-sized short[]: a plain memcpy inside a critical section (the
 * helper calls nothing that can throw or block). */
%typemap(jni) (int16_t *out_samples, size_t capacity) "jshortArray"
%typemap(jtype) (int16_t *out_samples, size_t capacity) "short[]"
%typemap(jstype) (int16_t *out_samples, size_t capacity) "short[]"
%typemap(javain) (int16_t *out_samples, size_t capacity) "$javainput"
%typemap(in) (int16_t *out_samples, size_t capacity) {
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    $2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
    $1 = (int16_t *)(*jenv)->GetPrimitiveArrayCritical(jenv, $input, NULL);
    if ($1 == NULL) return $null;
  }
}
%typemap(argout) (int16_t *out_samples, size_t capacity) {
  if ($1 != NULL) (*jenv)->ReleasePrimitiveArrayCritical(jenv, $input, $1, 0);
}

/* Request ids are opaque 64-bit values: a Java long, not a BigInteger. */
%apply int64_t { uint64_t };

