using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Parley
{
    /// <summary>
    /// An owned native pointer. The P/Invoke marshaller AddRefs it for each call, so the
    /// native destroy runs once, after the last call in flight, and a disposed handle throws
    /// ObjectDisposedException instead of reaching C. A child (listener, session) holds a
    /// reference on its runtime's handle, so even finalisation frees children first.
    /// </summary>
    internal abstract class ParleyHandle : SafeHandle
    {
        private RuntimeHandle parent;

        protected ParleyHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        internal void KeepAlive(RuntimeHandle runtime)
        {
            bool added = false;
            runtime.DangerousAddRef(ref added);
            if (added) parent = runtime;
        }

        protected abstract void Free(IntPtr pointer);

        protected override bool ReleaseHandle()
        {
            Free(handle);
            RuntimeHandle runtime = parent;
            parent = null;
            if (runtime != null) runtime.DangerousRelease();
            return true;
        }
    }

    internal sealed class RuntimeHandle : ParleyHandle
    {
        protected override void Free(IntPtr pointer) { ParleyNative.parley_csharp_runtime_destroy(pointer); }
    }

    internal sealed class ListenerHandle : ParleyHandle
    {
        protected override void Free(IntPtr pointer) { ParleyNative.parley_csharp_listener_destroy(pointer); }
    }

    internal sealed class SessionHandle : ParleyHandle
    {
        protected override void Free(IntPtr pointer) { ParleyNative.parley_csharp_session_destroy(pointer); }
    }

    internal sealed class BudgetHandle : ParleyHandle
    {
        protected override void Free(IntPtr pointer) { ParleyNative.parley_csharp_budget_destroy(pointer); }
    }
}

namespace Parley
{
    internal static class Blocking
    {
        /// <summary>
        /// Runs a blocking native wait on a dedicated thread. The handle is referenced here, on
        /// the caller's thread, and released when the wait returns: a Dispose() after this
        /// method returned cannot free the object under the wait, nor fail it.
        /// </summary>
        internal static Task<T> Run<T>(SafeHandle handle, Func<IntPtr, T> wait)
        {
            bool added = false;
            handle.DangerousAddRef(ref added); // ObjectDisposedException when already disposed
            try
            {
                IntPtr pointer = handle.DangerousGetHandle();
                return Task.Factory.StartNew(() =>
                {
                    try { return wait(pointer); }
                    finally { handle.DangerousRelease(); }
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            catch
            {
                handle.DangerousRelease();
                throw;
            }
        }
    }
}
