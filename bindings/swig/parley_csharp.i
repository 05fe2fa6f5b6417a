/*
 * parley_csharp.i — C# typemaps for parley.i (included by it under SWIGCSHARP).
 *
 * The generated classes (ParleyNative, ParleyNativePINVOKE) are internal to the Parley
 * assembly; the public API is the hand-written layer in bindings/csharp/src/. Generate with:
 *
 *     swig -csharp -namespace Parley -module ParleyNative -dllimport parley_csharp \
 *          -outdir <dir> -o parley_csharp_wrap.c -I<prefix>/include bindings/swig/parley.i
 *
 *  - Handles are SafeHandle subclasses (RuntimeHandle, ...): the P/Invoke marshaller holds
 *    a reference for the length of each call, so Dispose() on another thread never frees an
 *    object under a call, and a disposed handle throws ObjectDisposedException instead of
 *    reaching C. Events are IntPtr: the binding copies and releases them at once.
 *  - The glue (libparley_csharp.so) is the only DllImport target; it finds libparley.so.0
 *    next to itself (rpath $ORIGIN).
 *  - PCM16 audio is short[], G.711 is byte[]: blittable, pinned for the call, no copy.
 *  - A failed call sets a pending Parley.ParleyException(status, engine message) from the
 *    C wrapper, in the same native call as the failure; the generated C# method throws it
 *    as soon as the P/Invoke returns.
 */

%include <enumsimple.swg>
%csconst(1);

%pragma(csharp) moduleclassmodifiers="internal static class"
%pragma(csharp) imclassclassmodifiers="internal class"

/* ---- Errors ------------------------------------------------------------------------ */

%insert(runtime) %{
typedef void (SWIGSTDCALL *parley_csharp_exception_cb)(int status, const char *message);
static parley_csharp_exception_cb parley_csharp_exception_callback = 0;

#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT void SWIGSTDCALL ParleyRegisterExceptionCallback(parley_csharp_exception_cb callback) {
  parley_csharp_exception_callback = callback;
}

/* Creates the pending ParleyException (copying the message) through the registered delegate. */
static void parley_csharp_throw(int status, const char *message) {
  if (parley_csharp_exception_callback != 0) parley_csharp_exception_callback(status, message);
}
%}

%pragma(csharp) imclasscode=%{
  internal class ParleyExceptionHelper {
    internal delegate void ExceptionDelegate(int status, global::System.IntPtr message);

    // Static: the delegate outlives every call that could invoke it.
    static readonly ExceptionDelegate callback = new ExceptionDelegate(SetPending);

    [global::System.Runtime.InteropServices.DllImport("$dllimport", EntryPoint="ParleyRegisterExceptionCallback")]
    static extern void ParleyRegisterExceptionCallback(ExceptionDelegate callback);

    static void SetPending(int status, global::System.IntPtr message) {
      SWIGPendingException.Set(new ParleyException(status, Utf8.FromNative(message)));
    }

    static ParleyExceptionHelper() {
      ParleyRegisterExceptionCallback(callback);
    }
  }

  internal static readonly ParleyExceptionHelper parleyExceptionHelper = new ParleyExceptionHelper();
%}

%define PARLEY_SWIG_FAIL(STATUS, MESSAGE)
  parley_csharp_throw(STATUS, MESSAGE);
%enddef

/* ---- Handles: SafeHandle --------------------------------------------------------------- */

%define PARLEY_CSHARP_HANDLE(TYPE, CSTYPE)
%typemap(ctype) TYPE *, const TYPE * "void *"
%typemap(imtype) TYPE *, const TYPE * "CSTYPE"
%typemap(cstype) TYPE *, const TYPE * "CSTYPE"
%typemap(csin) TYPE *, const TYPE * "$csinput"
%typemap(csout, excode=SWIGEXCODE) TYPE *, const TYPE * {
    CSTYPE ret = $imcall;$excode
    return ret;
  }
%typemap(in) TYPE *, const TYPE * %{ $1 = ($1_ltype)$input; %}
%typemap(out) TYPE *, const TYPE * %{ $result = (void *)$1; %}
%enddef

