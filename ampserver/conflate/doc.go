// Package conflate implements AMPS subscription conflation: for each
// conflation key, the first update is held for one interval, later updates
// in that interval replace it (or merge into it, for delta subscriptions),
// and the held update is delivered when the interval ends. Each key thus
// gets at most one delivery per interval, and the first update of a quiet
// key arrives one interval late, as the AMPS documentation says ("the first
// update for a given key will arrive after the conflation interval").
//
// Timing. An update held at time t is due at t+interval. A single timer
// (from an injectable Clock) fires for the earliest due update; in addition
// every Offer first delivers the updates already due at the current time,
// so an update arriving exactly when the previous one of its key falls due
// starts a new interval instead of replacing it. This makes the outcome
// depend only on the clock's readings, never on goroutine scheduling: with
// a 1 s interval and updates to one key at t=0 s and t=1 s, both are
// delivered (at 1 s and 2 s). The article's example depends on exactly this.
//
// On a real clock "exactly when" is a race: with updates paced at the
// interval, the second one is read by the clock after the first one's due
// time only by the publisher's timer latency (typically 0.1 to 1 ms),
// and any extra delay of the first update on its way to Offer (scheduling,
// a first write to a new file) can undo that margin and conflate the two.
// Config.Slack widens the instant: an update arriving up to Slack before
// its key falls due is treated as arriving at the due instant.
//
// Ordering. Deliveries happen in due-time order (which is the order in
// which keys were first held) and never concurrently: the deliver callback
// is called by one goroutine at a time, either the timer's or the one
// calling Offer. Order across keys is otherwise not guaranteed by AMPS.
//
// A Conflater is safe for concurrent use. Close stops the timer and drops
// what is held.
package conflate
