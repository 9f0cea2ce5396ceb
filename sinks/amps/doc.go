// Package amps is the AMPS Flume sink (type amps, class
// com.crankuptheamps.flume.AMPSFlumeSink): it takes batches of events from
// its channel and publishes their bodies to an AMPS topic, through an HA
// client that reconnects on its own.
//
// Guarantees: a take is committed only after the server acknowledged every
// publish of the batch — with a flush, or, with a publish store
// (pubStoreType memory or file), with persisted acks for the batch's
// sequence numbers. A failed batch is rolled back and retried with the same
// sequence numbers, which the server de-duplicates by client name, so a
// batch whose acks were lost is not published twice.
package amps
