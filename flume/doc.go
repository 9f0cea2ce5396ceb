// Package flume is the plugin API of the agent: the Event that flows through
// it, the Source, Channel and Sink contracts, the Transaction that moves
// events between them, the typed configuration Context handed to every
// component, the monitoring counters, and the registry that maps the type
// names found in Flume configuration files (short aliases such as "memory" and
// Java class names such as "org.apache.flume.channel.MemoryChannel") to Go
// factories.
//
// Plugin authors depend on this package only; the engine that wires
// components together lives in flume/agent and is never visible to them.
//
// Guarantees a component may rely on, and must give:
//   - An Event's Headers map is never nil.
//   - A Transaction is used by one goroutine at a time. A rollback returns the
//     events it took to the head of the channel in the order they were taken.
//   - A commit that fails because the channel has no room returns an error
//     that matches ErrChannelFull with errors.Is; nothing of that transaction
//     is kept.
package flume
