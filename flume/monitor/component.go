package monitor

import "ampsflume/flume"

// Component types, as Flume writes them in the JSON keys and the Type field.
const (
	TypeSource  = "SOURCE"
	TypeChannel = "CHANNEL"
	TypeSink    = "SINK"
)

// Component is one component's current counters.
type Component struct {
	Type    string // TypeSource, TypeChannel or TypeSink
	Name    string
	Metrics []flume.Metric
}

// Gatherer returns the current counters of every component.
type Gatherer interface {
	Gather() []Component
}

// GathererFunc adapts a function to Gatherer.
type GathererFunc func() []Component

// Gather calls f.
func (f GathererFunc) Gather() []Component { return f() }
