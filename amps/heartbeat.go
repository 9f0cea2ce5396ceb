package amps

import (
	"fmt"
	"time"

	"ampsflume/amps/wire"
)

// startHeartbeat asks the server for heartbeats and starts our own beat
// timer and the read silence timeout.
func (cn *conn) startHeartbeat(interval, timeout time.Duration) error {
	var err error
	cn.hbOnce.Do(func() {
		secs := int((interval + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		h := wire.Header{Command: CmdHeartbeat, CommandID: cn.c.nextCID(), Options: fmt.Sprintf("start,%d", secs)}
		if err = cn.send(&h, nil); err != nil {
			return
		}
		cn.readTimeout.Store(int64(timeout))
		// Arm the read that is already waiting; later reads arm themselves.
		_ = cn.nc.SetReadDeadline(time.Now().Add(timeout))
		cn.wg.Add(1)
		go cn.beatLoop(interval)
	})
	return err
}

// beatLoop sends a beat whenever nothing else was sent during an interval.
// It runs apart from the reader, so a stalled consumer does not silence us.
func (cn *conn) beatLoop(interval time.Duration) {
	defer cn.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	last := cn.queuedFrames()
	for {
		select {
		case <-cn.done:
			return
		case <-t.C:
			now := cn.queuedFrames()
			if now == last {
				if cn.beat() != nil {
					return
				}
				now = cn.queuedFrames()
			}
			last = now
		}
	}
}

func (cn *conn) beat() error {
	h := wire.Header{Command: CmdHeartbeat, Options: "beat"}
	return cn.send(&h, nil)
}
