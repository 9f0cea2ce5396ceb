// Package seq is Flume's sequence generator source (type "seq",
// org.apache.flume.source.SequenceGeneratorSource): a pollable source whose
// events have as body the decimal text of a counter starting at 0, and no
// headers. It is for testing pipelines.
//
// Guarantees: the sequence has no gaps and no repeats within one run. A batch
// that the channel processor refuses (a full channel, for instance) is kept
// and offered again, unchanged, on the next poll; the counter only moves
// past a batch once it was delivered. With totalEvents set, exactly that many
// events are delivered and the source then reports Backoff.
package seq
