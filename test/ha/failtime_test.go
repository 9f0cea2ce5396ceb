package ha

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"ampsflume/amps"
)

// TestFailoverTime measures, over 20 kills, the time from the SIGKILL of
// the instance a bookmark subscriber is connected to until the subscriber
// receives its next message from the surviving instance, while spark
// publishes 1000 messages/s to the pair. It is a measurement, not a check:
// it runs only with AMPSFLUME_HA_BENCH=1 and reports p50/p99.
func TestFailoverTime(t *testing.T) {
	if os.Getenv("AMPSFLUME_HA_BENCH") == "" {
		t.Skip("set AMPSFLUME_HA_BENCH=1 to measure failover times")
	}
	const kills = 20
	a, b := startPair(t)
	msgs := filepath.Join(t.TempDir(), "messages.json")
	writeMessages(t, msgs, 1000*(kills+10))
	start(t, t.TempDir(), "spark", "publish", "-server", b.server()+","+a.server(), "-topic", "Orders", "-rate", "1000",
		"-file", msgs, "-clientname", "bench-publisher")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := amps.NewHAClient("bench-subscriber", amps.NewDefaultServerChooser(a.uri(), b.uri()),
		[]amps.HAOption{amps.WithDelayStrategy(&amps.ExponentialDelay{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond, Factor: 2})})
	store := map[string]bool{}
	last := "0|1|"
	sub, err := h.Subscribe(amps.Command{Name: amps.CmdSubscribe, Topic: "Orders", SubID: "bench"}, func() string { return last })
	if err != nil {
		t.Fatal(err)
	}
	h.Start(ctx)
	defer h.Close()
	next := func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.Command != amps.MsgPublish || store[m.Bookmark] {
				continue
			}
			store[m.Bookmark], last = true, m.Bookmark
			return
		}
	}
	var times []time.Duration
	for k := 0; k < kills; k++ {
		for i := 0; i < 200; i++ { // some traffic on the current connection
			next()
		}
		uri := h.State().URI
		victim := a
		if uri == b.uri() {
			victim = b
		}
		t0 := time.Now()
		victim.p.Kill(t)
		for h.State().URI == uri && h.State().Connected {
			next()
			if time.Since(t0) > 30*time.Second {
				t.Fatal("no failover")
			}
		}
		next()
		times = append(times, time.Since(t0))
		victim.start(t)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	p := func(q float64) time.Duration { return times[int(q*float64(len(times)-1)+0.5)] }
	fmt.Printf("failover kill→first message from the survivor over %d kills: p50 %v, p99 %v, min %v, max %v\n",
		len(times), p(0.50).Round(time.Millisecond), p(0.99).Round(time.Millisecond), times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
}
