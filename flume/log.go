package flume

import "log/slog"

// componentLogger is the logger a component uses: the one the engine handed
// it, or else the process-wide default at construction time, tagged with the
// component's kind and name so that every line says who wrote it.
func componentLogger(l *slog.Logger, kind Kind, name string) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default().With(string(kind), name)
}

// Log returns the source's logger: Logger when the engine set it (already
// tagged source=<name>), otherwise slog.Default() tagged the same way.
// Factories call it once, at construction.
func (e SourceEnv) Log() *slog.Logger { return componentLogger(e.Logger, KindSource, e.Name) }

// Log returns the sink's logger; see SourceEnv.Log.
func (e SinkEnv) Log() *slog.Logger { return componentLogger(e.Logger, KindSink, e.Name) }

// Log returns the channel's logger; see SourceEnv.Log.
func (e ChannelEnv) Log() *slog.Logger { return componentLogger(e.Logger, KindChannel, e.Name) }

// Log returns the interceptor's logger; see SourceEnv.Log.
func (e InterceptorEnv) Log() *slog.Logger {
	return componentLogger(e.Logger, KindInterceptor, e.Name)
}
