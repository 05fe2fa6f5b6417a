using System;
using System.Threading;
using System.Threading.Tasks;

namespace Parley
{
    /// <summary>A listener accepting calls of one transport (today: Twilio Media Streams).</summary>
    public sealed class Listener : IDisposable
    {
        private readonly Runtime runtime;
        private readonly ListenerHandle handle;

        internal Listener(Runtime runtime, ListenerHandle handle)
        {
            this.runtime = runtime;
            this.handle = handle;
            Port = ParleyNative.parley_listener_port(handle);
            Id = ParleyNative.parley_listener_id(handle);
        }

        /// <summary>The bound TCP port (the real one when the configuration said 0).</summary>
        public int Port { get; private set; }

        /// <summary>The listener's id, as in session events.</summary>
        public string Id { get; private set; }

        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>
        /// Stops accepting calls and lets live ones end for up to <paramref name="drain"/> (null:
        /// forever); calls still live then are hung up. Completes with how many were hung up.
        /// </summary>
        public Task<long> StopAsync(TimeSpan? drain)
        {
            int drainMs = Timeouts.Millis(drain);
            return Blocking.Run(handle, pointer => ParleyNative.parley_csharp_listener_stop(pointer, drainMs));
        }

        /// <summary>Stops accepting (without draining) and frees the listener; live calls carry on. Idempotent.</summary>
        public void Dispose()
        {
            handle.Dispose();
            runtime.Forget(this);
        }
    }
}
