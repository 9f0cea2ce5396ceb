// Package channeltest is the conformance suite every flume.Channel
// implementation runs from its own tests:
//
//	func TestConformance(t *testing.T) {
//		channeltest.Run(t, func(t *testing.T, capacity, txCapacity int) flume.Channel {
//			return newMyChannel(t, capacity, txCapacity, 20*time.Millisecond)
//		})
//	}
//
// The factory returns a configured channel that has not been started; Run
// starts it and stops it when the subtest ends. The factory must configure a
// short keep-alive (tens of milliseconds): several cases take from an empty
// channel or commit into a full one and wait that long for the answer.
//
// The suite checks the transaction contract of package flume: puts are
// invisible until commit, a rollback discards puts and returns takes to the
// head in order, capacity is enforced at commit (or put) with an error that
// matches flume.ErrChannelFull and keeps nothing of the failed transaction,
// transactionCapacity bounds puts and takes with flume.ErrTransactionFull,
// ordering is FIFO, concurrent producers and consumers see every event
// exactly once, closing an open transaction rolls it back, and a stopped
// channel refuses work with flume.ErrChannelClosed.
package channeltest
