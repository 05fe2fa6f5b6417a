// Command echo-agent answers Twilio Media Streams calls with Parley's echo behaviour and
// prints every session event as it arrives.
//
//	go run . -listen 127.0.0.1:8080              # until Ctrl-C
//	go run . -listen 127.0.0.1:0 -calls 2        # exit after two calls have ended
//
// Then call it, e.g. with the engine's load generator:
//
//	parley loadgen --url ws://127.0.0.1:8080/twilio --calls 2 --duration 3 --dtmf-every 1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	parley "github.com/parley-voice/parley/bindings/go"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address:port to accept calls on (port 0: any free port)")
	path := flag.String("path", "/twilio", "WebSocket path of the Media Streams endpoint")
	calls := flag.Int("calls", 0, "exit after this many calls have ended (0: run until interrupted)")
	drain := flag.Duration("drain", 10*time.Second, "on exit, how long live calls may continue before they are hung up")
	flag.Parse()
	log.SetFlags(0)

	if err := parley.CheckVersion(); err != nil {
		log.Fatal(err)
	}
	host, portText, err := net.SplitHostPort(*listen)
	if err != nil {
		log.Fatalf("-listen %q: %v", *listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		log.Fatalf("-listen %q: bad port", *listen)
	}

	rt, err := parley.New(`{"io_threads": 2, "log": {"level": "warn"}}`)
	if err != nil {
		log.Fatal(err)
	}
	config, _ := json.Marshal(map[string]any{
		"transport": "twilio", "address": host, "port": port, "path": *path, "behaviour": "echo",
	})
	listener, err := rt.Listen(string(config))
	if err != nil {
		log.Fatal(err) // e.g. "parley: Runtime.Listen: cannot listen on 127.0.0.1:8080: Address already in use"
	}
	fmt.Printf("parley %s: listening on ws://%s%s\n", parley.Version(),
		net.JoinHostPort(host, strconv.Itoa(listener.Port())), *path)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ended := 0
	for running := true; running; {
		select {
		case ev := <-rt.Events():
			printEvent(ev)
			if ev.Type == parley.EventSessionStopped {
				ended++
				running = *calls == 0 || ended < *calls
			}
		case <-ctx.Done():
			running = false
		}
	}

	// Stop accepting, let live calls end for up to -drain, then hang up the rest.
	shutdown, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	hungUp, err := listener.Stop(shutdown)
	if err != nil {
		log.Print(err)
	}
	if err := rt.Close(shutdown); err != nil {
		log.Print(err)
	}
	fmt.Printf("%d calls ended, %d hung up at shutdown\n", ended, hungUp)
}

func printEvent(ev parley.Event) {
	line := fmt.Sprintf("%s %-16s %s", time.Now().Format("15:04:05.000"), ev.Type, ev.SessionID)
	switch ev.Type {
	case parley.EventSessionStarted:
		var p parley.SessionStarted
		if ev.Decode(&p) == nil {
			line += fmt.Sprintf(" call %s, stream %s, %d Hz", p.CallID, p.StreamID, p.SampleRate)
		}
	case parley.EventDTMF:
		var p parley.DTMF
		if ev.Decode(&p) == nil {
			line += " digit " + p.Digit
		}
	case parley.EventMark:
		var p parley.Mark
		if ev.Decode(&p) == nil {
			line += fmt.Sprintf(" mark %q %s", p.Name, p.Outcome)
		}
	case parley.EventSessionStopped:
		var p parley.SessionStopped
		if ev.Decode(&p) == nil {
			line += fmt.Sprintf(" %q: %d frames in, %d out, %d DTMF, %d/%d marks played",
				p.Reason, p.CallerFrames, p.AgentFrames, p.DTMF, p.MarksPlayed, p.MarksSent)
		}
	default:
		line += " " + string(ev.Payload)
	}
	fmt.Println(line)
}
