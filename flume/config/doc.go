// Package config reads Flume agent configuration files: the Java .properties
// format (separators, comments, continuation lines, escapes), Flume's key
// layout (<agent>.sources, <agent>.sources.<name>.<key>, ...), ${...}
// substitution, and a validation far stricter than Flume's.
//
// Flume drops a broken component with a log line and starts whatever is
// left; this package instead reports every problem at once, each with the
// file:line, the component and the key, and the caller refuses to start when
// any is an error. Typos in keys are warnings with a "did you mean"
// suggestion drawn from the component's registered key Spec.
//
// Every property keeps the file and line it was written on; components get
// their keys through a flume.Context that carries those locations, so that a
// factory's own errors point at the right line too.
package config
