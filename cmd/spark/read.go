package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"ampsflume/amps"
)

// formatter renders a message with the -format tags; without a format the
// output is the payload alone.
type formatter struct{ format string }

func (f formatter) render(m *amps.Message) string {
	if f.format == "" {
		return string(m.Data)
	}
	cmd := m.Command
	return tagReplacer(m, cmd).Replace(f.format)
}

func tagReplacer(m *amps.Message, cmd string) *strings.Replacer {
	return strings.NewReplacer(
		"{bookmark}", m.Bookmark,
		"{command}", cmd,
		"{correlation_id}", m.CorrelationID,
		"{data}", string(m.Data),
		"{expiration}", m.Expiration,
		"{lease_period}", m.LeasePeriod,
		"{length}", strconv.Itoa(len(m.Data)),
		"{sowkey}", m.SowKey,
		"{user_id}", m.UserID,
		"{timestamp}", m.Timestamp,
		"{topic}", m.Topic,
	)
}

// printStream prints the data messages of s until it ends or ctx is done,
// flushing whenever it has caught up with the stream. It returns how many
// messages it printed.
func printStream(ctx context.Context, e *env, s *amps.MessageStream, f formatter, each func(*amps.Message) error) (int, error) {
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	defer w.Flush()
	n := 0
	for {
		m, err := s.Next(ctx)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return n, nil // interrupted: a normal way to stop spark
			}
			return n, err
		}
		if m.IsData() {
			if _, err := fmt.Fprintln(w, f.render(m)); err != nil {
				return n, err
			}
			n++
			if each != nil {
				if err := each(m); err != nil {
					return n, err
				}
			}
		}
		// Flush once caught up, so a live subscription prints promptly.
		if len(s.C()) == 0 {
			if err := w.Flush(); err != nil {
				return n, err
			}
		}
	}
}

func runSow(ctx context.Context, e *env, o *opts) error {
	c, _, err := connect(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	s, err := c.Execute(ctx, amps.Command{Name: amps.CmdSow, Topic: o.topic, Filter: o.filter, Options: o.options,
		OrderBy: o.orderBy, TopN: o.topN, BatchSize: o.batchSize})
	if err != nil {
		return err
	}
	n, err := printStream(ctx, e, s, formatter{o.format}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Total messages received: %d (%s/s)\n", n, rateString(n, time.Since(start)))
	return nil
}

func runSubscribe(ctx context.Context, e *env, o *opts) error {
	name := amps.CmdSubscribe
	if o.delta {
		name = amps.CmdDeltaSubscribe
	}
	options := o.options
	if o.backlog > 0 {
		options = joinOpts(options, "max_backlog="+strconv.Itoa(o.backlog))
	}
	return subscribeAndPrint(ctx, e, o, amps.Command{Name: name, Topic: o.topic, Filter: o.filter, Options: options})
}

func runSowAndSubscribe(ctx context.Context, e *env, o *opts) error {
	name := amps.CmdSowAndSubscribe
	if o.delta {
		name = amps.CmdSowAndDeltaSubscribe
	}
	return subscribeAndPrint(ctx, e, o, amps.Command{Name: name, Topic: o.topic, Filter: o.filter,
		Options: o.options, OrderBy: o.orderBy, TopN: o.topN, BatchSize: o.batchSize})
}

// subscribeAndPrint runs until interrupted or disconnected.
func subscribeAndPrint(ctx context.Context, e *env, o *opts, cmd amps.Command) error {
	c, _, err := connect(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.Execute(ctx, cmd)
	if err != nil {
		return err
	}
	var each func(*amps.Message) error
	if o.ack {
		// Queue messages are acknowledged by removing them by bookmark.
		each = func(m *amps.Message) error {
			if m.Bookmark == "" || m.LeasePeriod == "" {
				return nil
			}
			// Not waiting for an answer: the answer is read by the same
			// connection whose messages this loop consumes.
			return c.Send(amps.Command{Name: amps.CmdSowDelete, Topic: m.Topic, Bookmark: m.Bookmark})
		}
	}
	_, err = printStream(ctx, e, s, formatter{o.format}, each)
	return err
}

func joinOpts(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}