PARLEY_CSHARP_HANDLE(parley_runtime, RuntimeHandle)
PARLEY_CSHARP_HANDLE(parley_listener, ListenerHandle)
PARLEY_CSHARP_HANDLE(parley_session, SessionHandle)
PARLEY_CSHARP_HANDLE(parley_budget, BudgetHandle)
%apply void *VOID_INT_PTR { parley_event *, const parley_event * }

/* The handles' ReleaseHandle() frees through these: a raw IntPtr, never a SafeHandle that
 * is being released. */
%apply void *VOID_INT_PTR { void *handle }
%inline %{
static void parley_csharp_runtime_destroy(void *handle) { parley_runtime_destroy((parley_runtime *)handle); }
static void parley_csharp_listener_destroy(void *handle) { parley_listener_destroy((parley_listener *)handle); }
static void parley_csharp_session_destroy(void *handle) { parley_session_destroy((parley_session *)handle); }
static void parley_csharp_budget_destroy(void *handle) { parley_budget_destroy((parley_budget *)handle); }
/* Ends the call of a host session whose handle is being released (see Session.Dispose). */
static int parley_csharp_session_close(void *handle) { return parley_session_close((parley_session *)handle); }
/* The state of a session a blocking wait holds by raw pointer (Session.WaitMarkAsync of a speak() mark). */
static int parley_csharp_session_state(void *handle) { return parley_session_get_state((parley_session *)handle); }
%}

/* Blocking waits run on a task thread after the caller's method has returned, so they hold
 * their own reference (DangerousAddRef on the caller's thread) and pass the raw pointer: a
 * Dispose() in between must not turn the wait into an ObjectDisposedException. */
%define PARLEY_SWIG_EXTRA_API
%{
static int parley_csharp_session_wait_mark(void *handle, const char *name, int timeout_ms) {
  return parley_swig_session_wait_mark((parley_session *)handle, name, timeout_ms);
}
static int64_t parley_csharp_listener_stop(void *handle, int drain_timeout_ms) {
  return parley_swig_listener_stop((parley_listener *)handle, drain_timeout_ms);
}
%}
PARLEY_CHECKED_HELPER(parley_csharp_session_wait_mark)
int parley_csharp_session_wait_mark(void *handle, const char *name, int timeout_ms);
PARLEY_CHECKED_HELPER(parley_csharp_listener_stop)
int64_t parley_csharp_listener_stop(void *handle, int drain_timeout_ms);
%enddef

/* ---- Strings ------------------------------------------------------------------------- */

/* A string with a NUL inside would be cut short in C: refuse it first. */
%typemap(csin) const char *, char * "Utf8.Check($csinput)"

/* ---- Audio: blittable arrays, pinned for the call ---------------------------------------- */

%typemap(ctype) const int16_t *samples "const int16_t *"
%typemap(imtype, inattributes="[global::System.Runtime.InteropServices.In]") const int16_t *samples "short[]"
%typemap(cstype) const int16_t *samples "short[]"
%typemap(csin) const int16_t *samples "$csinput"
%typemap(in) const int16_t *samples %{ $1 = ($1_ltype)$input; %}

%typemap(ctype) int16_t *out_samples "int16_t *"
%typemap(imtype, inattributes="[global::System.Runtime.InteropServices.In, global::System.Runtime.InteropServices.Out]") int16_t *out_samples "short[]"
%typemap(cstype) int16_t *out_samples "short[]"
%typemap(csin) int16_t *out_samples "$csinput"
%typemap(in) int16_t *out_samples %{ $1 = ($1_ltype)$input; %}

%typemap(ctype) const uint8_t *bytes "const uint8_t *"
%typemap(imtype, inattributes="[global::System.Runtime.InteropServices.In]") const uint8_t *bytes "byte[]"
%typemap(cstype) const uint8_t *bytes "byte[]"
%typemap(csin) const uint8_t *bytes "$csinput"
%typemap(in) const uint8_t *bytes %{ $1 = ($1_ltype)$input; %}

/* Request ids are opaque 64-bit values. */
%apply int64_t { uint64_t };
