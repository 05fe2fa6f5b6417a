// Command agent is a small Parley voice agent in Go: it answers Twilio Media Streams calls
// with the appointment agent (pocketsphinx with the appointment grammar, the scripted LLM
// flow, espeak-ng), which greets the caller, books an appointment through the host's
// book_appointment tool and hangs up. It prints what happens on each call:
//
//	listening on ws://127.0.0.1:8080/twilio
//	call started: S4df7e845000000
//	agent: Thanks for calling Parley Dental. How can I help?
//	caller: i would like to book an appointment          (final transcripts only)
//	agent: Sure, I can help with that. What day would you like to come in?
//	tool call: book_appointment({"day":"monday",...}) -> {"booked":true}
//	call ended: S4df7e845000000 (caller hung up (stop))
//
// and exits after -calls N calls, or on SIGINT/SIGTERM.
//
//	go run . -port 8080                # until Ctrl-C; -port 0 picks a free port
//	go run . -port 0 -calls 2          # exit after two calls have ended
//
// The flow and grammar default to examples/flows/appointment.json and
// examples/grammars/appointment.jsgf, looked up from the current directory upwards (so
// both the repository root and examples/go work); -flow and -grammar name other files.
// Call it, e.g. with the engine's load generator and a recording of speech:
//
//	parley loadgen --url ws://127.0.0.1:8080/twilio --calls 2 --duration 8 --wav speech.wav
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	parley "github.com/parley-voice/parley/bindings/go"
)

// bookAppointment is the host tool the scripted flow calls once the caller confirms.
var bookAppointment = map[string]any{
	"name":        "book_appointment",
	"description": "Books the appointment in the practice's calendar",
	"parameters": map[string]any{
		"type": "object",
		"properties": map[string]any{
			"day":  map[string]any{"type": "string"},
			"time": map[string]any{"type": "string"},
			"name": map[string]any{"type": "string"},
		},
	},
	"timeout_ms": 4000,
	"fallback":   "Sorry, I can't book that right now.",
}

func main() {
	port := flag.Int("port", 8080, "port to accept calls on, on 127.0.0.1 (0: any free port)")
	calls := flag.Int("calls", 0, "exit after this many calls have ended (0: run until interrupted)")
	flow := flag.String("flow", "", "the scripted LLM's flow (default: examples/flows/appointment.json)")
	grammar := flag.String("grammar", "", "pocketsphinx's JSGF grammar (default: examples/grammars/appointment.jsgf)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("agent: ")

	if err := parley.CheckVersion(); err != nil {
		log.Fatal(err)
	}
	if *flow == "" {
		*flow = findUp(filepath.Join("examples", "flows", "appointment.json"))
	}
	if *grammar == "" {
		*grammar = findUp(filepath.Join("examples", "grammars", "appointment.jsgf"))
	}

	rt, err := parley.New(`{"log": {"level": "warn"}}`)
	if err != nil {
		log.Fatal(err)
	}
	config, err := json.Marshal(map[string]any{
		"transport": "twilio", "address": "127.0.0.1", "port": *port, "path": "/twilio",
		"behaviour": "agent",
		"agent": map[string]any{
			"stt":            map[string]any{"provider": "pocketsphinx", "grammar": *grammar},
			"llm":            map[string]any{"provider": "scripted", "flow": *flow},
			"tts":            map[string]any{"provider": "espeak"},
			"greet_from_llm": true, // the flow's first line greets the caller
			"tools":          []any{bookAppointment},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	listener, err := rt.Listen(string(config))
	if err != nil {
		log.Fatal(err) // e.g. a missing flow file, or the port in use
	}
	fmt.Printf("parley %s\n", parley.Version())
	fmt.Printf("listening on ws://127.0.0.1:%d/twilio\n", listener.Port())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ended := 0
	for running := *calls == 0 || ended < *calls; running; {
		select {
		case ev, ok := <-rt.Events():
			if !ok {
				running = false
				break
			}
			if handle(rt, ev) {
				ended++
				running = *calls == 0 || ended < *calls
			}
		case <-ctx.Done():
			running = false
		}
	}

	// Calls still live get two seconds to finish, then are hung up.
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	hungUp, err := listener.Stop(shutdown)
	if err != nil {
		log.Print(err)
	}
	if stats, err := rt.Stats(); err == nil {
		fmt.Printf("stats: %d calls, %d turns, %d tool calls, voice-to-voice p50 %d ms (%d answers)\n",
			stats.Calls.Ended, stats.Agent.Turns, stats.Agent.ToolCalls,
			stats.LatencyMS.VoiceToVoice.P50, stats.LatencyMS.VoiceToVoice.Count)
	}
	_ = rt.Close(shutdown)
	fmt.Printf("done: %d call(s) ended, %d hung up\n", ended, hungUp)
}

// handle prints one event and answers tool calls; it returns true when a call ended.
func handle(rt *parley.Runtime, ev parley.Event) bool {
	switch ev.Type {
	case parley.EventSessionStarted:
		fmt.Printf("call started: %s\n", ev.SessionID)
	case parley.EventSessionStopped:
		var p parley.SessionStopped
		_ = ev.Decode(&p)
		fmt.Printf("call ended: %s (%s)\n", ev.SessionID, p.Reason)
		return true
	case parley.EventSessionRejected:
		fmt.Printf("call rejected: %s\n", ev.Payload)
	case parley.EventSessionError:
		var p parley.SessionError
		_ = ev.Decode(&p)
		fmt.Printf("call error: %s: %s\n", ev.SessionID, p.Message)
	case parley.EventTranscript:
		var line parley.Transcript
		if ev.Decode(&line) != nil || !line.Final { // partials: still speaking
			return false
		}
		who := "agent"
		if line.Role == "user" {
			who = "caller"
		}
		fmt.Printf("%s: %s\n", who, line.Text)
	case parley.EventTurn:
		var turn parley.Turn
		if ev.Decode(&turn) == nil {
			interrupted := ""
			if turn.Interrupted {
				interrupted = " (interrupted)"
			}
			fmt.Printf("turn %d ended%s\n", turn.Turn, interrupted)
		}
	case parley.EventToolCall:
		answerToolCall(rt, ev)
	case parley.EventRuntimeError:
		log.Printf("runtime error: %s", ev.Payload)
	}
	return false
}

// answerToolCall books the appointment. A real agent would look at the name and arguments
// and do the work (within the tool's timeout_ms).
func answerToolCall(rt *parley.Runtime, ev parley.Event) {
	var call parley.ToolCall
	if err := ev.Decode(&call); err != nil {
		log.Printf("tool call %s: %v", ev.Payload, err)
		return
	}
	const result = `{"booked":true}`
	session, err := rt.OpenSession(ev.SessionID)
	if err == nil {
		err = session.ToolResult(call.ID, result)
		_ = session.Close() // releases the handle; the call goes on
	}
	if err != nil {
		log.Printf("answering %s: %v", call.Name, err) // the call may have ended meanwhile
		return
	}
	fmt.Printf("tool call: %s(%s) -> %s\n", call.Name, call.Arguments, result)
}

// findUp looks for rel in the current directory and its parents; rel itself if none has it
// (the listener then reports the missing file).
func findUp(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return rel
	}
	for {
		candidate := filepath.Join(dir, rel)
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		} else if !errors.Is(err, os.ErrNotExist) {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return rel
		}
		dir = parent
	}
}
