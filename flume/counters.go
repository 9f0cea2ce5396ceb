package flume

import (
	"sync/atomic"
	"time"
)

// Metric is one named counter value, as reported by the monitoring endpoints
// under Flume's names (EventReceivedCount, ChannelSize, ...).
type Metric struct {
	Name  string
	Value float64
}

// lifecycleTimes records StartTime and StopTime, which every Flume MBean has.
type lifecycleTimes struct {
	start, stop atomic.Int64 // unix milliseconds; 0 = never
}

// MarkStarted records the start time.
func (l *lifecycleTimes) MarkStarted() { l.start.Store(time.Now().UnixMilli()); l.stop.Store(0) }

// MarkStopped records the stop time.
func (l *lifecycleTimes) MarkStopped() { l.stop.Store(time.Now().UnixMilli()) }

func (l *lifecycleTimes) times() []Metric {
	return []Metric{{"StartTime", float64(l.start.Load())}, {"StopTime", float64(l.stop.Load())}}
}

// SourceCounter holds Flume's SourceCounter values for one source.
type SourceCounter struct {
	lifecycleTimes
	EventReceived, EventAccepted             atomic.Int64
	AppendReceived, AppendAccepted           atomic.Int64
	AppendBatchReceived, AppendBatchAccepted atomic.Int64
	OpenConnection                           atomic.Int64
	EventReadFail, ChannelWriteFail          atomic.Int64
	GenericProcessingFail                    atomic.Int64
}

// Metrics returns the counter under Flume's names.
func (c *SourceCounter) Metrics() []Metric {
	return append([]Metric{
		{"EventReceivedCount", float64(c.EventReceived.Load())},
		{"EventAcceptedCount", float64(c.EventAccepted.Load())},
		{"AppendReceivedCount", float64(c.AppendReceived.Load())},
		{"AppendAcceptedCount", float64(c.AppendAccepted.Load())},
		{"AppendBatchReceivedCount", float64(c.AppendBatchReceived.Load())},
		{"AppendBatchAcceptedCount", float64(c.AppendBatchAccepted.Load())},
		{"OpenConnectionCount", float64(c.OpenConnection.Load())},
		{"EventReadFail", float64(c.EventReadFail.Load())},
		{"ChannelWriteFail", float64(c.ChannelWriteFail.Load())},
		{"GenericProcessingFail", float64(c.GenericProcessingFail.Load())},
	}, c.times()...)
}

// ChannelCounter holds Flume's ChannelCounter values for one channel. Size and
// Capacity are read from the channel itself when metrics are collected.
type ChannelCounter struct {
	lifecycleTimes
	EventPutAttempt, EventPutSuccess   atomic.Int64
	EventTakeAttempt, EventTakeSuccess atomic.Int64
	EventPutError, EventTakeError      atomic.Int64
	Rollback                           atomic.Int64
}

// Metrics returns the counter under Flume's names, with the size and capacity
// given by the caller.
func (c *ChannelCounter) Metrics(size, capacity int) []Metric {
	fill := 0.0
	if capacity > 0 {
		fill = float64(size) / float64(capacity) * 100
	}
	return append([]Metric{
		{"ChannelSize", float64(size)},
		{"ChannelCapacity", float64(capacity)},
		{"ChannelFillPercentage", fill},
		{"EventPutAttemptCount", float64(c.EventPutAttempt.Load())},
		{"EventPutSuccessCount", float64(c.EventPutSuccess.Load())},
		{"EventTakeAttemptCount", float64(c.EventTakeAttempt.Load())},
		{"EventTakeSuccessCount", float64(c.EventTakeSuccess.Load())},
		{"EventPutErrorCount", float64(c.EventPutError.Load())},
		{"EventTakeErrorCount", float64(c.EventTakeError.Load())},
		{"RollbackCount", float64(c.Rollback.Load())},
	}, c.times()...)
}

// SinkCounter holds Flume's SinkCounter values for one sink.
type SinkCounter struct {
	lifecycleTimes
	ConnectionCreated, ConnectionClosed, ConnectionFailed atomic.Int64
	BatchEmpty, BatchUnderflow, BatchComplete             atomic.Int64
	EventDrainAttempt, EventDrainSuccess                  atomic.Int64
	EventWriteFail, ChannelReadFail                       atomic.Int64
}

// Metrics returns the counter under Flume's names.
func (c *SinkCounter) Metrics() []Metric {
	return append([]Metric{
		{"ConnectionCreatedCount", float64(c.ConnectionCreated.Load())},
		{"ConnectionClosedCount", float64(c.ConnectionClosed.Load())},
		{"ConnectionFailedCount", float64(c.ConnectionFailed.Load())},
		{"BatchEmptyCount", float64(c.BatchEmpty.Load())},
		{"BatchUnderflowCount", float64(c.BatchUnderflow.Load())},
		{"BatchCompleteCount", float64(c.BatchComplete.Load())},
		{"EventDrainAttemptCount", float64(c.EventDrainAttempt.Load())},
		{"EventDrainSuccessCount", float64(c.EventDrainSuccess.Load())},
		{"EventWriteFail", float64(c.EventWriteFail.Load())},
		{"ChannelReadFail", float64(c.ChannelReadFail.Load())},
	}, c.times()...)
}
