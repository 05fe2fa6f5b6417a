package parley_test

// Benchmarks (not run by test.sh):
//
//	cd bindings/go && go test -run '^$' -bench . -benchtime 2s
//
// BenchmarkPushAudio is the cost of one Session.PushAudio of a 20 ms frame (320 samples at
// 16 kHz) on a host-transport session (issue #7 target: <= 2 us from Go);
// BenchmarkEventDelivery is events/s through PostEvent, the poller and the channel
// (target >= 100,000 events/s).

import (
	"fmt"
	"testing"
	"time"

	parley "github.com/parley-voice/parley/bindings/go"
	"github.com/parley-voice/parley/bindings/go/internal/capi"
)

func BenchmarkPushAudio(b *testing.B) {
	rt := newRuntime(b, `{"log": {"sink": "none"}}`)
	s, err := rt.CreateHostSession(`{"behaviour": "host", "sample_rate": 16000}`)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	frame := make([]int16, 320)
	for i := range frame {
		frame[i] = int16(i * 97)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.PushAudio(frame, 16000); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "us/push")
}

// The floor: one cgo call through a generated wrapper that does no work in the engine.
func BenchmarkCgoCallFloor(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = capi.Parley_listener_port(0)
	}
}

func BenchmarkEventDelivery(b *testing.B) {
	rt := newRuntime(b, `{"event_queue_capacity": 1048576, "log": {"sink": "none"}}`)
	events := rt.Events()
	payloads := make([]string, 1024)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"seq":%d}`, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	errs := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			for {
				err := rt.PostEvent(payloads[i%len(payloads)])
				if err == nil {
					break
				}
				if !errorsIsFull(err) {
					errs <- err
					return
				}
				time.Sleep(time.Microsecond) // queue full: let the poller catch up
			}
		}
		errs <- nil
	}()
	for received := 0; received < b.N; {
		ev := <-events
		if ev.Type == parley.EventUser {
			received++
		}
	}
	elapsed := time.Since(start)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

func errorsIsFull(err error) bool {
	perr, ok := err.(*parley.Error)
	return ok && perr.Status == parley.StatusFull
}
