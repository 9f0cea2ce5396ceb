// Package docgen renders the configuration reference (docs/reference/*.md)
// from the component specs: the flume registry (sources, channels, sinks,
// interceptors), the selectors and sink processors built into flume/config,
// and the serializers. It is also the catalogue `flume-ng help TYPE` looks
// types up in, so the reference and the help always say the same thing.
//
// Rendering is deterministic: the same registrations give byte-identical
// pages, which is what lets a test compare the committed pages with a fresh
// rendering. Callers link the components they want documented (the
// generator and its test import ampsflume/plugins).
package docgen
